"""routeyard's router against its peers, in one run: the same fake provider called directly,
through ``routeyard serve``, through LiteLLM's proxy and through Portkey's gateway, in turns
(A B C D A B C D …), at 1 and 64 connections, streaming and not; see bench/README.md.

    .venv/bin/python bench/peers.py [--duration 5] [--repeat 3] [--profile]

It also measures the router's own cost (issue 17): its CPU per routed request from its
process accounting, and the cost of a fallback (the first endpoint refusing connections)
against a direct call to the second.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

import httpx
import msgspec

from bench import load, peers_install, peers_report, profile
from bench.http1 import Connection, answer_text, server_timing
from bench.procs import Server, cpu_seconds, free_port, rss_mib

RESULTS = ROOT / "bench" / "RESULTS.md"
CHART = ROOT / "bench" / "peers.svg"
UPSTREAM_MODEL = "fake/chat"
ROUTED_MODEL = "bench/fake-chat"
FALLBACK_MODEL = "bench/fallback-chat"
_WORDS = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")


@dataclass(frozen=True)
class Setting:
    """A behaviour of the fake provider."""

    name: str
    ttft_ms: float
    tokens_per_s: float
    output_tokens: int

    def describe(self) -> str:
        speed = ("all at once" if self.tokens_per_s >= 1e5
                 else f"then {self.tokens_per_s:g} tokens/s")
        return (f"{self.name}: first token after {self.ttft_ms:g} ms, {self.output_tokens} "
                f"tokens {speed}")

    @property
    def answer(self) -> str:
        return "".join(_WORDS[i % len(_WORDS)] for i in range(self.output_tokens))


SETTINGS = {
    "instant": Setting("instant", 0.0, 1e6, 8),
    "realistic": Setting("realistic", 200.0, 100.0, 16),
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/peers.py", description="routeyard against "
                                "LiteLLM's proxy and Portkey's gateway (bench/README.md)")
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    p.add_argument("--repeat", type=int, default=3,
                   help="turns: runs per cell and server, medians reported (default 3)")
    p.add_argument("--connections", default="1,64",
                   help="connection counts, comma-separated (default 1,64)")
    p.add_argument("--settings", default="instant,realistic",
                   help="fake-provider settings to run: instant, realistic (default both)")
    p.add_argument("--peers", default="routeyard,floor,litellm,portkey",
                   help="gateways to measure next to direct (default routeyard,floor,litellm,"
                        "portkey; floor: bench/passthrough_app.py, routeyard's stack without "
                        "routing)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per gateway")
    p.add_argument("--ttfb-seconds", type=float, default=3.0,
                   help="seconds of one-at-a-time streamed requests per server and turn for "
                        "the time to first byte (default 3; at most 300 requests)")
    p.add_argument("--settle", type=float, default=0.3,
                   help="seconds of pause after each wrk run (default 0.3); then the bench "
                        "waits until the gateway and the fake provider are idle")
    p.add_argument("--drain-max", type=float, default=20.0,
                   help="longest wait for them to become idle after a run (default 20 s)")
    p.add_argument("--no-fallback", action="store_true",
                   help="skip the fallback-cost runs (routeyard, first endpoint refusing)")
    p.add_argument("--profile", action="store_true",
                   help="sample routeyard's worker with py-spy during an extra 64-connection "
                        "run (installs py-spy under bench/.peers/ if missing)")
    p.add_argument("--no-write", action="store_true",
                   help="do not update bench/RESULTS.md and bench/peers.svg")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    return p.parse_args(argv)


# -- the servers -------------------------------------------------------------------------


@dataclass
class Gateway:
    key: str  # direct, routeyard, litellm, portkey
    name: str
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    model: str = UPSTREAM_MODEL
    extra: dict[str, object] = field(default_factory=dict)  # more request body fields
    server: Server | None = None
    startup_s: float | None = None
    changed: list[str] = field(default_factory=list)  # settings changed from its defaults
    detail: str = ""
    skipped: str = ""
    broken: dict[bool, str] = field(default_factory=dict)  # stream? -> why not measured

    def body(self, stream: bool) -> str:
        doc: dict[str, object] = {"model": self.model, "stream": stream,
                                  "messages": [{"role": "user", "content": "Say hello."}],
                                  **self.extra}
        return msgspec.json.encode(doc).decode()

    def request_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **self.headers}

    def pids(self) -> list[int]:
        return self.server.tree() if self.server else []


def routeyard_argv() -> list[str]:
    script = Path(sys.executable).parent / "routeyard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "routeyard.cli"]


def _base_env() -> dict[str, str]:
    """The environment of every server: no proxy for loopback, no ROUTEYARD_* from outside."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ROUTEYARD_", "LITELLM_", "PORTKEY_"))
           and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


