"""The router's HTTP surfaces, one module each: Invoke API, Runtime API, admin."""
