"""`make bench`: run every benchmarks/bench_*.py (or those named) and print their figures.

Each module has a `main()` that prints its figures, each beside the reference it is
compared to where the issue sets one. Timings are printed, never asserted.
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if any(a in n for a in argv)]
    failed = []
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        start = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # keep going: one broken benchmark must not hide the others
            failed.append(name)
            print(f"FAILED: {exc!r}", flush=True)
        print(f"({name} took {time.perf_counter() - start:.1f} s)", flush=True)
    if failed:
        print("\nbenchmarks that failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
