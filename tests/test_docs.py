"""Every setting, CLI command and route is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from routeyard.api import routes
from routeyard.cli import main
from routeyard.config import SETTINGS

DOCS = Path(__file__).resolve().parent.parent / "docs"
README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_with_its_default_and_help() -> None:
    text = (DOCS / "settings.md").read_text()
    for s in SETTINGS:
        default = s.default if s.default != "" else "(empty)"
        assert f"| `{s.env}` | {s.type.__name__} | `{default}` | {s.help}" in text, s.env
        assert s.help.strip(), f"{s.name} has no help text"


def _commands(group: click.Group, prefix: str = "routeyard") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out.extend(_commands(cmd, path))
        else:
            out.append(path)
    return out


def test_every_cli_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(main)
    assert "routeyard keys create" in commands
    for command in commands:
        assert f"`{command}" in text, command


def test_every_route_is_documented() -> None:
    text = (DOCS / "api.md").read_text()
    for route in routes():
        path = getattr(route, "path", "")
        for method in sorted(getattr(route, "methods", None) or []):
            if method == "HEAD":
                continue
            assert f"`{method} {path}`" in text, f"{method} {path}"


def test_readme_first_screen_has_exactly_the_two_commands() -> None:
    first_screen = "\n".join(README.read_text().splitlines()[:40])
    commands = re.findall(r"^\s*(make \w+)\s*$", first_screen, flags=re.MULTILINE)
    assert commands == ["make serve", "make test"]
