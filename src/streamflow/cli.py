"""The ``streamflow`` command.

Commands::

    streamflow filter test PATTERN EVENT      which records of EVENT would Lambda deliver?
    streamflow filter lint PATTERN [--view-type VIEW_TYPE]
    streamflow criteria HANDLER [--filter FILE] --format FORMAT [--source kinesis]
                                           the mapping's FilterCriteria for a deployment tool
    streamflow check HANDLER (--template FILE | --function-name NAME)   (docs/check.md)
    streamflow run HANDLER --table NAME                  (docs/runner.md)
    streamflow redrive HANDLER --source SOURCE           (docs/redrive.md)

``PATTERN`` is a file, ``-`` for standard input, or inline JSON text starting with ``{``. It
holds one filter pattern, or a whole ``FilterCriteria`` (``{"Filters": [{"Pattern": "..."}]}``,
as ``aws lambda get-event-source-mapping`` prints it). ``EVENT`` is a file or ``-``: a Lambda
event (``{"Records": [...]}``), a list of records, or one record.

Exit codes:

* ``0``: every record kept (``test``), or no warning (``lint``), or the criteria printed;
* ``1``: some record dropped (``test``), or some warning (``lint``);
* ``2``: usage error, unreadable file, invalid JSON (or JSON nested too deeply to read), or
  a pattern AWS would reject.

Each command is a function ``(args) -> int`` registered by an ``_add_*`` function on the
sub-parsers; add new commands the same way.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from streamflow.errors import FilterValidationError, _Signal
from streamflow.filters import FilterCriteria, lint

__all__ = ["build_parser", "main"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


class _UsageError(_Signal):
    """A problem with the command line or its inputs (exit code 2)."""


def _read_text(source: str, what: str, stdin: TextIO, *, inline: bool = False) -> str:
    if inline and source.lstrip().startswith("{"):
        return source
    try:
        if source == "-":
            return stdin.read()
        with open(source, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise _UsageError(f"cannot read {what} {source!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise _UsageError(f"{what} {source!r} is not UTF-8 text: {exc}") from None


def _parse_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _UsageError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise _UsageError(f"{what} nests too deeply to be read") from None


def _load_filters(text: str) -> FilterCriteria:
    """One pattern, or a FilterCriteria (boto3 / CloudFormation / get-event-source-mapping)."""
    from streamflow.filters._document import criteria_from_document

    return criteria_from_document(text, _parse_json(text, "PATTERN"))


def _records(text: str) -> list[Any]:
    event = _parse_json(text, "EVENT")
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return list(event["Records"])
    if isinstance(event, list):
        return event
    if isinstance(event, dict):
        return [event]
    raise _UsageError("EVENT must be a Lambda event {'Records': [...]}, a list of records or one")


def _describe(index: int, record: Any, view: Any) -> str:
    if not isinstance(record, dict):
        return f"record {index}"
    parts = [f"record {index}"]
    change = view.get("data") if view is not record and isinstance(view, dict) else record
    if isinstance(change, dict) and isinstance(change.get("eventName"), str):
        parts.append(change["eventName"])
    if view is not record:
        kinesis = record.get("kinesis")
        number = kinesis.get("sequenceNumber") if isinstance(kinesis, dict) else None
        parts.append(f"Kinesis sequenceNumber {number}")
    elif isinstance(record.get("eventID"), str):
        parts.append(f"eventID {record['eventID']}")
    return "  ".join(parts)


def _why_dropped(criteria: FilterCriteria, record: Any) -> list[str]:
    lines = []
    many = len(criteria) > 1
    for number, item in enumerate(criteria, start=1):
        mismatches = item.explain(record)
        alternatives = len(mismatches) > 1
        for mismatch in mismatches:
            where = []
            if many:
                where.append(f"filter {number}")
            if alternatives:
                where.append(f"$or alternative {mismatch.branch + 1}")
            label = f"[{', '.join(where)}] " if where else ""
            lines.append(f"{label}{mismatch}")
    return lines


def _filter_test(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    if args.pattern == "-" and args.event == "-":
        raise _UsageError("only one of PATTERN and EVENT can be read from standard input")
    criteria = _load_filters(_read_text(args.pattern, "PATTERN", stdin, inline=True))
    records = _records(_read_text(args.event, "EVENT", stdin))
    from streamflow.filters._document import never_matching_notes
    from streamflow.filters._json import lambda_view

    for note in never_matching_notes(criteria):
        sys.stderr.write(f"{note}\n")

    nested = any("data" in pattern for pattern in criteria.patterns)
    kept = 0
    for index, record in enumerate(records):
        view = lambda_view(record)  # a Kinesis record is filtered on its decoded data
        label = _describe(index, record, view)
        if criteria.matches(view):
            kept += 1
            out.write(f"kept     {label}\n")
            continue
        out.write(f"dropped  {label}\n")
        for line in _why_dropped(criteria, view):
            out.write(f"         {line}\n")
        if view is not record and not nested and criteria.matches(view.get("data")):
            out.write(
                "         hint: a Kinesis mapping filters on data; these patterns match the "
                'DynamoDB change it carries: nest them under "data" '
                '(FilterCriteria.for_kinesis(), Router.filter_criteria(source="kinesis"))\n'
            )
    dropped = len(records) - kept
    noun = "record" if len(records) == 1 else "records"
    out.write(f"{kept} of {len(records)} {noun} kept, {dropped} dropped\n")
    return EXIT_FINDINGS if dropped else EXIT_OK


def _filter_lint(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    criteria = _load_filters(_read_text(args.pattern, "PATTERN", stdin, inline=True))
    warnings = lint(criteria, view_type=args.view_type)
    for warning in warnings:
        out.write(f"{warning}\n")
    if len(criteria) > 5:
        out.write(
            f"note: {len(criteria)} filters; AWS allows 5 per mapping unless the quota is "
            "raised (up to 10)\n"
        )
    count = len(warnings)
    out.write(f"{count} warning{'' if count == 1 else 's'}\n")
    return EXIT_FINDINGS if warnings else EXIT_OK


def _add_filter(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "filter",
        help="test and lint Lambda event filter patterns",
        description="Test and lint Lambda event filter patterns locally, with AWS's semantics.",
    )
    actions = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = actions.add_parser(
        "test",
        help="show which records of an event Lambda would deliver",
        description="Print each record as kept or dropped; for a drop, the first field of the "
        "pattern that failed and why. Exit 0 if all are kept, 1 if some are dropped, 2 on error.",
    )
    test.add_argument("pattern", metavar="PATTERN", help="file, '-' or inline JSON ({...})")
    test.add_argument("event", metavar="EVENT", help="file or '-': a Lambda event or records")
    test.set_defaults(run=_filter_test)
    check = actions.add_parser(
        "lint",
        help="find rules that never (or always) match DynamoDB records",
        description="Print the rules AWS accepts but that cannot work on DynamoDB stream "
        "records, each with the streamflow call that fixes it. Exit 0 if none, 1 if some, "
        "2 on error.",
    )
    check.add_argument("pattern", metavar="PATTERN", help="file, '-' or inline JSON ({...})")
    check.add_argument(
        "--view-type",
        choices=_VIEW_TYPES,
        help="the stream's StreamViewType, to check rules on images it does not carry",
    )
    check.set_defaults(run=_filter_lint)


def _criteria(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from streamflow.errors import RunnerConfigError
    from streamflow.filters._export import export_criteria
    from streamflow.router import Router
    from streamflow.runner._handler import (
        load_filter_file,
        load_handler,
        resolve_filters,
        resolve_handler,
    )

    flags = {"handler": "HANDLER", "filter": "--filter"}
    try:
        target = load_handler(args.handler)
        resolve_handler(target)  # a Router, or a function callable as (event, context)
        given = resolve_filters(
            [flt for path in args.filter for flt in load_filter_file(path)] or None
        )
    except RunnerConfigError as exc:
        raise _UsageError(f"{flags.get(exc.option, exc.option)}: {exc.reason}") from None
    except FilterValidationError as exc:
        raise _UsageError(f"--filter: invalid filter pattern: {exc}") from None
    if given is not None:
        try:
            criteria = FilterCriteria(*given.filters, max_filters=args.max_filters)
            if args.source == "kinesis":
                criteria = criteria.for_kinesis()
        except FilterValidationError as exc:
            raise _UsageError(f"--filter: {exc}") from None
        origin = "the --filter patterns"
    elif isinstance(target, Router):
        try:
            criteria = target.filter_criteria(max_filters=args.max_filters, source=args.source)
        except ValueError as exc:  # FilterValidationError included
            raise _UsageError(f"HANDLER: {exc}") from None
        origin = args.handler
    else:
        raise _UsageError(
            "--filter: HANDLER is a plain function, not a Router: give its filters with --filter"
        )
    if not criteria.filters and args.format == "json":
        sys.stderr.write(
            "streamflow: the routes take every record: no filters (an empty FilterCriteria)\n"
        )
    out.write(export_criteria(criteria, args.format, source=args.source, origin=origin))
    return EXIT_OK


def _add_criteria(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from streamflow.filters._export import FORMATS

    command = commands.add_parser(
        "criteria",
        help="print the mapping's FilterCriteria for a deployment tool",
        description="Print the FilterCriteria of HANDLER's routes (or of the --filter files) "
        "as CloudFormation, SAM, CDK, Terraform or the Serverless Framework write it, or as "
        "JSON (boto3, aws lambda --filter-criteria). See docs/deploying-filters.md.",
        epilog="Exit codes: 0 printed; 2 error (handler, filter files, options).",
    )
    command.add_argument(
        "handler",
        metavar="HANDLER",
        help="a Router (or a handler function): module:attribute, file.py:attribute or "
        "Lambda's module.function",
    )
    command.add_argument(
        "--filter",
        metavar="PATTERN_FILE",
        action="append",
        default=[],
        help="a pattern or a FilterCriteria (repeatable); they replace a Router's own",
    )
    command.add_argument("--format", choices=FORMATS, default="json", help="(default: json)")
    command.add_argument(
        "--source",
        choices=("dynamodb", "kinesis"),
        default="dynamodb",
        help="the mapping's event source: a DynamoDB stream (default) or a Kinesis data stream "
        "fed by Kinesis Data Streams for DynamoDB",
    )
    command.add_argument(
        "--max-filters",
        type=int,
        choices=(5, 10),
        default=5,
        help="filters per mapping: 5 by default, 10 once AWS raised the quota",
    )
    command.set_defaults(run=_criteria)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("streamflow-dynamodb")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The ``streamflow`` argument parser, with every command registered.

    Returns:
        The parser.

    >>> build_parser().parse_args(["filter", "lint", "p.json"]).view_type is None
    True
    """
    parser = argparse.ArgumentParser(
        prog="streamflow",
        description="Tools for DynamoDB Streams on AWS Lambda.",
        epilog="Exit codes: 0 ok, 1 findings (records dropped, lint warnings), 2 errors.",
    )
    parser.add_argument("--version", action="version", version=f"streamflow {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_filter(commands)
    _add_criteria(commands)
    from streamflow.runner import (  # the runner imports boto3 only when run
        add_redrive_command,
        add_run_command,
    )

    add_run_command(commands)
    add_redrive_command(commands)
    from streamflow.check import add_check_command  # boto3 and PyYAML only when checking

    add_check_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``streamflow`` command.

    Args:
        argv: the arguments (without the program name); ``None`` reads ``sys.argv``.

    Returns:
        The exit code: 0 ok, 1 findings (records dropped, lint warnings), 2 errors.

    >>> main(["filter", "lint", '{"eventName": ["INSERT"]}'])
    0 warnings
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        code: int = args.run(args, sys.stdout, sys.stdin)
    except _UsageError as exc:
        sys.stderr.write(f"streamflow: error: {exc}\n")
        return EXIT_ERROR
    except FilterValidationError as exc:
        sys.stderr.write(f"streamflow: invalid filter pattern: {exc}\n")
        return EXIT_ERROR
    return code


if __name__ == "__main__":
    sys.exit(main())
