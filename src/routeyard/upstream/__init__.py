"""Talking to providers' OpenAI-compatible APIs: URLs, keys, the SSE parser and the one
pooled HTTP client a process shares between its probes and its router."""