def wait_routed(server: Server, gw: Gateway, timeout: float = 90.0) -> float:
    """Seconds from the server's start to its first routed 200 (a non-streamed completion);
    raises RuntimeError with the last answer when none came."""
    assert server.proc is not None
    deadline = time.perf_counter() + timeout
    last = "no answer"
    body = gw.body(False).encode()
    with httpx.Client(timeout=5.0) as client:
        while time.perf_counter() < deadline:
            if server.proc.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.proc.returncode}; "
                                   f"see {server.log}")
            try:
                r = client.post(gw.url, content=body, headers=gw.request_headers())
                if r.status_code == 200:
                    return time.perf_counter() - server.started_at
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            time.sleep(0.02)
    raise RuntimeError(f"{server.name}: no routed 200 within {timeout:.0f} s ({last}); "
                       f"see {server.log}")


def fake_provider(tmp: Path, setting: Setting) -> Server:
    port = free_port()
    server = Server("fake-provider", [*routeyard_argv(), "fake-provider", "--port", str(port),
                                      "--model", UPSTREAM_MODEL, "--seed", "1",
                                      "--reasoning-tokens", "0", *_fake_flags(setting)],
                    port, _base_env(), tmp / "fake-provider.log")
    server.start()
    server.wait_for("/_control")
    return server


def _fake_flags(s: Setting) -> list[str]:
    return ["--ttft-ms", f"{s.ttft_ms:g}", "--tokens-per-s", f"{s.tokens_per_s:g}",
            "--output-tokens", str(s.output_tokens)]


def set_fake(fake: Server, s: Setting) -> None:
    r = httpx.post(fake.base + "/_control", json={"ttft_ms": s.ttft_ms,
                                                  "tokens_per_s": s.tokens_per_s,
                                                  "output_tokens": s.output_tokens})
    r.raise_for_status()


def direct(fake: Server) -> Gateway:
    return Gateway("direct", "direct", url=fake.base + "/v1/chat/completions",
                   detail="`routeyard fake-provider`, called without a gateway")


ROUTEYARD_CATALOG = """\
format = "routeyard-catalog"
version = 1
source = "routeyard bench/peers.py (generated)"

[[providers]]
slug = "fake"
name = "Fake Provider"
base_url = "{fake}/v1"

[[providers]]
slug = "refused"
name = "Refusing Provider"
base_url = "http://127.0.0.1:{refused}/v1"

[[models]]
id = "{routed}"
name = "Bench: Fake Chat"
created = 1760000000

[[models.endpoints]]
provider = "fake"
context_length = 8192
provider_model_id = "{upstream}"
supported_parameters = ["max_tokens", "temperature"]

[models.endpoints.pricing]
prompt = "0.000001"
completion = "0.000002"

[[models]]
id = "{fallback}"
name = "Bench: Fallback Chat"
created = 1760000000

[[models.endpoints]]
provider = "refused"
context_length = 8192
provider_model_id = "{upstream}"
supported_parameters = ["max_tokens", "temperature"]

[models.endpoints.pricing]
prompt = "0.000001"
completion = "0.000002"

[[models.endpoints]]
provider = "fake"
context_length = 8192
provider_model_id = "{upstream}"
supported_parameters = ["max_tokens", "temperature"]

[models.endpoints.pricing]
prompt = "0.000001"
completion = "0.000002"
"""


