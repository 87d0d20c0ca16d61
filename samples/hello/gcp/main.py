"""Hello, Cloud Functions: an HTTP function on Google's functions-framework."""

import functions_framework


@functions_framework.http
def hello_http(request):
    name = request.args.get("name") or (request.get_json(silent=True) or {}).get("name") or "world"
    print(f"greeting {name}")
    return {"message": f"Hello, {name}!", "path": request.path}
