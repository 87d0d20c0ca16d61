import json

import functions_framework


@functions_framework.http
def tick(request):
    headers = {k.lower(): v for k, v in request.headers.items()}
    print("CALLED " + json.dumps({"method": request.method, "headers": headers, "body": request.get_data(as_text=True)}))
    return "ok"
