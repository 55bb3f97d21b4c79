"""The figures of a bench/peers.py run: tables, routeyard's targets, the SVG chart and the
section of bench/RESULTS.md between its own markers."""

from __future__ import annotations

import argparse
import datetime
import math
import os
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.report import commit, machine, table

if TYPE_CHECKING:
    from bench.peers import Gateway, Measured, Results

START = "<!-- peers:start (written by bench/peers.py; edit outside these markers) -->"
END = "<!-- peers:end -->"
COLOURS = {"routeyard": "#2b7bb9", "floor": "#9a9a9a", "litellm": "#d9822b",
           "portkey": "#7a4fb3"}


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _ms(v: float | None, digits: int = 2) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _signed(v: float | None) -> str:
    return "—" if v is None else f"{v:+.2f}"


class Figures:
    """Medians and paired differences of one run's cells."""

    def __init__(self, res: Results) -> None:
        self.res = res

    def runs(self, setting: str, stream: bool, conns: int, key: str) -> list[Measured]:
        return self.res.runs.get((setting, stream, conns, key), [])

    def timed(self, setting: str, stream: bool, conns: int, key: str) -> list[Measured]:
        """The runs that completed requests (a run with none has no percentiles)."""
        return [m for m in self.runs(setting, stream, conns, key) if m.result.requests]

    def median(self, setting: str, stream: bool, conns: int, key: str,
               attr: str) -> float | None:
        return _median([getattr(m.result, attr)
                        for m in self.timed(setting, stream, conns, key)])

    def added(self, setting: str, stream: bool, conns: int, key: str, attr: str = "p50_ms",
              base: str = "direct") -> float | None:
        """Median over the turns of (this server's figure - the base's in the same turn)."""
        ours = self.runs(setting, stream, conns, key)
        theirs = self.runs(setting, stream, conns, base)
        pairs = [getattr(a.result, attr) - getattr(b.result, attr)
                 for a, b in zip(ours, theirs, strict=False)
                 if a.result.requests and b.result.requests]
        return _median(pairs)

    def ratio(self, setting: str, stream: bool, conns: int, key: str) -> float | None:
        ours = self.runs(setting, stream, conns, key)
        theirs = self.runs(setting, stream, conns, "direct")
        return _median([a.result.rps / b.result.rps
                        for a, b in zip(ours, theirs, strict=False) if b.result.rps])

    def cpu_us(self, setting: str, stream: bool, conns: int, key: str,
               upstream: bool = False) -> float | None:
        runs = self.runs(setting, stream, conns, key)
        requests = sum(m.upstream_requests for m in runs)
        if not requests:
            return None
        cpu = sum(m.upstream_cpu_s if upstream else m.cpu_s for m in runs)
        return cpu / requests * 1e6

    def errors(self, setting: str, stream: bool, key: str) -> tuple[int, int]:
        """(errors, requests) over every run of the setting and mode."""
        runs = [m for c in self.res.connections for m in self.runs(setting, stream, c, key)]
        return sum(m.errors for m in runs), sum(m.result.requests for m in runs)

    def ttfb(self, setting: str, key: str) -> float | None:
        median = _median(self.res.ttfb.get((setting, key), []))
        return None if median is None else median * 1000

    def ttfb_p99(self, setting: str, key: str) -> float | None:
        values = sorted(self.res.ttfb.get((setting, key), []))
        if len(values) < 2:
            return None
        return values[min(len(values) - 1, math.ceil(0.99 * len(values)) - 1)] * 1000


def _why(gw: Gateway, stream: bool) -> str:
    return gw.skipped or gw.broken.get(stream, "")


