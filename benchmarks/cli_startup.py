"""Wall time of `mcp-harness --help` and `mcp-harness conformance --list-checks` (median of 5 each): the CLI must
answer these without loading pytest, allure, hypothesis, Locust or gevent. Prints one line per command."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

RUNS = 5
TARGET = 0.5  # seconds


def median_wall(args: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "mcp_harness.cli", *args], capture_output=True, check=True, timeout=60)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    worst = 0.0
    for args in (["--help"], ["conformance", "--list-checks"]):
        took = median_wall(args)
        worst = max(worst, took)
        print(f"mcp-harness {' '.join(args):<28} median of {RUNS}: {took:.3f} s (target ≤ {TARGET} s)")
    return 0 if worst <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
