"""Server-sent events from an upstream, parsed incrementally from raw bytes (pure).

:class:`Parser` splits a byte stream into events (``data`` payloads; comment lines and other
fields are dropped), whatever the chunking. :class:`StreamStats` follows an OpenAI-style chat
completion stream, one ``data`` payload at a time: first and last token, token count, usage,
finish reason, ``[DONE]`` and an error chunk.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

_decode = msgspec.json.decode

#: Delta fields that carry a token: visible text, or reasoning under either common name.
TOKEN_FIELDS = ("content", "reasoning", "reasoning_content", "refusal")
DONE = b"[DONE]"
MAX_EVENT_BYTES = 16 << 20


class TooLarge(ValueError):
    """An event past :data:`MAX_EVENT_BYTES` without its end."""


class Parser:
    """Feed bytes, get complete ``data`` payloads (bytes, one per event, lines joined by
    ``\\n`` as the SSE spec says)."""

    __slots__ = ("_buf", "_data")

    def __init__(self) -> None:
        self._buf = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        buf = self._buf + chunk if self._buf else chunk
        out: list[bytes] = []
        start = 0
        while True:
            end = buf.find(b"\n", start)
            if end < 0:
                break
            line = buf[start:end]
            start = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            if not line:
                if self._data:
                    out.append(b"\n".join(self._data))
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            # comments (":") and other fields (event, id, retry) are not needed
        self._buf = buf[start:]
        if len(self._buf) > MAX_EVENT_BYTES:
            raise TooLarge("an event of more than 16 MiB")
        return out

    def close(self) -> list[bytes]:
        """Whatever event the stream ended in the middle of (no blank line after it)."""
        rest = self.feed(b"\n\n") if (self._buf or self._data) else []
        return rest


class StreamStats:
    """What a chat completion stream showed, fed one decoded chunk at a time."""

    __slots__ = ("deltas", "done", "error", "finish_reason", "first", "last", "usage")

    def __init__(self) -> None:
        self.first: float | None = None  # perf_counter of the first token
        self.last: float | None = None
        self.deltas = 0
        self.usage: dict[str, Any] | None = None
        self.finish_reason: str | None = None
        self.done = False  # [DONE] was sent
        self.error: Any = None  # the error object of an error chunk

    @property
    def finished(self) -> bool:
        return self.finish_reason is not None

    @property
    def usage_tokens(self) -> int | None:
        tokens = (self.usage or {}).get("completion_tokens")
        return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None

    def feed(self, payload: bytes | str, now: float) -> dict[str, Any] | None:
        """Take one ``data`` payload; returns the decoded chunk (None for ``[DONE]``).
        Raises ValueError (json) or TypeError for a payload that is not a JSON object."""
        if payload in (DONE, "[DONE]"):
            self.done = True
            return None
        try:
            chunk = _decode(payload)
        except msgspec.DecodeError:
            # msgspec is strict where the standard library is lenient (integers past 64
            # bits, NaN): the slow reader decides, so both accept the same chunks.
            chunk = json.loads(payload)
        if not isinstance(chunk, dict):
            raise TypeError("a stream chunk is not a JSON object")
        self.see(chunk, now)
        return chunk

    def see(self, chunk: dict[str, Any], now: float) -> None:
        if chunk.get("error"):
            self.error = chunk["error"]
            return
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict) and (any(
                isinstance(delta.get(f), str) and delta[f] for f in TOKEN_FIELDS
            ) or delta.get("tool_calls")):
                self.deltas += 1
                if self.first is None:
                    self.first = now
                self.last = now
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self.finish_reason = reason