def _setting_tables(f: Figures, setting: str, gateways: list[Gateway]) -> list[str]:
    hi = max(f.res.connections)
    one = 1 if 1 in f.res.connections else min(f.res.connections)
    out: list[str] = []
    for stream in (False, True):
        rows = []
        for gw in gateways:
            why = _why(gw, stream)
            if why and not f.runs(setting, stream, one, gw.key):
                rows.append([gw.name, f"not measured: {why[:140]}"] + [""] * 6)
                continue
            k = gw.key
            err, req = f.errors(setting, stream, k)
            if k == "direct":
                cpu = f"({_ms(f.cpu_us(setting, stream, hi, k, upstream=True), 0)} upstream)"
                added = "—"
                ttfb_added = "—"
            else:
                cpu = _ms(f.cpu_us(setting, stream, hi, k), 0)
                added = (f"{_signed(f.added(setting, stream, one, k))} / "
                         f"{_signed(f.added(setting, stream, one, k, 'p99_ms'))}")
                t, d = f.ttfb(setting, k), f.ttfb(setting, "direct")
                ttfb_added = _signed(t - d) if t is not None and d is not None else "—"
            ratio = f.ratio(setting, stream, hi, k)
            row = [gw.name,
                   (f"{_ms(f.median(setting, stream, one, k, 'p50_ms'))} / "
                   f"{_ms(f.median(setting, stream, one, k, 'p99_ms'))}"),
                   added,
                   f"{(f.median(setting, stream, hi, k, 'rps') or 0):,.0f}",
                   "—" if k == "direct" or ratio is None else f"{ratio:.2f}",
                   _ms(f.median(setting, stream, hi, k, "p50_ms"), 1),
                   cpu, f"{err} / {req:,}"]
            if stream:
                row[3:3] = [f"{_ms(f.ttfb(setting, k))} / {_ms(f.ttfb_p99(setting, k))}",
                            ttfb_added]
            rows.append(row)
        header = ["path", f"{one} conn p50 / p99 ms", "added p50 / p99 ms",
                  f"{hi} conn req/s", "× direct", f"{hi} conn p50 ms",
                  "CPU µs / request", "errors / requests"]
        if stream:
            header[1] = f"{one} conn p50 / p99 ms (whole stream)"
            header[3:3] = ["first data p50 / p99 ms", "first data added ms"]
        for r in rows:
            r.extend([""] * (len(header) - len(r)))
        title = "streaming" if stream else "not streaming"
        out += [f"#### {title}", "", table(header, rows), ""]
    return out


def _server_table(res: Results) -> str:
    rows = []
    for gw in res.gateways:
        if gw.key == "direct":
            rss, pss = res.memory.get("direct", (0.0, 0.0))
            rows.append([gw.name, gw.detail, f"{rss:.0f} / {pss:.0f} (the fake provider)",
                         "—", "—"])
            continue
        if gw.skipped:
            rows.append([gw.name, gw.detail or "—", "—", "—", f"SKIPPED: {gw.skipped}"])
            continue
        rss, pss = res.memory.get(gw.key, (0.0, 0.0))
        rows.append([gw.name, gw.detail, f"{rss:.0f} / {pss:.0f}",
                     f"{gw.startup_s:.2f} s" if gw.startup_s is not None else "—",
                     "; ".join(gw.changed)])
    return table(["server", "runs on", "MiB after the run: RSS / PSS, all its processes",
                  "start to first routed 200", "changed from its defaults"], rows)


def _fallback(f: Figures, res: Results) -> list[str]:
    setting = "fallback-instant"
    if not any(k[0] == setting for k in res.runs):
        return []
    names = {"direct": "direct to the second endpoint", "routeyard": "routeyard, one endpoint",
             "fallback": "routeyard, first endpoint refusing connections"}
    rows = []
    for stream in (False, True):
        for key, name in names.items():
            runs = f.runs(setting, stream, 1, key)
            if not runs:
                continue
            rows.append([name + (", streaming" if stream else ""),
                         (f"{_ms(f.median(setting, stream, 1, key, 'p50_ms'))} / "
                         f"{_ms(f.median(setting, stream, 1, key, 'p99_ms'))}"),
                         "—" if key == "direct" else _signed(f.added(setting, stream, 1, key)),
                         "—" if key != "fallback" else
                         _signed(f.added(setting, stream, 1, key, base="routeyard")),
                         str(sum(m.errors for m in runs))])
    out = ["### Fallback cost (routeyard, 1 connection, instant setting)", "",
           table(["path", "p50 / p99 ms", "added p50 over direct", "over one endpoint",
                  "errors"], rows), ""]
    if res.fallback_plan:
        out += ["routeyard's plan for the fallback request (`POST /api/v1/router/plan`):", "",
                "```", res.fallback_plan, "```", ""]
    return out


