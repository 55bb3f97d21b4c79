"""The figures of one run, the targets they are judged by, and bench/RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.load import LoadResult
from bench.outcomes import Throughput
from bench.procs import Memory

START = "<!-- results:start (written by bench/run.py; edit outside these markers) -->"
END = "<!-- results:end -->"
ENDPOINT_ROUTES = ("endpoints, 8 endpoints", "endpoints, 60 endpoints")
STREAM = "endpoints (8) + outcome stream"
ACCESS_LOG = "access log"  # the price (bench/scenarios.py PRICES) the issue caps at 10 %
NO_MEMORY = Memory(0.0, 0.0, 0.0)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), {ram} RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def commit(root: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return head + (" (with uncommitted changes)" if dirty else "")


@dataclass
class Row:
    """One scenario at one catalog scale: repeated runs against routeyard and the baseline."""

    scenario: str
    settings: str = ""  # settings changed from the defaults ("" : none)
    price: str = ""  # the per-request cost switched off in this run ("" : none)
    ours: list[LoadResult] = field(default_factory=list)
    base: list[LoadResult] = field(default_factory=list)
    errors: int = 0  # unexpected statuses, socket errors, failed stream posts
    memory: Memory = NO_MEMORY
    note: str = ""

    @staticmethod
    def _median(runs: Sequence[LoadResult], attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs) if runs else 0.0

    @property
    def ratio(self) -> float:
        """Median of the per-run ratios (each run's pair ran back to back)."""
        pairs = [o.rps / b.rps for o, b in zip(self.ours, self.base, strict=True) if b.rps]
        return statistics.median(pairs) if pairs else 0.0

    @property
    def p99_ratio(self) -> float:
        pairs = [o.p99_ms / b.p99_ms for o, b in zip(self.ours, self.base, strict=True)
                 if b.p99_ms]
        return statistics.median(pairs) if pairs else 0.0

    def cells(self) -> list[str]:
        m = self._median
        return [
            self.scenario, f"`{self.settings}`" if self.settings else "defaults",
            f"{m(self.ours, 'rps'):,.0f}", f"{m(self.base, 'rps'):,.0f}",
            f"**{self.ratio:.2f}**", f"{m(self.ours, 'p50_ms'):.1f}",
            f"{m(self.ours, 'p99_ms'):.1f}", f"{m(self.base, 'p99_ms'):.1f}",
            f"{self.p99_ratio:.2f}", str(self.errors), str(self.memory),
        ]


HEADER = ["scenario", "settings", "req/s", "baseline req/s", "ratio", "p50 ms", "p99 ms",
          "baseline p99 ms", "p99 ratio", "errors", "MiB: worker RSS / total RSS / total PSS"]


@dataclass
class ScaleResult:
    """Everything measured against one served catalog."""

    name: str
    endpoints: int
    import_s: float
    startup_s: float
    warm: Memory = NO_MEMORY
    end: Memory = NO_MEMORY
    rows: list[Row] = field(default_factory=list)
    ingest_api: Throughput | None = None
    profile: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.endpoints:,} endpoints)"

    def row(self, scenario: str) -> Row | None:
        """The scenario's row at the defaults."""
        return next((r for r in self.rows if r.scenario == scenario and not r.settings), None)

    def prices(self) -> list[tuple[Row, float]]:
        """Each run with a per-request cost switched off, and that cost's share of the
        8-endpoint route's throughput: 1 - (ratio at the defaults) / (ratio without it)."""
        default = self.row(ENDPOINT_ROUTES[0])
        if default is None:
            return []
        return [(r, 1 - default.ratio / r.ratio if r.ratio else 0.0)
                for r in self.rows if r.price]


@dataclass
class Soak:
    seconds: float
    samples: list[tuple[float, Memory]]  # (seconds into the load, memory)

    def minute(self, *, last: bool) -> float:
        """Median worker RSS over the first (or last) minute of samples, in MiB. A median:
        the /models runs raise RSS for a moment (its multi-megabyte body is copied per
        connection), the runs after them bring it down again."""
        bound = self.samples[-1][0] - 60 if last else 60
        window = [m.worker_rss for t, m in self.samples
                  if (t >= bound if last else 0 < t <= bound)] or [self.samples[-1][1].worker_rss]
        return statistics.median(window)

    @property
    def growth(self) -> float:
        """Worker RSS growth from the first minute of load to the last, in MiB."""
        return self.minute(last=True) - self.minute(last=False)


