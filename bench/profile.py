"""Profiling a server worker under load with py-spy (``pip install py-spy``; not a project
dependency), summarised as the functions holding the most samples."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

INSTALL_HINT = "py-spy is not installed: .venv/bin/pip install py-spy"
_LINE = re.compile(r":\d+\)$")


def py_spy() -> str | None:
    found = shutil.which("py-spy")
    if found:
        return found
    beside = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    return str(beside) if beside.exists() else None


def start(pid: int, seconds: int, out: Path, *, rate: int = 200) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` for ``seconds`` into ``out`` (collapsed stacks)."""
    exe = py_spy()
    if exe is None:
        raise SystemExit(INSTALL_HINT)
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", str(rate),
         "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _frame(raw: str) -> str:
    """``func (path/to/file.py:12)`` -> ``func (to/file.py)``: grouped over lines."""
    name, _, where = raw.partition(" (")
    where = _LINE.sub("", "(" + where).strip("()")
    short = "/".join(where.split("/")[-2:])
    return f"{name} ({short})"


def summarise(collapsed: Path, top: int = 25) -> str:
    """The functions with the most samples, inclusive (on the stack) and self (running)."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame(f) for f in stack.split(";") if not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for f in set(frames):
            inclusive[f] += n
    if not total:
        return "no samples"
    # Frames on (nearly) every stack (the process, the event loop) say nothing: leave them out.
    root = max(inclusive.values())
    inclusive = Counter({f: c for f, c in inclusive.items() if c < 0.95 * root})

    def block(title: str, counts: Counter[str]) -> list[str]:
        return [title] + [f"  {100 * c / total:5.1f}%  {f}" for f, c in counts.most_common(top)]

    return "\n".join([f"{total} samples", *block("inclusive:", inclusive),
                      *block("self:", own)])
