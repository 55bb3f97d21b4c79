"""routeyard's benchmark: every scenario against routeyard and against a constant-bytes
baseline on the same server stack, in the same run; see bench/README.md.

    .venv/bin/python bench/run.py [--duration 10] [--repeat 3] [--soak 600] [--profile]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(ROOT))

import httpx

from bench import catalog_gen, databases, load, outcomes, profile
from bench.baseline_app import RELOAD_PATH, write_responses
from bench.procs import Server, free_port
from bench.report import Row, Run, ScaleResult, Soak, render, write_results
from bench.scenarios import (
    SERVER_HEADERS,
    Captured,
    Scenario,
    capture,
    endpoints_path,
    plain_client,
    scenarios,
)

RESULTS = ROOT / "bench" / "RESULTS.md"
QWEN = "qwen/qwen3-235b-a22b-thinking-2507"  # a starter model, for the fresh-database start


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description="routeyard's benchmark "
                                "(bench/README.md): routeyard against a constant-bytes baseline")
    p.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per scenario and server; medians are reported (default 3)")
    p.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per path (default 2)")
    p.add_argument("--endpoints", type=int, default=5000,
                   help="endpoints in the large catalog (default 5000)")
    p.add_argument("--scales", default="starter,large",
                   help="catalog scales to run: starter, large or both (default both)")
    p.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite",
                   help="the database routeyard serves from (default sqlite)")
    p.add_argument("--pg-url", default=databases.DEFAULT_PG_URL,
                   help="PostgreSQL server for --db postgresql and the ingest figures; "
                        "fresh databases are created there and dropped")
    p.add_argument("--stream-rate", type=float, default=10.0,
                   help="outcome batches per second in the live-health scenario (default 10)")
    p.add_argument("--stream-batch", type=int, default=100,
                   help="outcomes per batch in the live-health scenario (default 100)")
    p.add_argument("--ingest-seconds", type=int, default=10,
                   help="seconds of ingest-API throughput measurement; 0 skips it (default 10)")
    p.add_argument("--soak", type=int, default=0,
                   help="seconds of mixed load on the large catalog, sampling RSS (e.g. 600)")
    p.add_argument("--profile", action="store_true",
                   help="sample the worker with py-spy during an extra endpoints run")
    p.add_argument("--only", default="",
                   help="run only these scenarios (comma-separated slugs: endpoints-8, "
                        "endpoints-60, revalidate-8, models, unknown, live-8, bad-key, "
                        "endpoints-8-no-0 .. -4 for the prices)")
    p.add_argument("--no-prices", action="store_true",
                   help="skip the runs with each per-request cost switched off")
    p.add_argument("--no-models-dev", action="store_true",
                   help="skip timing the bundled models.dev import")
    p.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    return p.parse_args(argv)


# -- routeyard's CLI ---------------------------------------------------------------------


def routeyard_argv() -> list[str]:
    script = Path(sys.executable).parent / "routeyard"
    return [str(script)] if script.exists() else [sys.executable, "-m", "routeyard.cli"]


# What the bench changes from routeyard's defaults on every server, and why.
BENCH_SETTINGS = {
    "ROUTEYARD_PROBE_ENABLED": "false",  # loopback only: no provider to probe
    "ROUTEYARD_RATE_LIMIT_ADMIN": "0",  # the admin key posts 10 outcome batches a second
}


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """The process environment with every ROUTEYARD_* setting at its default (the access
    log on at level info, as `routeyard serve` starts) but the database and
    :data:`BENCH_SETTINGS`; a scenario may change more (:attr:`Scenario.settings`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTEYARD_")}
    env.update(ROUTEYARD_DATABASE_URL=database_url, ROUTEYARD_DATA_DIR=str(data_dir),
               **BENCH_SETTINGS)
    return env


def cli(env: dict[str, str], *args: str) -> tuple[str, float]:
    """Run ``routeyard ARGS``; (stdout, wall seconds)."""
    started = time.perf_counter()
    proc = subprocess.run([*routeyard_argv(), *args], env=env, capture_output=True, text=True,
                          timeout=900, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"routeyard {shlex.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout, elapsed


def new_key(env: dict[str, str], name: str, *, admin: bool = False) -> str:
    out, _ = cli(env, "keys", "create", "--name", name, *(["--admin"] if admin else []))
    return out.strip().splitlines()[-1]


def help_time(runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([*routeyard_argv(), "--help"], capture_output=True, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def serve(env: dict[str, str], tmp: Path, name: str) -> Server:
    port = free_port()
    return Server(name, [*routeyard_argv(), "serve", "--port", str(port), "--workers", "1"],
                  port, env, tmp / f"{name}.log")


# -- outcomes --------------------------------------------------------------------------


def measured_endpoints() -> list[outcomes.Endpoint]:
    """The endpoints of the two measured models, bench/eight's first."""
    models = {m.id: m for m in catalog_gen.generate(0).models}
    return [(mid, e.tag) for mid in (catalog_gen.EIGHT, catalog_gen.SIXTY)
            for e in models[mid].endpoints]


def seed(client: httpx.Client, base: str, admin: str,
         endpoints: list[outcomes.Endpoint]) -> Captured:
    """Live health for every endpoint of the measured models; returns the ingest answer."""
    r = client.post(base + outcomes.INGEST_PATH,
                    content=outcomes.body(endpoints, 2000, time.time()),
                    headers={"Authorization": f"Bearer {admin}",
                             "Content-Type": "application/json"})
    if r.status_code != 200:
        raise RuntimeError(f"seeding outcomes failed: {r.status_code} {r.text[:300]}")
    return r.status_code, [(k, v) for k, v in r.headers.raw if k not in SERVER_HEADERS], r.content


# -- the runs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    server: Server
    env: dict[str, str]
    key: str
    admin: str
    endpoints: int
    import_s: float
    startup_s: float


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp

    def wrk(self, url: str, headers: dict[str, str], seconds: int = 0) -> load.LoadResult:
        a = self.args
        return load.run(url, headers, duration=seconds or a.duration, connections=a.connections,
                        threads=a.threads)

    def database(self, label: str) -> AbstractContextManager[str]:
        if self.args.db == "postgresql":
            return databases.postgres_database(self.args.pg_url, label)
        return nullcontext(databases.sqlite_url(self.tmp, label))

    @contextmanager
    def served(self, label: str, total_endpoints: int) -> Iterator[Served]:
        """`routeyard serve` on a fresh database holding the starter catalog and the
        generated one (applied with `routeyard catalog apply`, timed)."""
        with self.database(label) as url:
            env = environment(url, self.tmp)
            key = new_key(env, "bench")
            admin = new_key(env, "bench-admin", admin=True)
            cli(env, "catalog", "load-starter")
            catalog_file = self.tmp / f"{label}.toml"
            endpoints = catalog_gen.write(catalog_file, total_endpoints)
            _, import_s = cli(env, "catalog", "apply", str(catalog_file))
            server = serve(env, self.tmp, f"routeyard-{label}")
            server.start()
            try:
                startup = server.wait_for(endpoints_path(catalog_gen.EIGHT),
                                          {"Authorization": f"Bearer {key}"})
                yield Served(server, env, key, admin, endpoints, import_s, startup)
            finally:
                server.stop()

    def fresh_start(self) -> float:
        """Seconds from `routeyard serve` on a database holding only a key (serve migrates
        it and loads the starter catalog) to the first 200 of the endpoints route."""
        with self.database("fresh") as url:
            env = environment(url, self.tmp)
            key = new_key(env, "bench")
            server = serve(env, self.tmp, "routeyard-fresh")
            server.start()
            try:
                return server.wait_for(endpoints_path(QWEN), {"Authorization": f"Bearer {key}"})
            finally:
                server.stop()

    def models_dev_import(self) -> tuple[float, int] | None:
        with self.database("modelsdev") as url:
            env = environment(url, self.tmp)
            new_key(env, "bench")
            try:
                out, seconds = cli(env, "catalog", "import", "--format", "models-dev", "bundled")
            except RuntimeError as exc:
                print(f"  models.dev import failed, not timed: {exc}", file=sys.stderr)
                return None
        for line in out.splitlines():  # "  endpoints: 2768 created, 0 updated, ..."
            if line.strip().startswith("endpoints:"):
                return seconds, int(line.split(":", 1)[1].split()[0])
        return seconds, 0

    def scale(self, name: str, total_endpoints: int, *, ingest: bool,
              prices: bool) -> ScaleResult:
        with self.served(name, total_endpoints) as s:
            result = ScaleResult(name, s.endpoints, s.import_s, s.startup_s)
            self._scenarios(result, s, prices=prices)
            if ingest:
                result.ingest_api = outcomes.api_throughput(
                    s.server.base, s.admin, measured_endpoints(),
                    seconds=self.args.ingest_seconds)
            return result

    @contextmanager
    def variant(self, s: Served, sc: Scenario) -> Iterator[Server]:
        """The server for ``sc``: the scale's own at the defaults, else a `routeyard serve`
        of the same database with the scenario's settings, warmed up, stopped after."""
        if not sc.settings:
            yield s.server
            return
        server = serve({**s.env, **dict(sc.settings)}, self.tmp,
                       f"routeyard-{sc.slug}")
        server.start()
        try:
            server.wait_for(endpoints_path(catalog_gen.EIGHT), {"Authorization": f"Bearer {s.key}"})
            if sc.status == 200:
                self.wrk(server.base + sc.path, sc.headers, self.args.warmup)
            yield server
        finally:
            server.stop()

    def _scenarios(self, result: ScaleResult, s: Served, *, prices: bool) -> None:
        a, main = self.args, s.server
        plan = scenarios(s.key, prices=prices)
        if a.only:
            wanted = {w.strip() for w in a.only.split(",")}
            plan = [sc for sc in plan if sc.slug in wanted]
        seeded = measured_endpoints()
        with plain_client() as client:
            responses = {"api/v1/admin/outcomes": seed(client, main.base, s.admin, seeded)}
            for sc in plan:
                responses[sc.slug] = capture(client, main.base, sc)[1]
            responses_file = self.tmp / "responses.json"
            write_responses(responses_file, responses)
            port = free_port()
            base = Server("baseline", [sys.executable, "-m", "bench.baseline_app", "--port",
                                       str(port), "--responses", str(responses_file)],
                          port, {**os.environ, "PYTHONPATH": str(ROOT)},
                          self.tmp / "baseline.log", cwd=ROOT)
            base.start()
            try:
                base.wait_for("/" + plan[0].slug)
                for sc in plan:
                    if sc.status == 200 and not sc.stream and not sc.settings:
                        self.wrk(main.base + sc.path, sc.headers, a.warmup)
                self.wrk(base.base + "/" + plan[0].slug, {}, a.warmup)
                result.warm = main.memory()
                for sc in plan:
                    with self.variant(s, sc) as ours:
                        # Fresh outcomes, then this scenario's bytes for the baseline: the
                        # live windows slide, so a body captured minutes ago may be served
                        # no more.
                        seed(client, ours.base, s.admin, seeded)
                        headers, responses[sc.slug] = capture(client, ours.base, sc)
                        write_responses(responses_file, responses)
                        client.post(base.base + RELOAD_PATH)
                        row = self._scenario(sc, headers, ours, base, s.admin, seeded)
                    result.rows.append(row)
                    print(f"  {sc.name}{' (' + sc.settings_label + ')' if sc.settings else ''}: "
                          f"{row.ratio:.2f} x baseline, p99 {row.p99_ratio:.2f} x", flush=True)
                if a.profile:
                    result.profile = self._profile(main, plan[0], result.label)
                result.end = main.memory()
            finally:
                base.stop()

    def _scenario(self, s: Scenario, headers: dict[str, str], ours: Server, base: Server,
                  admin: str, seeded: list[outcomes.Endpoint]) -> Row:
        a = self.args
        row = Row(s.name, settings=s.settings_label, price=s.price)
        stream_failures = 0
        for rep in range(a.repeat):
            for server in ([base, ours] if rep % 2 == 0 else [ours, base]):
                url = server.base + (s.path if server is ours else "/" + s.slug)
                if s.stream:
                    with outcomes.Stream(server.base, admin, seeded[:8], rate=a.stream_rate,
                                         batch=a.stream_batch) as stream:
                        result = self.wrk(url, headers)
                    if server is ours:
                        stream_failures += stream.failed
                else:
                    result = self.wrk(url, headers)
                (row.ours if server is ours else row.base).append(result)
        failing = s.status >= 400  # wrk counts statuses >= 400 as errors
        row.errors = stream_failures + sum(
            r.socket_errors + (r.requests - r.status_errors if failing else r.status_errors)
            for r in row.ours)
        ours_size = statistics.median(r.bytes_per_response for r in row.ours)
        base_size = statistics.median(r.bytes_per_response for r in row.base)
        if not s.stream and abs(ours_size - base_size) > 0.01 * base_size:
            row.note = (f"{s.name}: {ours_size:.0f} bytes per response, the baseline "
                        f"{base_size:.0f}: the body changed during the run")
        row.memory = ours.memory()
        return row

    def _profile(self, ours: Server, s: Scenario, label: str) -> str:
        out = self.tmp / f"profile-{label.split()[0]}.txt"
        sampler = profile.start(ours.worker_pid(), self.args.duration, out)
        self.wrk(ours.base + s.path, s.headers)
        sampler.wait(timeout=self.args.duration + 60)
        return f"py-spy, {s.name}, {label} (raw stacks: {out})\n" + profile.summarise(out)

    def soak(self, total_endpoints: int, seconds: int) -> Soak:
        """Every scenario in turn for ``seconds`` with the outcome stream on, sampling the
        server's memory after each 10 s run."""
        a = self.args
        with self.served("soak", total_endpoints) as served:
            server, admin = served.server, served.admin
            seeded = measured_endpoints()
            with plain_client() as client:
                seed(client, server.base, admin, seeded)
            plan = [s for s in scenarios(served.key, prices=False)
                    if not s.revalidate and not s.stream and not s.settings]
            for s in plan:
                self.wrk(server.base + s.path, s.headers, a.warmup)
            samples = [(0.0, server.memory())]
            started = time.perf_counter()
            with outcomes.Stream(server.base, admin, seeded[:8], rate=a.stream_rate,
                                 batch=a.stream_batch):
                i = 0
                while (elapsed := time.perf_counter() - started) < seconds:
                    s = plan[i % len(plan)]
                    self.wrk(server.base + s.path, s.headers, max(1, min(10, int(seconds - elapsed))))
                    samples.append((time.perf_counter() - started, server.memory()))
                    i += 1
        return Soak(seconds, samples)

    def direct_ingest(self) -> list[tuple[str, outcomes.Throughput, outcomes.Throughput]]:
        endpoints = [(f"bench/filler-{i // 5:05d}", f"bench-p{i % 60:02d}/v0")
                     for i in range(500)]
        url = databases.sqlite_url(self.tmp, "ingest")
        out = [("SQLite", *outcomes.direct_throughput(url, endpoints))]
        why = databases.postgres_reachable(self.args.pg_url)
        if why is None:
            with databases.postgres_database(self.args.pg_url, "ingest") as url:
                out.append(("PostgreSQL", *outcomes.direct_throughput(url, endpoints)))
        else:
            print(f"  PostgreSQL unreachable ({why}): ingest into it not measured",
                  file=sys.stderr)
        return out


def load_settings(args: argparse.Namespace) -> list[str]:
    return [
        (f"load: wrk, {args.connections} connections, {args.threads} threads, {args.duration} s "
         f"per run, {args.repeat} runs per scenario and server with routeyard and the baseline "
         "alternating; medians, and the ratio is the median of the paired runs' ratios"),
        (f"servers: one Granian worker each; routeyard on {args.db} started as `routeyard serve "
         "--port P --workers 1` starts it, every setting at its default (access log on, log "
         "level info, metrics, key-use notes, the failed-authentication throttle) except "
         + ", ".join(f"{k.removeprefix('ROUTEYARD_')}={v}" for k, v in BENCH_SETTINGS.items())
         + " (no provider to probe on loopback; the admin key posts the outcome stream); a "
         "scenario that changes more says so in its settings column, on a server of its own"),
        (f"live-health scenario: {args.stream_rate:g} batches/s of {args.stream_batch} outcomes "
         "posted to /api/v1/admin/outcomes while wrk runs (the baseline gets the same stream)"),
    ]


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load.wrk_path()
    if args.profile and profile.py_spy() is None:
        raise SystemExit(profile.INSTALL_HINT)
    if args.db == "postgresql" and (why := databases.postgres_reachable(args.pg_url)):
        raise SystemExit(f"PostgreSQL unreachable at {args.pg_url}: {why}")
    wanted = [s.strip() for s in args.scales.split(",") if s.strip()]
    if not wanted or set(wanted) - {"starter", "large"}:
        raise SystemExit("--scales takes starter, large or both")
    tmp = Path(tempfile.mkdtemp(prefix="routeyard-bench-"))
    bench = Bench(args, tmp)
    try:
        print(f"routeyard bench: working in {tmp}", flush=True)
        run = Run(load_settings(args), help_time(), bench.fresh_start())
        if not args.no_models_dev:
            run.models_dev = bench.models_dev_import()
        names = [n for n in ("starter", "large") if n in wanted]
        for name in names:
            print(f"{name} catalog:", flush=True)
            run.scales.append(bench.scale(
                name, args.endpoints if name == "large" else 0,
                ingest=name == names[-1] and args.ingest_seconds > 0,
                prices=name == names[0] and not args.no_prices))
        run.ingest = bench.direct_ingest()
        if args.soak:
            print(f"soak: {args.soak} s", flush=True)
            run.soak = bench.soak(args.endpoints, args.soak)
        command = shlex.join(["python", "bench/run.py", *(argv or sys.argv[1:])])
        text = render(run, root=ROOT, command=command)
        print("\n" + text)
        if not args.no_write:
            write_results(RESULTS, text)
            print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