def _targets(f: Figures, res: Results) -> list[str]:
    gw = next((g for g in res.gateways if g.key == "routeyard"), None)
    if gw is None or gw.skipped:
        return ["### routeyard's targets", "",
                f"- not measured: {gw.skipped if gw else 'routeyard not in --peers'}", ""]
    s, hi = "instant", max(res.connections)

    def line(what: str, value: float | None, target: float, unit: str,
             higher: bool = False) -> str:
        if value is None:
            return f"- {what}: not measured (target {target:g} {unit})"
        ok = value >= target if higher else value <= target
        return (f"- {what}: {value:,.2f} {unit} (target {'≥' if higher else '≤'} "
                f"{target:,g} {unit}): {'met' if ok else 'MISSED'}")

    t, d = f.ttfb("instant", "routeyard"), f.ttfb("instant", "direct")
    rss = res.memory.get("routeyard", (None, None))[0]
    lines = ["### routeyard's targets (instant setting; issues 17 and 19)", "",
             line("added latency p50, 1 connection, not streaming",
                  f.added(s, False, 1, "routeyard"), 1, "ms"),
             line("added latency p99, 1 connection, not streaming",
                  f.added(s, False, 1, "routeyard", "p99_ms"), 5, "ms"),
             line("added latency p50, 1 connection, streaming (whole stream)",
                  f.added(s, True, 1, "routeyard"), 1, "ms"),
             line("added latency p99, 1 connection, streaming (whole stream)",
                  f.added(s, True, 1, "routeyard", "p99_ms"), 5, "ms"),
             line("a stream's first data over direct, p50",
                  None if t is None or d is None else t - d, 1, "ms"),
             line(f"CPU per routed request, {hi} connections, not streaming",
                  f.cpu_us(s, False, hi, "routeyard"), 150, "µs"),
             line(f"CPU per routed request, {hi} connections, streaming",
                  f.cpu_us(s, True, hi, "routeyard"), 150, "µs"),
             line(f"throughput, {hi} connections, one worker, not streaming",
                  f.median(s, False, hi, "routeyard", "rps"), 3000, "req/s", higher=True),
             line("RSS after the run (all processes)", rss, 150, "MiB"),
             line("fallback over a direct call to the second endpoint, p50",
                  f.added("fallback-instant", False, 1, "fallback"), 1, "ms")]
    floor = next((g for g in res.gateways if g.key == "floor" and not g.skipped), None)
    for stream in (False, True):
        ours_cpu, floor_cpu = (f.cpu_us(s, stream, hi, k) for k in ("routeyard", "floor"))
        over = f.added(s, stream, 1, "routeyard", base="floor")
        if floor and ours_cpu and floor_cpu and over is not None:
            mode = "streaming" if stream else "not streaming"
            lines.append(f"- above the pass-through floor ({mode}): routeyard's CPU "
                         f"{ours_cpu:,.0f} µs / request against the floor's {floor_cpu:,.0f} µs "
                         f"(routing's own share {ours_cpu - floor_cpu:,.0f} µs); added p50 at 1 "
                         f"connection over the floor {over:+.2f} ms")
    for stream in (False, True):
        own = res.own.get((s, stream), [])
        if own:
            lines.append(f"- routeyard's own time by its `Server-Timing` (`routeyard;dur`, "
                         f"everything but the upstream), one request at a time, "
                         f"{'streaming' if stream else 'not streaming'}: p50 "
                         f"{statistics.median(own):.3f} ms over {len(own)} requests")
    for name in ("litellm", "portkey"):
        peer = next((g for g in res.gateways if g.key == name and not g.skipped), None)
        ours, theirs = (f.median(s, False, hi, k, "rps") for k in ("routeyard", name))
        if peer and ours and theirs:
            lines.append(f"- throughput, {hi} connections, not streaming: "
                         f"{ours / theirs:.1f} × {peer.name}")
    return lines + [""]


