"""Events: what Google's services send to functions, and getting it there reliably."""
