"""``ruff check src tests`` and ``mypy --strict src/routeyard`` report nothing (the project's
habits, /work/shared/notes/style.md: "mypy --strict and ruff clean"). Both are in the
``test`` extra, at the versions pyproject.toml pins; their configuration is pyproject.toml's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Reported in src/routeyard/upstream/http1.py while that module is being rewritten (by its
# owner, not to be edited meanwhile); only these two rules there, anything else still fails.
# Remove once that file is clean.
PENDING: tuple[str, ...] = ()  # "path:RULE" pairs a change in flight may still break


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)


def test_ruff_reports_nothing() -> None:
    ignores = [arg for pending in PENDING for arg in ("--extend-per-file-ignores", pending)]
    done = run("ruff", "check", "--no-cache", "--output-format", "concise", *ignores,
               "src", "tests")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "All checks passed!" in done.stdout


def test_mypy_strict_reports_nothing() -> None:
    done = run("mypy", "--strict", "--no-error-summary", "src/routeyard")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert done.stdout.strip() == "", done.stdout[-6000:]
