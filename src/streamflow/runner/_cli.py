"""``streamflow run``: the command-line face of :func:`streamflow.runner.run`.

``add_run_command(subparsers)`` registers the command on the ``streamflow`` parser;
``run_command(args)`` runs it and returns the exit code:

* ``0``: the run ended normally (idle, ``--max-records`` reached, Ctrl-C or SIGTERM, or the
  stream was disabled and fully read);
* ``1``: records were discarded (retries exhausted or too old; see ``--on-failure``);
* ``2``: the run could not start or could not go on (bad option, handler or filter; no such
  table or stream; an AWS error retrying cannot fix; a checkpoint file that cannot be read
  or written);
* ``130``: aborted by a second Ctrl-C (or a handler that raised ``KeyboardInterrupt``).

Whatever else a handler raises fails its invocation, as in Lambda, and the run goes on.

``add_redrive_command`` and ``redrive_command`` do the same for ``streamflow redrive``
(:func:`streamflow.runner.redrive`), with the same codes: ``1`` when a batch failed again,
was lost (trimmed), or its on-failure record is malformed or does not match its range.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streamflow.runner._config import OPTIONS, flag_of
from streamflow.runner._option import Option

__all__ = ["add_redrive_command", "add_run_command", "redrive_command", "run_command"]

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
    _add_options(command, OPTIONS)
    command.set_defaults(run=run_command)


def add_redrive_command(subparsers: Any) -> None:
    """Add the ``redrive`` command to the ``streamflow`` argument parser.

    Args:
        subparsers: what ``ArgumentParser.add_subparsers()`` returned.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="streamflow")
    >>> add_redrive_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["redrive", "app:handler", "--source", "failures.jsonl"])
    >>> args.max_retries, args.dry_run, args.lost
    (2, False, None)
    """
    from streamflow.runner._redrive_config import REDRIVE_OPTIONS

    command = subparsers.add_parser(
        "redrive",
        help="deliver again the batches Lambda gave up on (its on-failure records)",
        description="Read on-failure records (an SQS queue Lambda's on-failure destination "
        "fills, raw or from SNS; an S3 destination's objects; or the JSON Lines file `streamflow "
        "run --on-failure` writes), take each batch's records from the S3 object's payload or "
        "read them back from the stream, and invoke HANDLER with them as `streamflow run` does. "
        "A record is acknowledged (the message deleted, the object tagged "
        "streamflow-redriven=true, the line recorded as done in the state file) only after its "
        "whole batch succeeded. See docs/redrive.md.",
        epilog="Exit codes: 0 every batch redriven; 1 a batch failed again, records were lost "
        "(trimmed), a record is malformed or does not match its range, messages could not be "
        "received (in flight elsewhere), or the redrive was stopped before the end; 2 error "
        "(options, handler, source, destination, AWS); 130 aborted.",
    )
    _add_options(command, REDRIVE_OPTIONS)
    command.set_defaults(run=redrive_command)


def _add_options(command: Any, options: dict[str, Option]) -> None:
    """The positional ``HANDLER``, then each declared option, in its section."""
    command.add_argument(
        "handler",
        metavar="HANDLER",
        help="a handler function or a Router: module:attribute, file.py:attribute or "
        "Lambda's module.function",
    )
    sections: dict[str | None, Any] = {None: command}
    for option in options.values():
        if option.group not in sections:
            sections[option.group] = command.add_argument_group(option.group)
        sections[option.group].add_argument(option.flag, **_argument(option))


def _argument(option: Option) -> dict[str, Any]:
    """``add_argument``'s keywords for a declared option."""
    settings: dict[str, Any] = {"help": option.help_text()}
    if option.metavar is not None:
        settings["metavar"] = option.metavar
    kind = option.kind
    if kind == "name":
        settings["required"] = True
    elif kind == "switch":
        settings["action"] = "store_true"
    elif kind == "filters":
        settings.update(action="append", default=[])
    else:
        settings["default"] = option.default
    if kind == "int":
        settings["type"] = int
    elif kind == "seconds":
        settings["type"] = float
    elif kind == "choice":
        settings["choices"] = option.choices
    return settings


def _options(args: argparse.Namespace, declared: dict[str, Option]) -> dict[str, Any]:
    """The ``declared`` options (:func:`~streamflow.runner.run`'s or ``redrive``'s) from
    parsed arguments; ``--filter`` files are read here.

    Raises:
        RunnerConfigError: a filter file cannot be read or is not JSON.
        FilterValidationError: a pattern AWS would reject.
    """
    from streamflow.runner._handler import load_filter_file

    options = {}
    for option in declared.values():
        value = getattr(args, option.dest)
        if option.kind == "filters":
            value = [item for path in value for item in load_filter_file(path)] if value else None
        options[option.name] = value
    return options


def run_command(args: argparse.Namespace, *_: Any) -> int:
    """Run ``streamflow run`` with parsed arguments.

    Args:
        args: the namespace ``add_run_command``'s parser produced.

    Returns:
        The exit code (see the module docstring).
    """
    from streamflow.runner._api import run

    return _command(args, "run", lambda: run(args.handler, **_options(args, OPTIONS)).exit_code)


def redrive_command(args: argparse.Namespace, *_: Any) -> int:
    """Run ``streamflow redrive`` with parsed arguments.

    Args:
        args: the namespace ``add_redrive_command``'s parser produced.

    Returns:
        The exit code: 0, 1 (a batch failed again, lost, mismatched or malformed), 2 or 130.
    """
    from streamflow.runner._redrive import redrive
    from streamflow.runner._redrive_config import REDRIVE_OPTIONS

    options = _options(args, REDRIVE_OPTIONS)
    return _command(args, "redrive", lambda: redrive(args.handler, **options).exit_code)


def _command(args: argparse.Namespace, name: str, body: Callable[[], int]) -> int:
    """Run a command's ``body`` with the handler's logging on standard output; its errors
    as exit codes (see the module docstring), each reported as ``streamflow NAME: error``."""
    try:
        with _handler_logging():
            return _exit_code(args, name, body)
    except KeyboardInterrupt:
        _error(args, "aborted", command=name)
        return EXIT_ABORTED


def _exit_code(args: argparse.Namespace, name: str, body: Callable[[], int]) -> int:
    from streamflow.errors import FilterValidationError, RunnerConfigError, RunnerError

    try:
        return body()
    except FilterValidationError as exc:
        _error(args, f"invalid filter pattern: {exc}", command=name)
        return EXIT_ERROR
    except RunnerConfigError as exc:
        _error(args, f"{flag_of(exc.option)}: {exc.reason}", command=name)
        return EXIT_ERROR
    except RunnerError as exc:
        _error(args, str(exc), command=name)
        return EXIT_ERROR
    except OSError as exc:
        _error(args, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), command=name)
        return EXIT_ERROR
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a bug, not a handler's failure: the run cannot go on
        _error(args, f"{type(exc).__name__}: {exc}", trace=exc, command=name)
        return EXIT_ERROR


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


def _error(
    args: argparse.Namespace,
    message: str,
    trace: BaseException | None = None,
    *,
    command: str = "run",
) -> None:
    if getattr(args, "json_log", False):
        from streamflow.runner._status import _now_iso

        record = {"time": _now_iso(), "event": "error", "message": message}
        sys.stderr.write(json.dumps(record) + "\n")
        return
    if trace is not None:
        sys.stderr.write("".join(traceback.format_exception(trace)))
    sys.stderr.write(f"streamflow {command}: error: {message}\n")
