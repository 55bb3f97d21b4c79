"""The access log: one line per request, formatted and written off the request path.

The request path only appends a tuple to a bounded queue (:meth:`AccessLog.add`, a
``deque.append``: well under a microsecond). A writer thread wakes every ``interval``
seconds, formats what is queued in chunks and writes each chunk to the log stream in one
call (which releases the GIL), so neither the formatting nor the write runs on the event
loop. Measured against the alternatives in ``bench/RESULTS.md`` ("The access log").

Each line carries the method, the path (never the query string), the status, the duration
(in microseconds below a millisecond), the request id, the name of the caller's key (never
the key) and the :class:`AccessFields` a route filled in. Every field is passed through
:func:`routeyard.logs.escape`, so a client cannot forge a line with control characters.

Routes add fields through :func:`fields_of`: ``fields_of(scope).model = "openai/gpt-4o"``.
A new field is one attribute of :class:`AccessFields`; the formatters take every attribute
that is not None, in declaration order.

Where ``routeyard.access`` (or a logger above it) has handlers other than the one
:func:`routeyard.logs.setup` installs, those get an ordinary ``LogRecord`` per line (with
the fields as record attributes), from the writer thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, fields
from typing import Any

import msgspec

from routeyard import logs
from routeyard.logs import escape

LOGGER = "routeyard.access"
QUEUE_MAX = 100_000  # lines waiting; past it the oldest are dropped (a stalled log stream)
CHUNK = 256  # lines formatted per write: the writer gives up the GIL between chunks
_MICRO = "\u00b5s"
_json = msgspec.json.Encoder()


@dataclass(slots=True)
class AccessFields:
    """What a route adds to its request's access-log line; ``scope["state"]["access"]``.

    ``key_name`` is set when a key is verified (:func:`routeyard.api.routes.authenticate`).
    The router fills in ``model`` (the model that answered), ``provider`` (the endpoint's
    provider tag) and ``attempts`` (upstream attempts made). None: not logged.
    """

    key_name: str | None = None
    model: str | None = None
    provider: str | None = None
    attempts: int | None = None


_FIELD_NAMES = tuple(f.name for f in fields(AccessFields))


def fields_of(scope: MutableMapping[str, Any]) -> AccessFields:
    """The access-log fields of a request (made on first use, e.g. outside RequestContext)."""
    state = scope.setdefault("state", {})
    found = state.get("access")
    if not isinstance(found, AccessFields):
        found = state["access"] = AccessFields()
    return found


# One queued request: (perf_counter at its end, method, path, status, seconds taken,
# request id, key name, the route's fields or None).
Entry = tuple[float, str, str, int, float, str, "str | None", "AccessFields | None"]


def _duration(seconds: float) -> str:
    micros = round(seconds * 1_000_000)
    return f"{micros}{_MICRO}" if micros < 1000 else f"{seconds * 1000:.1f}ms"


def _extras(key_name: str | None, extra: AccessFields | None) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    if extra is None:
        if key_name is not None:
            out.append(("key_name", escape(key_name)))
        return out
    if key_name is not None and extra.key_name is None:
        extra.key_name = key_name
    for name in _FIELD_NAMES:
        value = getattr(extra, name)
        if value is not None:
            out.append((name, escape(value) if isinstance(value, str) else value))
    return out


def message(entry: Entry) -> str:
    """The line's message: ``GET /path 200 412µs request_id=... key_name=...``."""
    _, method, path, status, seconds, request_id, key_name, extra = entry
    text = f"{escape(method)} {escape(path)} {status} {_duration(seconds)} request_id={request_id}"
    for name, value in _extras(key_name, extra):
        text += f" {name}={value}"
    return text


def record_fields(entry: Entry) -> dict[str, Any]:
    """The line's fields, as the JSON format and a ``LogRecord``'s attributes carry them."""
    _, method, path, status, seconds, request_id, key_name, extra = entry
    data: dict[str, Any] = {
        "request_id": request_id, "method": escape(method), "path": escape(path),
        "status": status, "duration_us": round(seconds * 1_000_000),
        "duration_ms": round(seconds * 1000, 3),
    }
    data.update(_extras(key_name, extra))
    return data


