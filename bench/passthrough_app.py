"""The floor of routeyard's stack as a gateway: a raw ASGI app on Granian (routeyard serve's
settings, one worker) that sends each POST body unchanged to one upstream URL with routeyard's
own pooled HTTP client (routeyard.upstream.http1, the router's) and streams the answer back
unchanged: no key check, no routing, no rewriting, no records. Whatever routeyard costs above
this is routeyard's own; this much any gateway on Granian + that client pays.

    python -m bench.passthrough_app --port P --upstream http://127.0.0.1:U/v1/chat/completions
"""

from __future__ import annotations

import argparse
import os
from typing import Any

UPSTREAM_ENV = "ROUTEYARD_BENCH_PASSTHROUGH_UPSTREAM"
_HOP = {b"content-type", b"cache-control"}  # the upstream headers passed on


def create_app() -> Any:
    from routeyard.upstream.http1 import Pool

    upstream = os.environ[UPSTREAM_ENV]
    pool = Pool()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await pool.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        r = await pool.request("POST", upstream, b"".join(chunks),
                               {"Content-Type": "application/json"})
        try:
            headers = [(k.encode(), v.encode()) for k, v in r.headers.items()
                       if k.encode() in _HOP]
            await send({"type": "http.response.start", "status": r.status, "headers": headers})
            while piece := await r.readany():
                await send({"type": "http.response.body", "body": piece, "more_body": True})
        finally:
            r.close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream chat completions URL")
    args = parser.parse_args()
    os.environ[UPSTREAM_ENV] = args.upstream

    from granian.constants import Interfaces
    from granian.server import Server

    # Keep in step with routeyard.server.serve: the same Granian settings, another target.
    Server(
        "bench.passthrough_app:create_app",
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=1,
        factory=True,
        log_level="warning",  # type: ignore[arg-type]
        log_access=False,
        websockets=False,
    ).serve()


if __name__ == "__main__":
    main()
