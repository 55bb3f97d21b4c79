"""The baseline: a raw ASGI app answering every scenario with constant bytes.

The harness captures routeyard's own response for each scenario (status, headers, body) into
a JSON file, and this app serves those exact bytes as constants, looked up by path
(``/<scenario>``; a POST to ``/__reload`` reads the file again), under the same Granian settings as ``routeyard serve`` (one worker). Its
requests/s and latency are what the machine, Granian and the ASGI protocol cost with no
application work at all, so routeyard's ratio to it is the figure that counts.

Run by the harness as ``python -m bench.baseline_app --port P --responses FILE``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
from pathlib import Path
from typing import Any

RESPONSES_ENV = "ROUTEYARD_BENCH_RESPONSES"
RELOAD_PATH = "/__reload"  # POST: read the responses file again
Header = tuple[bytes, bytes]
Canned = tuple[dict[str, Any], dict[str, Any]]  # (http.response.start, http.response.body)


def write_responses(path: Path, responses: dict[str, tuple[int, list[Header], bytes]]) -> None:
    """Store ``{scenario: (status, headers, body)}`` for :func:`create_app`."""
    data = {
        name: {
            "status": status,
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in headers],
            "body": base64.b64encode(body).decode("ascii"),
        }
        for name, (status, headers, body) in responses.items()
    }
    path.write_text(json.dumps(data), encoding="utf-8")


def _load(path: str) -> dict[str, Canned]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    canned: dict[str, Canned] = {}
    for name, r in raw.items():
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in r["headers"]]
        canned["/" + name] = (
            {"type": "http.response.start", "status": r["status"], "headers": headers},
            {"type": "http.response.body", "body": base64.b64decode(r["body"])},
        )
    return canned


def create_app() -> Any:
    """The ASGI app (a Granian factory): responses from the file named by RESPONSES_ENV."""
    path = os.environ[RESPONSES_ENV]
    canned = _load(path)
    missing = (
        {"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]},
        {"type": "http.response.body", "body": b""},
    )

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal canned
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["method"] == "POST":  # drain the body, as a real handler must
            more = True
            while more:
                more = (await receive()).get("more_body", False)
            if scope["path"] == RELOAD_PATH:  # the harness rewrote the file
                canned = _load(path)
        start, body = canned.get(scope["path"], missing)
        await send(start)
        await send(body)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--responses", required=True, help="JSON file from write_responses()")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    os.environ[RESPONSES_ENV] = str(Path(args.responses).resolve())

    from granian.constants import Interfaces
    from granian.server import Server

    # Keep in step with routeyard.server.serve: the same Granian settings, another target.
    Server(
        "bench.baseline_app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        factory=True,
        log_level="warning",  # type: ignore[arg-type]
        log_access=False,
        websockets=False,
    ).serve()


if __name__ == "__main__":
    main()
