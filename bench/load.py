"""The load generator: wrk, driven by a generated Lua script.

The script sets the request headers and, in wrk's ``done`` callback, prints one JSON line
with the request count, bytes, errors and the latency percentiles wrk measured.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("wrk is not installed. On Debian or Ubuntu: "
                "sudo apt-get update && sudo apt-get install -y wrk")

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def wrk_path() -> str:
    """The wrk binary, or SystemExit with how to install it."""
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit(INSTALL_HINT)
    return path


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    bytes: int
    status_errors: int  # responses with a status >= 400
    socket_errors: int  # connect, read, write errors and timeouts
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def bytes_per_response(self) -> float:
        return self.bytes / self.requests if self.requests else 0.0


def _lua_string(value: str) -> str:
    if not value.isascii():
        raise ValueError(f"header values must be ASCII: {value!r}")
    return json.dumps(value)  # a JSON string of ASCII text is a valid Lua string


def script(headers: Mapping[str, str], method: str = "GET", body: str | None = None) -> str:
    lines = [f"wrk.method = {_lua_string(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {_lua_string(body)}")
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE


def run(url: str, headers: Mapping[str, str], *, duration: int, connections: int,
        threads: int, timeout_s: int = 5, method: str = "GET",
        body: str | None = None) -> LoadResult:
    """Load ``url`` for ``duration`` seconds with wrk (``body``: the same body on every
    request, e.g. a POST's JSON); the run is bounded in time."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(headers, method, body))
        lua = Path(f.name)
    try:
        proc = subprocess.run(
            [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{duration}s",
             f"--timeout={timeout_s}s", "-s", str(lua), url],
            capture_output=True, text=True, timeout=duration + 60, check=False,
        )
    finally:
        lua.unlink()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRK ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}")
    d = json.loads(line[4:])
    return LoadResult(
        requests=d["requests"], seconds=d["duration_us"] / 1e6, bytes=d["bytes"],
        status_errors=d["status"],
        socket_errors=d["connect"] + d["read"] + d["write"] + d["timeout"],
        p50_ms=d["p50_us"] / 1000, p99_ms=d["p99_us"] / 1000, max_ms=d["max_us"] / 1000,
    )
