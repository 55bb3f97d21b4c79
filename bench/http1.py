"""A minimal HTTP/1.1 keep-alive client on a blocking socket, to time one request at a time:
when the answer's head arrived, when the first SSE ``data:`` line arrived and when the body
ended. wrk times whole responses only; this times the first token of a stream, with less
overhead of its own than an HTTP library (the same for every server measured)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Timed:
    status: int
    head_s: float  # request sent -> status line and headers received
    first_data_s: float | None  # -> first body bytes holding "data:" (None: no SSE data)
    total_s: float  # -> the end of the body
    body: bytes
    headers: dict[str, str]  # lower-case names


class Connection:
    def __init__(self, url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        if self.sock is None:
            self.sock = socket.create_connection((self.host, self.port), self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        return self.sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _more(self) -> None:
        assert self.sock is not None
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server")
        self.buf += data

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._more()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def post(self, headers: dict[str, str], body: bytes) -> Timed:
        """POST ``body``; on a dropped keep-alive connection, reconnects once."""
        try:
            return self._post(headers, body)
        except (ConnectionError, OSError):
            self.close()
            return self._post(headers, body)

    def _post(self, headers: dict[str, str], body: bytes) -> Timed:
        sock = self._connect()
        lines = [f"POST {self.path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + body
        started = time.perf_counter()
        sock.sendall(request)
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        head_s = time.perf_counter() - started
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in
                  (h.partition(":") for h in header_lines)}
        out = bytearray()
        first: float | None = None

        def got(data: bytes) -> None:
            nonlocal first
            out.extend(data)
            if first is None and b"data:" in out:
                first = time.perf_counter() - started

        if "chunked" in fields.get("transfer-encoding", "").lower():
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the empty line
                        pass
                    break
                got(self._take(size))
                self._take(2)
        elif "content-length" in fields:
            remaining = int(fields["content-length"])
            while remaining:
                if not self.buf:
                    self._more()
                piece = self.buf[:remaining]
                self.buf = self.buf[len(piece):]
                remaining -= len(piece)
                got(piece)
        else:  # to the end of the connection
            try:
                while True:
                    self._more()
                    got(self.buf)
                    self.buf = b""
            except ConnectionError:
                pass
            self.close()
        if fields.get("connection", "").lower() == "close":
            self.close()
        return Timed(status, head_s, first, time.perf_counter() - started, bytes(out),
                     fields)


def answer_text(body: bytes, stream: bool) -> str:
    """The assistant's text in a chat completion body or SSE stream ('' when none)."""
    try:
        if not stream:
            data = json.loads(body)
            return str(data["choices"][0]["message"]["content"] or "")
        parts = []
        for line in body.decode("utf-8", "replace").splitlines():
            if not line.startswith("data:") or line[5:].strip() == "[DONE]":
                continue
            chunk = json.loads(line[5:])
            for choice in chunk.get("choices") or []:
                content = (choice.get("delta") or {}).get("content")
                if content:
                    parts.append(content)
        return "".join(parts)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def server_timing(value: str, name: str) -> float | None:
    """The ``dur`` (ms) of metric ``name`` in a Server-Timing header value, or None."""
    for metric in value.split(","):
        parts = [p.strip() for p in metric.split(";")]
        if parts[0] != name:
            continue
        for p in parts[1:]:
            if p.startswith("dur="):
                try:
                    return float(p[4:])
                except ValueError:
                    return None
    return None
