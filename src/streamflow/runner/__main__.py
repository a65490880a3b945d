"""``python -m streamflow.runner HANDLER --table NAME ...``: the ``run`` command alone."""

from __future__ import annotations

import argparse
import sys

from streamflow.runner._cli import add_run_command, run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamflow.runner")
    commands = parser.add_subparsers(dest="command")
    add_run_command(commands)
    args = parser.parse_args(["run", *(sys.argv[1:] if argv is None else argv)])
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