def render(res: Results, *, root: Path, command: str, args: argparse.Namespace,
           setting_lines: list[str], minutes: float) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    f = Figures(res)
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    wrk_version = (wrk.stdout or wrk.stderr).split("[")[0].strip() or "wrk"
    load1, load5, _ = os.getloadavg()
    gateways = [g for g in res.gateways]
    lines = [
        f"- date: {now}; the run took {minutes:.0f} min",
        (f"- machine: {machine()}; **shared** with other jobs (load average "
        f"{load1:.1f} / {load5:.1f} over 1 / 5 min at the end of the run): absolute figures "
        "are noisy, the medians of paired turns and the ratios much less"),
        f"- commit: {commit(root)}",
        f"- command: `{command}`",
        (f"- load: {wrk_version}, one thread, {args.duration} s per run, {args.repeat} turns "
         f"A B C D, A B C D … over {', '.join(g.key for g in gateways if not g.skipped)}; "
         "p50 / p99 are medians over the turns of wrk's percentiles; *added* is the median "
         "over the turns of (gateway − direct in the same turn); × direct likewise for req/s"),
        ("- CPU µs / request: user + system time of every process of the gateway "
         "(/proc/PID/stat) during the runs at the highest connection count and until it was "
         "idle again, over the completions the fake provider was asked for meanwhile; direct "
         "shows the fake provider's own (upstream) CPU per request. Between two runs the bench "
         "waits until the gateway and the fake provider are idle"),
        (f"- first data: one request at a time for {args.ttfb_seconds:g} s per turn (a raw "
         "HTTP/1.1 client, `bench/http1.py`): from the request sent to the first `data:` line"),
        "- fake provider (`routeyard fake-provider`, one process), settings: "
        + "; ".join(setting_lines),
        ("- wrk, the fake provider and the gateway share the 2 cores; every server is started "
        "by the bench and killed at the end; loopback only"),
        "",
        "![added latency over direct by connection count](peers.svg)",
        "",
        "### Servers", "", _server_table(res), "",
    ]
    for s in res.settings:
        lines += [f"### {s.describe()}", "", *_setting_tables(f, s.name, gateways)]
    wrk_runs = f.runs(res.settings[0].name, False, max(res.connections), "direct")
    if wrk_runs:
        requests = sum(m.result.requests for m in wrk_runs)
        seconds = sum(m.result.seconds for m in wrk_runs)
        wrk_cpu = sum(m.wrk_cpu_s for m in wrk_runs)
        lines += [(f"- the load generator's own cost: wrk used {wrk_cpu / requests * 1e6:.0f} µs "
                  f"of CPU per request at {max(res.connections)} connections (direct, "
                  f"{res.settings[0].name}), {100 * wrk_cpu / seconds:.0f} % of one core at "
                  f"{requests / seconds:,.0f} req/s: it is not what limits the figures"), ""]
    lines += _fallback(f, res)
    lines += _targets(f, res)
    if res.profile:
        lines += ["```", res.profile, "```", ""]
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    """Replace the peers section of ``path`` (between its markers), or append one."""
    block = f"{START}\n{text.rstrip()}\n{END}"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    if START in old and END in old:
        head, rest = old.split(START, 1)
        path.write_text(head + block + rest.split(END, 1)[1], encoding="utf-8")
        return
    path.write_text(old.rstrip() + "\n\n## The router against its peers (bench/peers.py)\n\n"
                    + block + "\n", encoding="utf-8")


