"""The leak check of tests/conftest.py can fail: it finds a key's shape in a log."""

from __future__ import annotations

from routeyard.keys import generate_key
from tests.conftest import KEY_PATTERN


def test_the_leak_pattern_matches_every_generated_key_and_nothing_shorter() -> None:
    for _ in range(50):
        key = generate_key()
        assert KEY_PATTERN.fullmatch(key)
        assert KEY_PATTERN.search(f"log line with {key} inside")
        assert not KEY_PATTERN.search(key[:17] + "…")  # the prefix keys list shows is fine
