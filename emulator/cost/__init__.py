"""``emu cost``: what the measured invocations would cost on each cloud.

``prices`` holds the price table as data, each product citing its page and the
date it was read. ``model`` turns durations, memory and a monthly volume into a
``Bill`` of line items. ``report`` renders bills and per-function measurements as
an aligned table or JSON. All three are pure: the invocation records are read
elsewhere and handed in as ``model.Usage`` values.
"""