def _routeyard_version() -> str:
    proc = subprocess.run([*routeyard_argv(), "--version"], capture_output=True, text=True,
                          check=False)
    version = proc.stdout.strip().split()[-1] if proc.returncode == 0 and proc.stdout else ""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True, check=False).stdout.strip()
    return " ".join(x for x in (version, f"at {head}" if head else "") if x)


def start_routeyard(tmp: Path, fake: Server, refused_port: int) -> tuple[Gateway, Gateway]:
    """`routeyard serve` with its defaults but: a SQLite file in ``tmp``, log level warning
    (as the peers' logging is off), no probes (the fake provider gets the same load behind
    every gateway); a catalog whose provider is the fake provider. The second gateway is the
    same server asked for the fallback model (first endpoint refusing connections)."""
    version = _routeyard_version()
    gw = Gateway("routeyard", f"routeyard {version}".strip(), model=ROUTED_MODEL)
    fb = Gateway("fallback", "routeyard, first endpoint refusing", model=FALLBACK_MODEL,
                 extra={"provider": {"order": ["refused", "fake"], "allow_fallbacks": True}})
    data = tmp / "routeyard"
    data.mkdir()
    changed = {"ROUTEYARD_DATABASE_URL": f"sqlite:///{data / 'routeyard.db'}",
               "ROUTEYARD_DATA_DIR": str(data), "ROUTEYARD_LOG_LEVEL": "warning",
               "ROUTEYARD_PROBE_ENABLED": "false"}
    env = {**_base_env(), **changed}
    gw.changed = [f"{k}={v}" for k, v in changed.items()] + ["--workers 1"]
    try:
        def cli(*args: str) -> str:
            proc = subprocess.run([*routeyard_argv(), *args], env=env, capture_output=True,
                                  text=True, timeout=300, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"routeyard {shlex.join(args)}: {proc.stderr.strip()[-300:]}")
            return proc.stdout

        key = cli("keys", "create", "--name", "bench").strip().splitlines()[-1]
        catalog = tmp / "routeyard-catalog.toml"
        catalog.write_text(ROUTEYARD_CATALOG.format(
            fake=fake.base, refused=refused_port, routed=ROUTED_MODEL, fallback=FALLBACK_MODEL,
            upstream=UPSTREAM_MODEL), encoding="utf-8")
        cli("catalog", "apply", str(catalog))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        gw.skipped = fb.skipped = f"could not set up routeyard's catalog: {exc}"
        return gw, fb
    port = free_port()
    server = Server("routeyard", [*routeyard_argv(), "serve", "--port", str(port),
                                  "--workers", "1"], port, env, tmp / "routeyard.log")
    for g in (gw, fb):
        g.url = server.base + "/api/v1/chat/completions"
        g.headers = {"Authorization": f"Bearer {key}"}
    server.start()
    try:
        server.wait_for("/api/v1/models", {"Authorization": f"Bearer {key}"}, timeout=60)
        probe = httpx.post(gw.url, content=gw.body(False), headers=gw.request_headers())
        if probe.status_code in (404, 405) and "No endpoints" not in probe.text:
            raise RuntimeError(f"no chat route at this commit (HTTP {probe.status_code})")
        gw.startup_s = wait_routed(server, gw)
    except RuntimeError as exc:
        server.stop()
        gw.skipped = fb.skipped = str(exc)
        return gw, fb
    gw.server = fb.server = server
    gw.detail = f"Python {sys.version.split()[0]}, one Granian worker"
    fb.changed = gw.changed
    return gw, fb


