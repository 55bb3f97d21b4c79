"""Server processes under test: start, wait for the first 200, measure memory, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _proc_kib(path: str, field: str) -> int:
    """A ``Field:  123 kB`` line of a /proc file, in KiB; 0 when unreadable."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def session_pids(sid: int) -> list[int]:
    """Every live process of session ``sid`` (a server started with a session of its own:
    its main process, workers, and whatever they started)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[3]) == sid:  # fields after the command: state ppid pgrp session ...
            pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of ``pids`` (all their threads), from /proc/PID/stat."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def rss_mib(pids: Sequence[int]) -> tuple[float, float]:
    """(summed RSS, summed PSS) of ``pids`` in MiB."""
    rss = sum(_proc_kib(f"/proc/{p}/status", "VmRSS") for p in pids)
    pss = sum(_proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return rss / 1024, pss / 1024


@dataclass(frozen=True)
class Memory:
    """Memory of a server in MiB: the worker's RSS, and main + worker RSS and PSS. Workers
    are forked from the main process, so their RSS counts shared pages twice; PSS does not."""

    worker_rss: float
    total_rss: float
    total_pss: float

    def __str__(self) -> str:
        return f"{self.worker_rss:.0f} / {self.total_rss:.0f} / {self.total_pss:.0f}"


class Server:
    """A server subprocess (``routeyard serve`` or the baseline) on 127.0.0.1:``port``.

    Granian runs the app in worker processes under a main process; memory is read from
    ``/proc/PID/status`` (VmRSS) of both.
    """

    def __init__(self, name: str, argv: Sequence[str], port: int, env: Mapping[str, str],
                 log: Path, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.env = dict(env)
        self.log = log
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.started_at = time.perf_counter()
        with self.log.open("ab") as log:
            # A session of its own, so that stop() can signal the whole process group.
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log,
                                         cwd=self.cwd, start_new_session=True)

    def wait_for(self, path: str, headers: Mapping[str, str] | None = None,
                 timeout: float = 60.0) -> float:
        """Poll ``path`` until it answers 200; seconds from start() to that answer."""
        assert self.proc is not None
        deadline = time.perf_counter() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; "
                                       f"see {self.log}")
                try:
                    r = client.get(self.base + path, headers=dict(headers or {}))
                    if r.status_code == 200:
                        return time.perf_counter() - self.started_at
                except httpx.TransportError:
                    pass
                time.sleep(0.01)
        raise RuntimeError(f"{self.name}: no 200 from {path} within {timeout:.0f} s; "
                           f"see {self.log}")

    def pids(self) -> tuple[int, list[int]]:
        """(main pid, worker pids)."""
        assert self.proc is not None
        return self.proc.pid, _children(self.proc.pid)

    def worker_pid(self) -> int:
        workers = self.pids()[1]
        if len(workers) != 1:
            raise RuntimeError(f"{self.name}: expected one worker process, found {workers}")
        return workers[0]

    def memory(self) -> Memory:
        main, workers = self.pids()
        worker = sum(_proc_kib(f"/proc/{p}/status", "VmRSS") for p in workers)
        main_rss = _proc_kib(f"/proc/{main}/status", "VmRSS")
        pss = sum(_proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in [main, *workers])
        return Memory(worker / 1024, (worker + main_rss) / 1024, pss / 1024)

    def tree(self) -> list[int]:
        """Every process of the server's session."""
        assert self.proc is not None
        return session_pids(self.proc.pid)

    def stop(self, timeout: float = 15.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
