"""Run the benchmarks: every bench/bench_*.py in turn, or only those named.

    .venv/bin/python bench/run_all.py                  # all (what `make bench` runs)
    .venv/bin/python bench/run_all.py roster_import    # bench_roster_import.py only

Each bench_*.py has a ``main()`` that prints a small table and returns a dict of figures.
Nothing here is imported by the test suite: benchmarks never run under `make test`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def available() -> dict[str, Path]:
    return {path.stem.removeprefix("bench_"): path
            for path in sorted(BENCH_DIR.glob("bench_*.py"))}


def run(name: str, path: Path) -> None:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(f"\n=== {name} ({path.name}) — {time.strftime('%Y-%m-%d %H:%M')}, "
          f"load average {_load()} ===", flush=True)
    start = time.perf_counter()
    module.main()
    print(f"--- {name}: {time.perf_counter() - start:.1f} s in all; load average {_load()}",
          flush=True)


def _load() -> str:
    """The 1, 5 and 15 minute load averages, which tell what else ran on a shared box (the
    benchmark itself adds about 1, or 2 while it hashes passwords in two threads)."""
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def main(argv: list[str]) -> int:
    benches = available()
    names = [arg.removeprefix("bench_").removesuffix(".py") for arg in argv] or list(benches)
    unknown = [name for name in names if name not in benches]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; "
              f"available: {', '.join(benches)}", file=sys.stderr)
        return 2
    for name in names:
        run(name, benches[name])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