def start_passthrough(tmp: Path, fake: Server) -> Gateway:
    """The floor of routeyard's stack (bench/passthrough_app.py): Granian, one worker, one
    pool of routeyard's HTTP client, the body passed through unchanged; no routing at all."""
    import httptools

    gw = Gateway("floor", "pass-through floor (Granian + routeyard's client, no routing)")
    gw.detail = (f"Python {sys.version.split()[0]}, httptools {httptools.__version__}, "
                 "one worker")
    port = free_port()
    upstream = fake.base + "/v1/chat/completions"
    server = Server("passthrough", [sys.executable, "-m", "bench.passthrough_app", "--port",
                                    str(port), "--upstream", upstream], port,
                    {**_base_env(), "PYTHONPATH": str(ROOT)}, tmp / "passthrough.log", cwd=ROOT)
    gw.url = server.base + "/v1/chat/completions"
    gw.changed = ["bench/passthrough_app.py: a reference, not a product"]
    return _started(gw, server)


LITELLM_CONFIG = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {fake}/v1
      api_key: bench-not-a-secret
litellm_settings:
  telemetry: false
  set_verbose: false
  turn_off_message_logging: true
general_settings:
  disable_spend_logs: true
"""


def start_litellm(tmp: Path, fake: Server, peer: peers_install.Installed) -> Gateway:
    gw = Gateway("litellm", peer.name, detail=peer.detail, skipped=peer.skipped)
    if not peer.ok:
        return gw
    config = tmp / "litellm.yaml"
    config.write_text(LITELLM_CONFIG.format(model=UPSTREAM_MODEL, fake=fake.base),
                      encoding="utf-8")
    changed = {"LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY": "true",
               "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR"}
    port = free_port()
    argv = [*peer.argv, "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
            "--num_workers", "1"]
    gw.changed = [f"{k}={v}" for k, v in changed.items()] + [
        "--num_workers 1", ("config: one model on the fake provider; telemetry false, "
        "set_verbose false, turn_off_message_logging true, disable_spend_logs true")]
    server = Server("litellm", argv, port, {**_base_env(), **changed}, tmp / "litellm.log")
    gw.url = server.base + "/v1/chat/completions"
    return _started(gw, server)


def start_portkey(tmp: Path, fake: Server, peer: peers_install.Installed) -> Gateway:
    gw = Gateway("portkey", peer.name, detail=peer.detail, skipped=peer.skipped)
    if not peer.ok:
        return gw
    port = free_port()
    server = Server("portkey", [*peer.argv, f"--port={port}", "--headless"], port,
                    {**_base_env(), "NODE_ENV": "production"}, tmp / "portkey.log")
    gw.url = server.base + "/v1/chat/completions"
    gw.headers = {"x-portkey-provider": "openai",
                  "x-portkey-custom-host": fake.base + "/v1",
                  "Authorization": "Bearer bench-not-a-secret"}
    gw.changed = ["NODE_ENV=production", "--headless (no UI, no log stream)",
                  "headers x-portkey-provider: openai, x-portkey-custom-host: <fake>/v1"]
    return _started(gw, server)


def _started(gw: Gateway, server: Server) -> Gateway:
    server.start()
    try:
        gw.startup_s = wait_routed(server, gw)
    except RuntimeError as exc:
        server.stop()
        gw.skipped = f"did not start: {exc}"
        return gw
    gw.server = server
    return gw


# -- measuring ---------------------------------------------------------------------------


@dataclass
class Measured:
    """One wrk run of one server in one cell, with the CPU its processes used meanwhile."""

    result: load.LoadResult
    cpu_s: float  # the gateway's processes (0 for direct), during the run and its drain
    upstream_cpu_s: float  # the fake provider's
    wrk_cpu_s: float  # the load generator's own
    upstream_requests: int  # completions the fake provider was asked for meanwhile

    @property
    def errors(self) -> int:
        return self.result.socket_errors + self.result.status_errors


Cell = tuple[str, bool, int, str]  # setting, stream, connections, gateway key


@dataclass
class Results:
    settings: list[Setting]
    connections: list[int]
    gateways: list[Gateway]
    runs: dict[Cell, list[Measured]] = field(default_factory=dict)
    ttfb: dict[tuple[str, str], list[float]] = field(default_factory=dict)  # first data s
    # routeyard's own time by its Server-Timing header (routeyard;dur, ms), by setting, stream
    own: dict[tuple[str, bool], list[float]] = field(default_factory=dict)
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # RSS, PSS MiB
    fallback_plan: str = ""
    profile: str = ""
    notes: list[str] = field(default_factory=list)


def _children_cpu() -> float:
    """CPU seconds of this process's finished children (wrk runs one at a time)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _exited(server: Server) -> str:
    assert server.proc is not None
    if server.proc.poll() is None:
        return ""
    tail = [ln for ln in server.log.read_text(errors="replace").splitlines() if ln.strip()]
    return f"exited with code {server.proc.returncode} ({tail[-1][:160] if tail else 'no log'})"


