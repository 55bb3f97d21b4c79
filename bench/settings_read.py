"""Cost of one settings attribute read: routeyard's Settings (a frozen slots dataclass) next
to a baseline measured in the same run, a plain object whose values sit in its ``__dict__``
(what Settings was before it was typed). The loop's own cost is in both figures.

    .venv/bin/python -m bench.settings_read [--reads 2000000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from routeyard.config import Settings


class _DictSettings:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def per_read_ns(obj: Any, reads: int) -> float:
    started = time.perf_counter_ns()
    for _ in range(reads // 4):
        _ = obj.cache_control
        _ = obj.public_discovery
        _ = obj.max_admin_body_bytes
        _ = obj.refresh_interval
    return (time.perf_counter_ns() - started) / reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--reads", type=int, default=2_000_000)
    args = parser.parse_args()
    settings = Settings.load({})
    baseline = _DictSettings(settings.as_dict())
    for _ in range(2):  # the second round is the one reported: warm caches
        plain, typed = per_read_ns(baseline, args.reads), per_read_ns(settings, args.reads)
    print(f"baseline (__dict__ attributes)   {plain:.1f} ns/read")
    print(f"Settings (frozen slots)          {typed:.1f} ns/read  ({typed / plain:.2f} x)")


if __name__ == "__main__":
    main()
