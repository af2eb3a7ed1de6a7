"""The historical API's handlers, one module per responsibility.

``jobs`` (submit, list, show, cancel), ``results`` (a completed job's rows),
``streams`` (the two SSE feeds: job events and live readings), ``dashboard``
(what the page asks about its user and stations) and ``assets`` (the page itself).
Handlers raise :mod:`base.http.errors`; ``app.py`` answers them in one place.
"""