def check(gw: Gateway, setting: Setting, stream: bool) -> str:
    """'' when ``gw`` answers a completion with the fake provider's text, else why not."""
    if gw.server and (why := _exited(gw.server)):
        return why
    with Connection(gw.url) as conn:
        try:
            t = conn.post(gw.request_headers(), gw.body(stream).encode())
        except OSError as exc:
            return f"no answer: {exc}"
    text = answer_text(t.body, stream)
    if t.status != 200:
        return f"every {'stream' if stream else 'completion'} HTTP {t.status}: " \
               f"{t.body[:160].decode('utf-8', 'replace')}"
    if text != setting.answer:
        return f"answer {text!r}, expected {setting.answer!r}"
    return ""


class Bench:
    def __init__(self, args: argparse.Namespace, fake: Server, results: Results) -> None:
        self.args = args
        self.fake = fake
        self.results = results

    def upstream_count(self) -> int:
        """Completions the fake provider has been asked for so far."""
        for attempt in range(5):  # a fake provider still serving a backlog answers late
            try:
                counts = httpx.get(self.fake.base + "/_control", timeout=30).json()["requests"]
                return int(counts.get("completed", 0)) + int(counts.get("streamed", 0))
            except httpx.HTTPError:
                if attempt == 4:
                    raise
                time.sleep(1)
        raise AssertionError("unreachable")

    def drain(self, pids: list[int]) -> None:
        """Wait (at most --drain-max seconds) until ``pids`` are idle: a gateway may still
        be working through requests of connections wrk dropped, and the next server's run
        must not pay for them (nor this one's CPU figure miss them)."""
        deadline = time.perf_counter() + self.args.drain_max
        time.sleep(self.args.settle)
        while time.perf_counter() < deadline:
            before = cpu_seconds(pids)
            time.sleep(0.2)
            if cpu_seconds(pids) - before < 0.2 * 0.15:  # under 15 % of a core
                return

    def wrk(self, gw: Gateway, stream: bool, connections: int,
            seconds: int = 0) -> Measured:
        pids, fake_pids = gw.pids(), self.fake.tree()
        count0 = self.upstream_count()
        cpu0, up0, wrk0 = cpu_seconds(pids), cpu_seconds(fake_pids), _children_cpu()
        r = load.run(gw.url, gw.request_headers(), duration=seconds or self.args.duration,
                     connections=connections, threads=1, method="POST",
                     body=gw.body(stream), timeout_s=10)
        wrk_cpu = _children_cpu() - wrk0
        self.drain([*pids, *fake_pids])
        return Measured(r, cpu_seconds(pids) - cpu0, cpu_seconds(fake_pids) - up0, wrk_cpu,
                        self.upstream_count() - count0)

    def one_at_a_time(self, gw: Gateway, stream: bool, setting: str) -> None:
        """Completions one at a time for --ttfb-seconds (at most 300): streamed, the seconds
        to the first ``data:`` line of each; from routeyard, its own Server-Timing."""
        res = self.results
        body = gw.body(stream).encode()
        deadline = time.perf_counter() + self.args.ttfb_seconds
        firsts = res.ttfb.setdefault((setting, gw.key), []) if stream else []
        own = res.own.setdefault((setting, stream), []) if gw.key == "routeyard" else []
        with Connection(gw.url) as conn:
            for _ in range(300):
                if time.perf_counter() >= deadline:
                    break
                t = conn.post(gw.request_headers(), body)
                if t.status != 200:
                    continue
                if stream and t.first_data_s is not None:
                    firsts.append(t.first_data_s)
                timing = server_timing(t.headers.get("server-timing", ""), "routeyard")
                if gw.key == "routeyard" and timing is not None:
                    own.append(timing)

    def setting(self, setting: Setting, gateways: list[Gateway]) -> None:
        a, res = self.args, self.results
        set_fake(self.fake, setting)
        for gw in gateways:
            for stream in (False, True):
                why = check(gw, setting, stream)
                if why:
                    gw.broken[stream] = why
                    print(f"  {gw.name}, {'streaming' if stream else 'not streaming'}: "
                          f"not measured: {why}", flush=True)
        for stream in (False, True):
            live = [g for g in gateways if stream not in g.broken]
            for connections in res.connections:
                for _ in range(a.repeat):
                    for gw in live:  # A B C D, A B C D, …
                        m = self.wrk(gw, stream, connections)
                        res.runs.setdefault((setting.name, stream, connections, gw.key),
                                            []).append(m)
                label = f"{setting.name}, {'stream' if stream else 'json'}, {connections} conn"
                print(f"  {label}: " + ", ".join(
                    f"{g.key} {statistics.median(r.result.p50_ms for r in runs):.2f} ms "
                    f"{statistics.median(r.result.rps for r in runs):,.0f}/s"
                    for g in live if (runs := res.runs.get((setting.name, stream, connections,
                                                             g.key)))), flush=True)
            for _ in range(a.repeat):
                for gw in live:
                    if stream or gw.key == "routeyard":
                        self.one_at_a_time(gw, stream, setting.name)

    def warm(self, gateways: list[Gateway]) -> None:
        for gw in gateways:
            for stream in (False, True):
                if stream not in gw.broken:
                    self.wrk(gw, stream, max(self.results.connections), self.args.warmup)

    def fallback(self, base: Gateway, routed: Gateway, fb: Gateway, setting: Setting) -> None:
        """Direct, routed and routed-with-fallback at 1 connection, in turns."""
        a, res = self.args, self.results
        set_fake(self.fake, setting)
        for stream in (False, True):
            why = check(fb, setting, stream)
            if why:
                fb.broken[stream] = why
                print(f"  fallback, {'streaming' if stream else 'not streaming'}: "
                      f"not measured: {why}", flush=True)
                continue
            trio = [g for g in (base, routed, fb) if stream not in g.broken]
            for _ in range(a.repeat):
                for gw in trio:
                    m = self.wrk(gw, stream, 1)
                    res.runs.setdefault((f"fallback-{setting.name}", stream, 1, gw.key),
                                        []).append(m)

    def profile(self, gw: Gateway, exe: str, out: Path, stream: bool) -> str:
        assert gw.server is not None and gw.server.proc is not None
        pids = gw.server.pids()[1] or [gw.server.proc.pid]
        sampler = subprocess.Popen(
            [exe, "record", "--pid", str(pids[0]), "--duration", str(self.args.duration),
             "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.wrk(gw, stream, max(self.results.connections))
        sampler.wait(timeout=self.args.duration + 60)
        mode = "streaming" if stream else "not streaming"
        return (f"py-spy, routeyard's worker, {max(self.results.connections)} connections, "
                f"{mode} (raw stacks: {out})\n" + profile.summarise(out, top=20))


def fallback_plan(fb: Gateway) -> str:
    """routeyard's plan for the fallback request (POST /api/v1/router/plan), to show that the
    refusing endpoint is tried first."""
    url = fb.url.replace("/chat/completions", "/router/plan")
    try:
        r = httpx.post(url, content=fb.body(False), headers=fb.request_headers())
    except httpx.HTTPError as exc:
        return f"plan not available: {exc}"
    if r.status_code != 200:
        return f"plan not available: HTTP {r.status_code}"
    return r.text[:600]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load.wrk_path()
    started = time.perf_counter()
    settings = [SETTINGS[s.strip()] for s in args.settings.split(",") if s.strip()]
    connections = sorted({int(c) for c in args.connections.split(",") if c.strip()})
    wanted = [p.strip() for p in args.peers.split(",") if p.strip()]
    if set(wanted) - {"routeyard", "floor", "litellm", "portkey"}:
        raise SystemExit("--peers takes routeyard, floor, litellm, portkey")
    tmp = Path(tempfile.mkdtemp(prefix="routeyard-peers-"))
    servers: list[Server] = []
    try:
        print(f"routeyard bench/peers.py: working in {tmp}", flush=True)
        print("peers:", flush=True)
        installed = {"litellm": peers_install.litellm() if "litellm" in wanted else None,
                     "portkey": peers_install.portkey() if "portkey" in wanted else None}
        exe = peers_install.py_spy() if args.profile else None
        fake = fake_provider(tmp, settings[0])
        servers.append(fake)
        gateways = [direct(fake)]
        fb: Gateway | None = None
        refused = free_port()  # nothing listens there: connections are refused
        for key in wanted:
            if key == "routeyard":
                gw, fb = start_routeyard(tmp, fake, refused)
            elif key == "floor":
                gw = start_passthrough(tmp, fake)
            elif key == "litellm":
                assert installed["litellm"] is not None
                gw = start_litellm(tmp, fake, installed["litellm"])
            else:
                assert installed["portkey"] is not None
                gw = start_portkey(tmp, fake, installed["portkey"])
            if gw.server:
                servers.append(gw.server)
            state = f"first routed 200 after {gw.startup_s:.2f} s" if gw.server else \
                f"SKIPPED: {gw.skipped}"
            print(f"  {gw.name}: {state}", flush=True)
            for c in gw.changed:
                print(f"    changed: {c}", flush=True)
            gateways.append(gw)
        live = [g for g in gateways if not g.skipped]
        results = Results(settings, connections, gateways)
        bench = Bench(args, fake, results)
        print("warm-up", flush=True)
        for gw in live:
            for stream in (False, True):
                why = check(gw, settings[0], stream)
                if why:
                    gw.broken[stream] = why
        bench.warm(live)
        for s in settings:
            print(f"setting {s.describe()}", flush=True)
            for gw in live:
                gw.broken.clear()
            bench.setting(s, live)
        for gw in live:
            results.memory[gw.key] = rss_mib(gw.pids() if gw.server else fake.tree())
        if fb is not None and not fb.skipped and not args.no_fallback:
            print("fallback: first endpoint refusing connections", flush=True)
            results.fallback_plan = fallback_plan(fb)
            routed = next(g for g in live if g.key == "routeyard")
            routed.broken.clear()
            bench.fallback(gateways[0], routed, fb, SETTINGS["instant"])
        if exe and any(g.key == "routeyard" for g in live):
            set_fake(fake, SETTINGS["instant"])
            ours = next(g for g in live if g.key == "routeyard")
            results.profile = "\n\n".join(
                bench.profile(ours, exe, tmp / f"profile-routeyard-{mode}.txt", stream)
                for stream, mode in ((False, "json"), (True, "stream")))
        command = shlex.join(["python", "bench/peers.py", *(argv or sys.argv[1:])])
        settings_text = [s.describe() for s in settings]
        text = peers_report.render(results, root=ROOT, command=command, args=args,
                                   setting_lines=settings_text,
                                   minutes=(time.perf_counter() - started) / 60)
        print("\n" + text)
        if not args.no_write:
            peers_report.write(RESULTS, text)
            CHART.write_text(peers_report.chart(results), encoding="utf-8")
            print(f"\nwritten to {RESULTS.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    finally:
        for server in reversed(servers):
            server.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