# -- the chart ---------------------------------------------------------------------------


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart(res: Results) -> str:
    """Added p50 latency over direct (log scale) by connection count: one panel per setting
    and mode, one bar per gateway. Plain SVG, no dependency."""
    f = Figures(res)
    peers = [g for g in res.gateways if g.key in COLOURS and not g.skipped]
    panels = [(s.name, stream) for s in res.settings for stream in (False, True)]
    values: dict[tuple[str, bool, int, str], float | None] = {
        (s, st, c, g.key): f.added(s, st, c, g.key)
        for s, st in panels for c in res.connections for g in peers}
    positive = [v for v in values.values() if v is not None and v > 0]
    top = 10 ** math.ceil(math.log10(max(positive))) if positive else 10.0
    bottom = 0.01 if min(positive, default=1) < 0.1 else 0.1
    decades = round(math.log10(top / bottom))
    pw, ph, left, gap, head, row_gap = 360, 200, 60, 30, 40, 60
    rows = len(res.settings)
    width = left + 2 * (pw + gap) + 60  # room for the legend
    height = head + rows * (ph + row_gap) + 30
    svg = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'),
           '<rect width="100%" height="100%" fill="white"/>',
           (f'<text x="{left}" y="16" font-size="14" font-weight="bold">Added latency over '
            'direct, p50 (ms, log scale), by connection count</text>')]

    for i, (s, stream) in enumerate(panels):
        x0 = left + (i % 2) * (pw + gap)
        top_y = head + (i // 2) * (ph + row_gap)

        def y(v: float, top_y: float = top_y) -> float:
            v = min(max(v, bottom), top)
            return top_y + ph - ph * math.log10(v / bottom) / decades

        svg.append(f'<text x="{x0 + pw / 2}" y="{top_y - 8}" text-anchor="middle" '
                   f'font-weight="bold">{_esc(s)}, {"streaming" if stream else "not streaming"}'
                   '</text>')
        for d in range(decades + 1):
            v = bottom * 10 ** d
            yy = y(v)
            svg.append(f'<line x1="{x0}" x2="{x0 + pw}" y1="{yy:.1f}" y2="{yy:.1f}" '
                       'stroke="#ddd"/>')
            if i % 2 == 0:
                svg.append(f'<text x="{x0 - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:g}</text>')
        svg.append(f'<rect x="{x0}" y="{top_y}" width="{pw}" height="{ph}" fill="none" '
                   'stroke="#999"/>')
        group = pw / max(1, len(res.connections))
        bar = min(40.0, (group - 20) / max(1, len(peers)))
        for j, c in enumerate(res.connections):
            gx = x0 + j * group + (group - bar * len(peers)) / 2
            svg.append(f'<text x="{x0 + j * group + group / 2}" y="{top_y + ph + 16}" '
                       f'text-anchor="middle">{c} connection{"s" if c > 1 else ""}</text>')
            for k, g in enumerate(peers):
                v = values[(s, stream, c, g.key)]
                bx = gx + k * bar
                if v is None:
                    svg.append(f'<text x="{bx + bar / 2:.1f}" y="{top_y + ph - 4}" '
                               'text-anchor="middle" fill="#c00">n/a</text>')
                    continue
                yy = y(v)
                svg.append(f'<rect x="{bx:.1f}" y="{yy:.1f}" width="{bar - 2:.1f}" '
                           f'height="{top_y + ph - yy:.1f}" fill="{COLOURS[g.key]}"/>')
                label = f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}"
                svg.append(f'<text x="{bx + bar / 2:.1f}" y="{yy - 3:.1f}" '
                           f'text-anchor="middle" font-size="9">{label}</text>')
    lx = left
    for g in peers:
        svg.append(f'<rect x="{lx}" y="{height - 30}" width="12" height="12" '
                   f'fill="{COLOURS[g.key]}"/>')
        svg.append(f'<text x="{lx + 16}" y="{height - 20}">{_esc(g.name)}</text>')
        lx += 28 + 6 * len(g.name)
    svg.append(f'<text x="{left}" y="{height - 4}" fill="#666">median over the turns of '
               '(gateway p50 − direct p50 in the same turn); values ≤ the axis floor are '
               'drawn at the floor; n/a: not measured</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"
