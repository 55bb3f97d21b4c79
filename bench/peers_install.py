"""Installing the peers the router is compared with, each into an environment of its own
under ``bench/.peers/`` (git-ignored), pinned to the versions measured:

- LiteLLM's proxy: ``litellm[proxy]==LITELLM`` from PyPI in a virtualenv of its own;
- Portkey's gateway: ``@portkey-ai/gateway@PORTKEY`` from npm in an npm prefix of its own;
- py-spy (for ``--profile``) in a virtualenv of its own: a bench tool, not a project dependency.

An install that fails is reported with its reason and the peer is skipped; nothing is
pretended. An environment that already holds the pinned version is reused.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PEERS_DIR = Path(__file__).resolve().parent / ".peers"
LITELLM = "1.108.7"
PORTKEY = "1.15.2"
PY_SPY = "0.4.3"
_TIMEOUT = 900  # seconds an install may take


@dataclass(frozen=True)
class Installed:
    """A peer's entry point and version, or why it could not be installed."""

    name: str
    version: str
    argv: tuple[str, ...] = ()
    detail: str = ""  # e.g. the versions of the libraries it runs on
    skipped: str = ""  # why it is not there: the bench skips it and says so

    @property
    def ok(self) -> bool:
        return not self.skipped


def _run(argv: list[str], log: Path) -> str | None:
    """Run an install step; None on success, else the tail of its output."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode == 0:
        return None
    lines = [ln for ln in (proc.stderr or proc.stdout).splitlines()
             if ln.strip() and not ln.startswith("WARNING: Location")]
    return f"exit {proc.returncode}: " + " | ".join(lines[-3:])


def _venv_version(python: Path, dist: str) -> str | None:
    if not python.exists():
        return None
    proc = subprocess.run([str(python), "-c", (f"import importlib.metadata as m; "
                           f"print(m.version({dist!r}))")], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _venv_package(name: str, dist: str, spec: str, version: str) -> tuple[Path, str | None]:
    """A virtualenv under PEERS_DIR holding ``spec``; (its bin dir, why not or None)."""
    env = PEERS_DIR / f"{name}-{version}"
    python = env / "bin" / "python"
    if _venv_version(python, dist) == version:
        return env / "bin", None
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    print(f"  installing {spec} into {env} (once)", flush=True)
    why = _run([sys.executable, "-m", "venv", "--clear", str(env)], PEERS_DIR / f"{name}.log")
    if why is None:
        why = _run([str(python), "-m", "pip", "install", "--quiet", spec],
                   PEERS_DIR / f"{name}.log")
    if why is None and _venv_version(python, dist) != version:
        why = f"{dist} {version} not found after the install"
    return env / "bin", why


def litellm() -> Installed:
    name = f"LiteLLM proxy {LITELLM}"
    bin_dir, why = _venv_package("litellm", "litellm", f"litellm[proxy]=={LITELLM}", LITELLM)
    if why:
        return Installed(name, LITELLM, skipped=f"pip install litellm[proxy]=={LITELLM} "
                         f"failed: {why}")
    python = bin_dir / "python"
    deps = [f"{d} {_venv_version(python, d) or '?'}" for d in ("uvicorn", "fastapi", "httpx",
                                                              "aiohttp", "openai")]
    return Installed(name, LITELLM, (str(bin_dir / "litellm"),),
                     detail=f"Python {_python_version(python)}, " + ", ".join(deps))


def _python_version(python: Path) -> str:
    proc = subprocess.run([str(python), "-c", ("import platform; "
                           "print(platform.python_version())")], capture_output=True, text=True,
                          check=False)
    return proc.stdout.strip() or "?"


def _npm_version(prefix: Path, package: str) -> str | None:
    try:
        meta = json.loads((prefix / "node_modules" / package / "package.json").read_text())
    except (OSError, ValueError):
        return None
    version = meta.get("version")
    return version if isinstance(version, str) else None


def portkey() -> Installed:
    name = f"Portkey gateway {PORTKEY}"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return Installed(name, PORTKEY, skipped="node and npm are not installed (Debian: "
                         "apt-get install -y nodejs npm)")
    prefix = PEERS_DIR / f"portkey-{PORTKEY}"
    package = "@portkey-ai/gateway"
    if _npm_version(prefix, package) != PORTKEY:
        prefix.mkdir(parents=True, exist_ok=True)
        print(f"  installing {package}@{PORTKEY} into {prefix} (once)", flush=True)
        argv = [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                "--save-exact", f"{package}@{PORTKEY}"]
        why = _run(argv, PEERS_DIR / "portkey.log")
        if why is not None:  # npm sometimes fails on a first run in a fresh prefix: once more
            why = _run(argv, PEERS_DIR / "portkey.log")
        if why is None and _npm_version(prefix, package) != PORTKEY:
            why = f"{package} {PORTKEY} not found after the install"
        if why:
            return Installed(name, PORTKEY, skipped=f"npm install {package}@{PORTKEY} "
                             f"failed: {why}")
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                  check=False).stdout.strip()
    deps = [f"{d} {_npm_version(prefix, d) or '?'}" for d in ("hono", "@hono/node-server")]
    entry = prefix / "node_modules" / package / "build" / "start-server.js"
    return Installed(name, PORTKEY, (node, str(entry)),
                     detail=f"Node {node_version}, " + ", ".join(deps))


def py_spy() -> str | None:
    """py-spy for profiling: one on PATH or in .venv, else installed under PEERS_DIR."""
    from bench import profile

    found = profile.py_spy()
    if found:
        return found
    bin_dir, why = _venv_package("py-spy", "py-spy", f"py-spy=={PY_SPY}", PY_SPY)
    if why:
        print(f"  py-spy could not be installed, no profile: {why}", file=sys.stderr)
        return None
    return str(bin_dir / "py-spy")
