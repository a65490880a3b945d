"""``streamflow check``: the command-line face of :func:`streamflow.check.check` and
:func:`~streamflow.check.check_live`.

Exit codes: ``0`` no finding at or above ``--fail-on`` (default ``error``); ``1`` some; ``2``
the check could not run (an unreadable template, no such mapping or function, a handler that
cannot be loaded, an AWS error), with a message naming the file, resource or option.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from streamflow.check._findings import SEVERITIES, Finding

__all__ = ["add_check_command", "check_command"]

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
_FLAGS = {
    "handler": "HANDLER",
    "template": "--template",
    "function_name": "--function-name",
    "mapping": "--mapping",
    "filter": "--filter",
    "writes": "--writes",
    "parameters": "--parameter",
    "ignore": "--ignore",
    "profile": "--profile",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "table": "--table",
}


def add_check_command(subparsers: Any) -> None:
    """Add the ``check`` command to the ``streamflow`` argument parser.

    Args:
        subparsers: what ``ArgumentParser.add_subparsers()`` returned.

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="streamflow")
    >>> add_check_command(parser.add_subparsers(dest="command"))
    >>> args = parser.parse_args(["check", "app:router", "--template", "t.json"])
    >>> args.template, args.fail_on, args.format
    ('t.json', 'error', 'text')
    """
    command = subparsers.add_parser(
        "check",
        help="check a deployed event source mapping against the code's routes",
        description="Compare the event source mapping of a template (CloudFormation, SAM, "
        "CDK's cdk.out) or of a deployed function with what HANDLER declares: filters, "
        "partial batch failures, retries, stream view type, windows, timing.",
        epilog="Exit codes: 0 clean; 1 findings at or above --fail-on; 2 error (template, "
        "mapping, function, handler, AWS). Codes: docs/check.md.",
    )
    command.add_argument(
        "handler",
        metavar="HANDLER",
        help="a Router or a handler function: module:attribute, file.py:attribute or "
        "Lambda's module.function",
    )
    source = command.add_mutually_exclusive_group(required=True)
    source.add_argument("--template", metavar="FILE", help="a template file, or cdk.out")
    source.add_argument(
        "--function-name", metavar="NAME", help="check this function's deployed mappings"
    )
    command.add_argument(
        "--mapping", metavar="ID", help="the mapping's logical id (template) or UUID (live)"
    )
    command.add_argument(
        "--filter",
        metavar="PATTERN_FILE",
        action="append",
        default=[],
        help="the handler's filters (a pattern or a FilterCriteria, repeatable); they replace "
        "a Router's own",
    )
    command.add_argument(
        "--parameter",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a value for one of the template's Parameters (repeatable)",
    )
    command.add_argument(
        "--writes",
        metavar="FILE",
        help="a JSON file: an item, or a list of items, the handler writes to its own table",
    )
    command.add_argument(
        "--ignore", metavar="CODE", action="append", default=[], help="leave out a code"
    )
    command.add_argument("--format", choices=("text", "json"), default="text")
    command.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="error",
        help="exit 1 on findings of this severity or above (default: error)",
    )
    aws = command.add_argument_group("AWS (with --function-name)")
    aws.add_argument("--region", metavar="R", help="the AWS Region")
    aws.add_argument("--profile", metavar="P", help="a named AWS profile")
    aws.add_argument("--endpoint-url", metavar="URL", help="a local endpoint")
    aws.add_argument(
        "--table",
        metavar="NAME",
        help="the table that writes to the Kinesis stream a mapping reads (default: the one "
        "found among the stream's Region's tables)",
    )
    command.set_defaults(run=check_command)


def check_command(args: argparse.Namespace, out: TextIO | None = None, *_: Any) -> int:
    """Run ``streamflow check`` with parsed arguments.

    Returns:
        The exit code (see the module docstring).

    >>> import argparse
    >>> parser = argparse.ArgumentParser(prog="streamflow")
    >>> add_check_command(parser.add_subparsers(dest="command"))
    >>> check_command(parser.parse_args(["check", "app:router", "--template", "missing.yaml"]))
    2
    """
    from streamflow.errors import CheckError, FilterValidationError

    out = out or sys.stdout
    try:
        findings, checked = _run(args)
    except CheckError as exc:
        if exc.option is None:
            return _error(str(exc))
        return _error(f"{_FLAGS.get(exc.option, exc.option)}: {exc.reason}")
    except FilterValidationError as exc:
        return _error(f"--filter: invalid filter pattern: {exc}")
    except OSError as exc:
        return _error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))
    except Exception as exc:  # a bug: say so in one line rather than a traceback
        return _error(f"{type(exc).__name__}: {exc} (a bug in streamflow check: please report it)")
    if args.format == "json":
        out.write(json.dumps(_document(findings, checked), indent=2) + "\n")
    else:
        out.write(_text(findings, checked))
    threshold = SEVERITIES.index(args.fail_on)
    failing = [f for f in findings if SEVERITIES.index(f.severity) <= threshold]
    return EXIT_FINDINGS if failing else EXIT_OK


def _run(args: argparse.Namespace) -> tuple[list[Finding], list[str]]:
    from streamflow.check._api import findings_of, live_candidates, template_candidates
    from streamflow.check._code import declared
    from streamflow.check._live import Clients
    from streamflow.errors import CheckError, RunnerConfigError
    from streamflow.runner._handler import load_filter_file

    if args.function_name is None:
        for flag in ("region", "profile", "endpoint_url", "table"):
            if getattr(args, flag) is not None:
                raise _refused(flag, "only applies with --function-name")
    elif args.parameter:
        raise _refused("parameters", "only applies with --template")
    try:
        filters = [item for path in args.filter for item in load_filter_file(path)] or None
    except RunnerConfigError as exc:
        raise CheckError(exc.option, exc.reason) from None
    writes = _writes(args.writes) if args.writes else ()
    ignore = [code.strip() for item in args.ignore for code in item.split(",") if code.strip()]
    code = declared(args.handler, filters)
    if args.function_name is None:
        parameters = _parameters(args.parameter)
        chosen = template_candidates(args.handler, args.template, args.mapping, parameters)
    else:
        clients = Clients(region=args.region, profile=args.profile, endpoint_url=args.endpoint_url)
        chosen = live_candidates(
            args.handler, clients, args.function_name, args.mapping, args.table
        )
    checked = [candidate.deployed.id for candidate in chosen]
    return findings_of(code, chosen, writes, ignore), checked


def _refused(option: str, reason: str) -> Exception:
    from streamflow.errors import CheckError

    return CheckError(option, reason)


def _parameters(given: list[str]) -> dict[str, str]:
    values = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise _refused("parameters", f"write NAME=VALUE, got {item!r}")
        values[name] = value
    return values


def _writes(path: str) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            parsed = json.load(handle)
    except OSError as exc:
        raise _refused("writes", f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, RecursionError) as exc:
        raise _refused("writes", f"{path} is not valid JSON: {exc}") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if not items or not all(isinstance(item, dict) and item for item in items):
        raise _refused("writes", f"{path} must hold an item (an object) or a list of items")
    return items


def _document(findings: list[Finding], checked: list[str]) -> dict[str, Any]:
    return {
        "checked": checked,
        "findings": [finding.to_dict() for finding in findings],
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
    }


def _text(findings: list[Finding], checked: list[str]) -> str:
    lines = []
    for finding in findings:
        lines.append(f"{finding.mapping}: {finding.code} {finding.severity}: {finding.message}")
        lines.append(f"  fix: {finding.fix}")
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    noun = "mapping" if len(checked) == 1 else "mappings"
    where = f"{len(checked)} {noun} checked: {', '.join(checked)}"
    if not findings:
        lines.append(f"no findings ({where})")
    else:
        counts = f"{errors} error{'' if errors == 1 else 's'}, "
        counts += f"{warnings} warning{'' if warnings == 1 else 's'}"
        lines.append(f"{counts} ({where}); codes: docs/check.md")
    return "\n".join(lines) + "\n"


def _error(message: str) -> int:
    sys.stderr.write(f"streamflow check: error: {message}\n")
    return EXIT_ERROR
