"""``streamflow run``: the command-line face of :func:`streamflow.runner.run`.

``add_run_command(subparsers)`` registers the command on the ``streamflow`` parser;
``run_command(args)`` runs it and returns the exit code:

* ``0``: the run ended normally (idle, ``--max-records`` reached, Ctrl-C or SIGTERM, or the
  stream was disabled and fully read);
* ``1``: records were discarded (retries exhausted or too old; see ``--on-failure``);
* ``2``: the run could not start or could not go on (bad option, handler or filter; no such
  table or stream; an AWS error retrying cannot fix; a checkpoint file that cannot be
  written);
* ``130``: aborted by a second Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["add_run_command", "run_command"]

EXIT_OK = 0
EXIT_DISCARDED = 1
EXIT_ERROR = 2
EXIT_ABORTED = 130


def add_run_command(subparsers: Any) -> None:
    """Add the ``run`` command to the ``streamflow`` argument parser.

    Args:
        subparsers: what ``ArgumentParser.add_subparsers()`` returned.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="streamflow")
    >>> add_run_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["run", "app:handler", "--table", "scores"])
    >>> args.batch_size, args.starting_position, args.filter
    (100, 'TRIM_HORIZON', [])
    """
    command = subparsers.add_parser(
        "run",
        help="drive a handler from a table's stream, as Lambda's event source mapping does",
        description="Read a DynamoDB table's stream (AWS, or a local endpoint such as moto's "
        "server) and invoke HANDLER exactly as a Lambda event source mapping would: same "
        "event, batching, filters, partial batch failures, retries and checkpoints. "
        "Defaults are Lambda's, except --starting-position (TRIM_HORIZON here).",
        epilog="Exit codes: 0 ended normally (idle, --max-records, Ctrl-C/SIGTERM); 1 records "
        "were discarded; 2 error (options, handler, table, stream, AWS); 130 aborted.",
    )
    command.add_argument(
        "handler", metavar="HANDLER", help="module:attribute, a handler function or a Router"
    )
    command.add_argument("--table", required=True, metavar="NAME", help="the table to read")
    aws = command.add_argument_group("AWS")
    aws.add_argument("--endpoint-url", metavar="URL", help="a local DynamoDB endpoint")
    aws.add_argument("--region", metavar="R", help="AWS Region")
    aws.add_argument("--profile", metavar="P", help="AWS profile")
    esm = command.add_argument_group("event source mapping (Lambda's names in brackets)")
    esm.add_argument(
        "--batch-size", type=int, default=100, metavar="N", help="1-10000 [BatchSize] (100)"
    )
    esm.add_argument(
        "--batching-window",
        type=float,
        default=0.0,
        metavar="S",
        help="0-300 seconds [MaximumBatchingWindowInSeconds] (0)",
    )
    esm.add_argument(
        "--starting-position",
        choices=("TRIM_HORIZON", "LATEST"),
        default="TRIM_HORIZON",
        help="for shards without a checkpoint at the first start [StartingPosition] (TRIM_HORIZON)",
    )
    esm.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="PATTERN_FILE",
        help="a JSON file with a pattern or a FilterCriteria; repeat for more (OR-ed) "
        "[FilterCriteria] (a Router's filter_criteria() by default)",
    )
    esm.add_argument(
        "--bisect-on-error",
        action="store_true",
        help="split a failing batch in two [BisectBatchOnFunctionError]",
    )
    esm.add_argument(
        "--max-retries",
        type=int,
        default=-1,
        metavar="N",
        help="-1 (until expired) to 10000 [MaximumRetryAttempts] (-1)",
    )
    esm.add_argument(
        "--max-record-age",
        type=int,
        default=-1,
        metavar="S",
        help="-1 or 60-604800 seconds [MaximumRecordAgeInSeconds] (-1)",
    )
    esm.add_argument(
        "--parallelization-factor",
        type=int,
        default=1,
        metavar="N",
        help="1-10 concurrent batches per shard [ParallelizationFactor] (1)",
    )
    esm.add_argument(
        "--tumbling-window",
        type=int,
        default=0,
        metavar="S",
        help="0-900 seconds [TumblingWindowInSeconds] (0: off)",
    )
    esm.add_argument(
        "--on-failure",
        metavar="FILE.jsonl",
        help="append Lambda's on-failure record of each discarded batch [DestinationConfig]",
    )
    local = command.add_argument_group("local run")
    local.add_argument(
        "--checkpoint", metavar="FILE", help="keep shard positions in this JSON file"
    )
    local.add_argument(
        "--until-idle",
        type=float,
        metavar="S",
        help="exit after S seconds without new records",
    )
    local.add_argument(
        "--max-records", type=int, metavar="N", help="read N records, deliver them, exit"
    )
    local.add_argument(
        "--quiet", action="store_true", help="print only fatal errors (as JSON with --json-log)"
    )
    local.add_argument(
        "--json-log", action="store_true", help="one JSON object per event on stderr"
    )
    command.set_defaults(run=run_command)


def run_command(args: argparse.Namespace, *_: Any) -> int:
    """Run ``streamflow run`` with parsed arguments.

    Args:
        args: the namespace ``add_run_command``'s parser produced.

    Returns:
        The exit code (see the module docstring).
    """
    try:
        with _handler_logging():
            return _run(args)
    except KeyboardInterrupt:
        _error(args, "aborted")
        return EXIT_ABORTED


def _run(args: argparse.Namespace) -> int:
    from streamflow.errors import FilterValidationError
    from streamflow.runner._api import run
    from streamflow.runner._errors import RunnerConfigError, RunnerError
    from streamflow.runner._handler import load_filter_file

    try:
        filters = None
        if args.filter:
            filters = [item for path in args.filter for item in load_filter_file(path)]
        summary = run(
            args.handler,
            table=args.table,
            endpoint_url=args.endpoint_url,
            region=args.region,
            profile=args.profile,
            batch_size=args.batch_size,
            batching_window=args.batching_window,
            starting_position=args.starting_position,
            filters=filters,
            bisect_on_error=args.bisect_on_error,
            max_retries=args.max_retries,
            max_record_age=args.max_record_age,
            parallelization_factor=args.parallelization_factor,
            tumbling_window=args.tumbling_window,
            on_failure=args.on_failure,
            checkpoint=args.checkpoint,
            until_idle=args.until_idle,
            max_records=args.max_records,
            quiet=args.quiet,
            json_log=args.json_log,
        )
    except FilterValidationError as exc:
        _error(args, f"invalid filter pattern: {exc}")
        return EXIT_ERROR
    except RunnerConfigError as exc:
        _error(args, f"{_flag(exc.option)}: {exc.reason}")
        return EXIT_ERROR
    except RunnerError as exc:
        _error(args, str(exc))
        return EXIT_ERROR
    except OSError as exc:
        _error(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
        return EXIT_ERROR
    except Exception as exc:
        _error(args, f"{type(exc).__name__}: {exc}", trace=exc)
        return EXIT_ERROR
    return summary.exit_code


def _flag(option: str) -> str:
    """The command line's name for a Python option (``batch_size`` is ``--batch-size``);
    ``handler`` (the positional HANDLER) and ``table`` keep theirs."""
    if option == "handler":
        return "HANDLER"
    return "--" + option.replace("_", "-")


@contextmanager
def _handler_logging() -> Iterator[None]:
    """Give the handler's ``logging`` records a home on standard output, as the Lambda
    runtime's root handler gives them one in the function's log (at the root logger's own
    level: WARNING unless the handler changes it). Without it Python writes them to standard
    error, in the middle of the runner's events (and of ``--json-log``'s JSON lines). Left
    alone when logging is already configured."""
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s\t%(message)s"))
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


def _error(args: argparse.Namespace, message: str, trace: BaseException | None = None) -> None:
    if getattr(args, "json_log", False):
        from streamflow.runner._status import _now_iso

        record = {"time": _now_iso(), "event": "error", "message": message}
        sys.stderr.write(json.dumps(record) + "\n")
        return
    if trace is not None:
        sys.stderr.write("".join(traceback.format_exception(trace)))
    sys.stderr.write(f"streamflow run: error: {message}\n")
