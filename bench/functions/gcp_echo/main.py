def echo(request):
    return request.get_data() or b"{}"
