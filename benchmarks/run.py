"""Run every benchmark section in one process and print one table.

    make bench                # or: python benchmarks/run.py [--records N] [--only NAME]

Each section times streamflow and its peers in the same run, on the same event, in
interleaved rounds, and reports medians and ratios. The machine is noisy: read the ratios.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import platform
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))

from _event import benchmark_event

SECTIONS = (
    "bench_import",
    "bench_records",
    "bench_filters",
    "bench_router",
    "bench_runner",
    "bench_scores",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--only", choices=SECTIONS, action="append")
    args = parser.parse_args(argv)
    event = benchmark_event(args.records)
    print(
        f"# streamflow benchmarks ({platform.python_implementation()} "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M')})\n"
    )
    failed = []
    for name in args.only or SECTIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        section = module.section(event)
        print(section.render(), end="\n\n")
        failed += [r.label for r in section.ratios if r.met(section.rows) is False]
    if failed:
        print("targets not met: " + "; ".join(failed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
