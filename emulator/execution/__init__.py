"""Execution: invocations, environments and the pool that matches them."""