class _Clock:
    """Wall-clock times of queued requests, from their perf_counter and one offset per
    batch; the second's prefix is formatted once."""

    def __init__(self, fmt: str) -> None:
        self.offset = time.time() - time.perf_counter()
        self.json = fmt == "json"
        self._second = -1
        self._prefix = ""

    def stamp(self, perf: float) -> str:
        wall = perf + self.offset
        second = int(wall)
        if second != self._second:
            self._second = second
            if self.json:
                self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            else:
                self._prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        millis = int((wall - second) * 1000)
        return f"{self._prefix}.{millis:03d}Z" if self.json else f"{self._prefix},{millis:03d}"


def format_lines(entries: Iterable[Entry], fmt: str) -> str:
    """The text to write for ``entries``: in the format of :func:`routeyard.logs.setup`'s
    handler (``text``: ``<time> INFO routeyard.access: <message>``; ``json``: one object)."""
    clock = _Clock(fmt)
    out: list[str] = []
    if fmt == "json":
        for entry in entries:
            data = {"ts": clock.stamp(entry[0]), "level": "info", "logger": LOGGER,
                    "message": message(entry), **record_fields(entry)}
            out.append(_json.encode(data).decode())
    else:
        out = _text_lines(entries, clock)
    out.append("")
    return "\n".join(out)


def _text_lines(entries: Iterable[Entry], clock: _Clock) -> list[str]:
    """:func:`message` with its time and level for each entry, inlined: this is where the
    access log spends its CPU time (about a microsecond a line)."""
    out: list[str] = []
    append = out.append
    second, prefix = -1, ""
    offset = clock.offset
    names: dict[str, str] = {}  # key name -> " key_name=<escaped>"
    for perf, method, path, status, seconds, request_id, key_name, extra in entries:
        wall = perf + offset
        if int(wall) != second:
            second = int(wall)
            prefix = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
        micros = int(seconds * 1_000_000 + 0.5)
        duration = f"{micros}{_MICRO}" if micros < 1000 else f"{seconds * 1000:.1f}ms"
        if not path.isprintable() or "\\" in path:
            path = escape(path)
        if method not in _METHODS:
            method = escape(method)
        if extra is not None:
            tail = "".join(f" {k}={v}" for k, v in _extras(key_name, extra))
        elif key_name is None:
            tail = ""
        elif (tail := names.get(key_name, "")) == "":
            tail = names[key_name] = f" key_name={escape(key_name)}"
        append(f"{prefix},{int((wall - second) * 1000):03d} INFO routeyard.access: {method} "
               f"{path} {status} {duration} request_id={request_id}{tail}")
    return out


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class AccessLog:
    """The queue and its writer thread; :meth:`start` at start-up, :meth:`stop` at
    shutdown (which writes what is left). ``fmt`` is the ``log_format`` setting."""

    def __init__(self, fmt: str = "text", *, interval: float = 0.02,
                 queue_max: int = QUEUE_MAX) -> None:
        self.fmt = fmt
        self.interval = interval
        self._queue: deque[Entry] = deque(maxlen=queue_max)
        self.add = self._queue.append  # the request path's one call
        self._lock = threading.Lock()  # one flush at a time (the thread, stop, tests)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="routeyard-access-log",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=5)
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:  # never let a broken stream end the thread silently
                logging.getLogger("routeyard").exception("access log: write failed")

    def flush(self) -> int:
        """Write every queued line now; how many were written."""
        queue = self._queue
        written = 0
        with self._lock:
            while queue:
                chunk = []
                pop = queue.popleft
                try:
                    for _ in range(CHUNK):
                        chunk.append(pop())
                except IndexError:
                    pass
                self._deliver(chunk)
                written += len(chunk)
        return written

    def _deliver(self, chunk: list[Entry]) -> None:
        logger = logging.getLogger(LOGGER)
        if not logger.isEnabledFor(logging.INFO):
            return
        ours, foreign = logs.handlers_of(logger)
        if ours:
            text = format_lines(chunk, self.fmt)
            for handler in ours:
                handler.write_text(text)
        if foreign:
            for entry in chunk:
                record = logger.makeRecord(LOGGER, logging.INFO, __file__, 0, message(entry),
                                           (), None, extra=record_fields(entry))
                for other in foreign:
                    if record.levelno >= other.level:
                        other.handle(record)
