"""Settings: one typed, frozen class; SETTINGS (env names, CLI help, docs) derived from it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path
from typing import get_type_hints

import pytest

from routeyard.config import SETTINGS, SETTINGS_BY_NAME, Settings
from routeyard.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_settings_are_the_fields_of_the_class_in_order() -> None:
    fields = dataclasses.fields(Settings)
    assert [s.name for s in SETTINGS] == [f.name for f in fields]
    assert [s.default for s in SETTINGS] == [f.default for f in fields]
    hints = get_type_hints(Settings)
    for s in SETTINGS:
        assert s.type is (str if s.choices else hints[s.name]), s.name
    assert SETTINGS_BY_NAME["port"].type is int and SETTINGS_BY_NAME["port"].default == 8000
    assert SETTINGS_BY_NAME["log_format"].choices == ("text", "json")
    assert SETTINGS_BY_NAME["uptime_definition"].choices == ("ratio", "minutes")


def test_defaults_and_environment_are_typed_values() -> None:
    settings = Settings.load({})
    assert settings == Settings()
    assert settings.as_dict() == {s.name: s.default for s in SETTINGS}
    loaded = Settings.load({"ROUTEYARD_PORT": "9001", "ROUTEYARD_PUBLIC_DISCOVERY": "yes",
                            "ROUTEYARD_PROBE_TIMEOUT": "2.5", "ROUTEYARD_LOG_FORMAT": "json"})
    assert (loaded.port, loaded.public_discovery, loaded.probe_timeout, loaded.log_format) == (
        9001, True, 2.5, "json")
    assert loaded.replace(port="9002").port == 9002 and loaded.port == 9001


@pytest.mark.parametrize(("env", "message"), [
    ({"ROUTEYARD_PORT": "eighty"}, "ROUTEYARD_PORT: expected int, got 'eighty'"),
    ({"ROUTEYARD_LOG_FORMAT": "xml"}, "ROUTEYARD_LOG_FORMAT: expected one of text, json"),
    ({"ROUTEYARD_ACCESS_LOG": "maybe"}, "ROUTEYARD_ACCESS_LOG: expected true or false"),
])
def test_a_wrong_value_is_refused_by_name(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.load(env)


def test_settings_are_frozen_and_take_no_unknown_name() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.port = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        settings.prot  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ConfigError, match="unknown settings: prot"):
        Settings.load({}, prot=1)


def test_mypy_refuses_a_misspelled_or_mistyped_setting(tmp_path: Path) -> None:
    """Settings are typed to mypy --strict: an unknown name and a wrong type are errors."""
    code = tmp_path / "uses_settings.py"
    code.write_text(
        "from routeyard.config import Settings\n\n"
        "s = Settings.load({})\n"
        "port: int = s.port\n"
        "name: str = s.log_format\n"
        "wrong: str = s.workers\n"
        "s.no_such_setting\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
                           str(code)], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)
    errors = [line.split(": error: ", 1)[1] for line in done.stdout.splitlines()
              if ": error: " in line]
    mistyped = ('Incompatible types in assignment (expression has type "int", variable has '
                'type "str")  [assignment]')
    assert errors == [mistyped, '"Settings" has no attribute "no_such_setting"  [attr-defined]'
                      ], done.stdout
