"""Logging setup: plain text or JSON lines, and the escaping every logged field gets."""

from __future__ import annotations

import json
import logging
import sys
import time

# Attributes of a record that the JSON format carries as fields of their own (the access
# log's, routeyard.accesslog.record_fields; request_id on any line).
RECORD_FIELDS = ("request_id", "method", "path", "status", "duration_us", "duration_ms",
                 "key_name", "model", "provider", "attempts")


def _escape_char(c: str) -> str:
    if c == "\\":
        return "\\\\"
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape(text: str) -> str:
    """``text`` with every character that is not printable (control characters, line and
    paragraph separators, ...) and the backslash written as a backslash escape
    (``\\x0a``, ``\\u2028``, ``\\\\``), so that a logged value can neither break a line nor
    pass for another field. Printable text is returned as it is (the usual case: two
    C-speed checks)."""
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(c if c.isprintable() and c != "\\" else _escape_char(c) for c in text)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in RECORD_FIELDS:
            if hasattr(record, key):
                data[key] = getattr(record, key)
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data)


class Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`setup` installs. The access log writes its pre-formatted lines
    through :meth:`write_text` (one write and one flush per batch, under the handler's
    lock) instead of a record per line."""

    def write_text(self, text: str) -> None:
        self.acquire()
        try:
            self.stream.write(text)
            self.flush()
        finally:
            self.release()


def handlers_of(logger: logging.Logger) -> tuple[list[Handler], list[logging.Handler]]:
    """The handlers a record of ``logger`` reaches, as ``Logger.callHandlers`` walks them:
    (those :func:`setup` installed, any others)."""
    ours: list[Handler] = []
    foreign: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        for handler in current.handlers:
            (ours if isinstance(handler, Handler) else foreign).append(handler)  # type: ignore[arg-type]
        current = current.parent if current.propagate else None
    return ours, foreign


def setup(level: str = "info", fmt: str = "text") -> None:
    handler = Handler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JSONFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("routeyard")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
