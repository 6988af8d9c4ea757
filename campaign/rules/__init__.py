"""The rules `campaign check` applies, one module per concern.

Each rule reads a :class:`PostCheck` and reports through its sink; none stops at
the first problem, so a communicator sees everything that is wrong at once.
"""