@dataclass
class Run:
    """One run of bench/run.py."""

    settings: list[str]  # how the load was made, one line each
    help_s: float
    fresh_start_s: float
    scales: list[ScaleResult] = field(default_factory=list)
    models_dev: tuple[float, int] | None = None  # (seconds, endpoints created)
    ingest: list[tuple[str, Throughput, Throughput]] = field(default_factory=list)
    soak: Soak | None = None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "| " + " | ".join("-" * w for w in widths) + " |",
                      *(line(r) for r in rows)])


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def targets(run: Run) -> list[list[str]]:
    """The issue's targets: [what, measured, met or MISSED]."""
    out: list[list[str]] = []
    for sc in run.scales:
        for name in (*ENDPOINT_ROUTES, STREAM):
            r = sc.row(name)
            if r is not None:
                out.append([f"{name}, {sc.label}, defaults: req/s >= 0.75 x baseline",
                            f"{r.ratio:.2f} x", _verdict(r.ratio >= 0.75)])
                out.append([f"{name}, {sc.label}, defaults: p99 <= 2 x baseline",
                            f"{r.p99_ratio:.2f} x", _verdict(r.p99_ratio <= 2.0)])
        for r, share in sc.prices():
            if r.price == ACCESS_LOG:
                out.append([(f"the access log costs <= 10 % of the 8-endpoint route's "
                             f"throughput, {sc.label}"), f"{share:.1%}",
                            _verdict(share <= 0.10)])
    if len(run.scales) == 2:
        small, large = run.scales
        for name in ENDPOINT_ROUTES:
            a, b = small.row(name), large.row(name)
            if a is not None and b is not None and a.ratio:
                change = b.ratio / a.ratio - 1
                out.append([(f"{name}: {large.name} within 10% of {small.name} "
                             "(ratio to baseline)"), f"{change:+.1%}", _verdict(change >= -0.10)])
    largest = run.scales[-1]
    out.append([f"worker RSS after warm-up, {largest.label} <= 150 MiB",
                (f"{largest.warm.worker_rss:.0f} MiB (main + worker: RSS "
                 f"{largest.warm.total_rss:.0f}, PSS {largest.warm.total_pss:.0f})"),
                _verdict(largest.warm.worker_rss <= 150)])
    if run.soak is not None:
        s = run.soak
        first, last = s.minute(last=False), s.minute(last=True)
        out.append([(f"worker RSS flat over {s.seconds / 60:.0f} min of load (median of the "
                     "first minute -> of the last)"),
                    f"{first:.0f} -> {last:.0f} MiB ({s.growth:+.1f})",
                    _verdict(s.growth <= max(2.0, 0.02 * first))])
    out.append(["first 200 within 2 s of `routeyard serve`, fresh database",
                f"{run.fresh_start_s:.2f} s", _verdict(run.fresh_start_s <= 2.0)])
    for sc in run.scales:
        out.append([f"first 200 within 2 s of `routeyard serve`, {sc.label}",
                    f"{sc.startup_s:.2f} s", _verdict(sc.startup_s <= 2.0)])
    out.append(["`routeyard --help` under 0.3 s", f"{run.help_s:.3f} s",
                _verdict(run.help_s < 0.3)])
    for db, total, _record in run.ingest:
        out.append([f"outcome ingest >= 20,000/s per process, {db} (record + flush)",
                    f"{total.per_second:,.0f}/s", _verdict(total.per_second >= 20_000)])
    return out


def render(run: Run, *, root: Path, command: str) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"- date: {now}", f"- machine: {machine()}", f"- commit: {commit(root)}",
             f"- command: `{command}`", *(f"- {s}" for s in run.settings), ""]
    for sc in run.scales:
        lines += [f"### {sc.label}", "", table(HEADER, [r.cells() for r in sc.rows]), ""]
        if prices := sc.prices():
            lines += [
                ("Price of each per-request cost that is on by default: the 8-endpoint route "
                 "with it switched off (rows above), its share of the route's throughput = "
                 "1 - ratio at the defaults / ratio without it (noise: about ±5 points):"),
                "",
                table(["switched off", "settings", "ratio without it", "p99 ratio",
                       "share of throughput"],
                      [[r.price, f"`{r.settings}`", f"{r.ratio:.2f}", f"{r.p99_ratio:.2f}",
                        f"{share:.1%}"] for r, share in prices]),
                "",
            ]
        lines += [f"- note: {r.note}" for r in sc.rows if r.note]
        lines += [
            (f"- `routeyard catalog apply` of the generated catalog: {sc.import_s:.1f} s; "
             f"first 200 after `routeyard serve`: {sc.startup_s:.2f} s"),
            (f"- memory (MiB: worker RSS / total RSS / total PSS) after warm-up {sc.warm}, "
             f"after every scenario {sc.end}"),
        ]
        if sc.ingest_api is not None:
            t = sc.ingest_api
            lines.append(f"- ingest API: {t.per_second:,.0f} outcomes/s ({t.note}, "
                         f"{t.errors} errors)")
        if sc.profile:
            lines += ["", "```", sc.profile, "```"]
        lines.append("")
    other = [["`routeyard --help` (median of 5)", f"{run.help_s:.3f} s"],
             ["first 200 after `routeyard serve`, fresh database (serve loads the starter)",
              f"{run.fresh_start_s:.2f} s"]]
    if run.models_dev is not None:
        seconds, created = run.models_dev
        other.append([(f"`routeyard catalog import --format models-dev bundled` "
                       f"({created:,} endpoints)"), f"{seconds:.1f} s"])
    for db, total, record in run.ingest:
        other.append([f"outcome ingest into {db}, in process ({total.note})",
                      f"{total.per_second:,.0f}/s (record alone {record.per_second:,.0f}/s)"])
    if run.soak is not None:
        other.append(["soak: worker RSS (MiB) about every 10 s",
                      " ".join(f"{m.worker_rss:.0f}" for _, m in run.soak.samples)])
    lines += ["### Other figures", "", table(["figure", "value"], other), "",
              "### Targets", "", table(["target", "measured", "verdict"], targets(run))]
    return "\n".join(lines)


def write_results(path: Path, text: str) -> None:
    """Replace the generated part of ``path`` (between the markers) with ``text``; what is
    written outside the markers (the analysis) is kept."""
    block = f"{START}\n{text.rstrip()}\n{END}"
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if START in old and END in old:
            head, rest = old.split(START, 1)
            tail = rest.split(END, 1)[1]
            path.write_text(head + block + tail, encoding="utf-8")
            return
    path.write_text(f"# Benchmark results\n\n{block}\n", encoding="utf-8")
