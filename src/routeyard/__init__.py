"""routeyard: a self-hosted model endpoint registry serving OpenRouter's discovery API."""

__version__ = "0.1.0"
