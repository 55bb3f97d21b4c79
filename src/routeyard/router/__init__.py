"""The router: OpenRouter's chat completions across the catalog (docs/routing.md).

``preferences`` (the request's routing fields, typed), ``select`` (pure: the ordered attempts
and why every other endpoint is left out), ``cost`` (pure: the price of an answer),
``forward`` (the attempts, with fallbacks, streamed), ``record`` (one record per request).
"""
