"""The Python API: :func:`check` reads a template, :func:`check_live` a function's deployed
mappings; both compare them with what the handler declares."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streamflow.check._code import Declared, declared
from streamflow.check._compare import compare, ordered
from streamflow.check._findings import RULES, Finding
from streamflow.check._live import Clients
from streamflow.check._template import Candidate, Skipped
from streamflow.errors import CheckError
from streamflow.runner._handler import FilterSpec

__all__ = ["check", "check_live", "findings_of", "live_candidates", "template_candidates"]


def check(
    target: object,
    *,
    template: str | os.PathLike[str] | Mapping[str, Any],
    mapping: str | None = None,
    parameters: Mapping[str, str] | None = None,
    filters: FilterSpec | Sequence[FilterSpec] | None = None,
    writes: Sequence[Mapping[str, Any]] = (),
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check the event source mapping(s) a template declares against a handler.

    Args:
        target: a :class:`~streamflow.Router`, a handler function, or a ``module:attribute``
            spec of either (as ``streamflow run`` takes it).
        template: a CloudFormation or SAM template (JSON or YAML; YAML needs the ``yaml``
            extra), a ``cdk.out`` directory, or a parsed template.
        mapping: the logical id of the mapping to check, when the template has mappings of
            several functions (SAM: also ``Function.Event``).
        parameters: values for the template's ``Parameters``.
        filters: the handler's filters (a Filter, FilterCriteria or pattern, or a list);
            they replace a Router's own.
        writes: items the handler writes to its own table, tested against the deployed
            filters and the routes (SF005).
        ignore: codes to leave out.

    Returns:
        The findings, errors first; empty when the deployment matches the code.

    Raises:
        CheckError: the template, the mapping or the handler cannot be used
            (``option`` names which: ``template``, ``mapping``, ``handler``...).
        FilterValidationError: a filter given in ``filters`` AWS would reject.

    >>> from streamflow import Router
    >>> from streamflow.filters import Filter
    >>> router = Router()
    >>> @router.on(Filter.insert())
    ... def inserted(record): ...
    >>> template = {"Resources": {
    ...     "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {
    ...         "StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}},
    ...     "Mapping": {"Type": "AWS::Lambda::EventSourceMapping", "Properties": {
    ...         "EventSourceArn": {"Fn::GetAtt": ["Table", "StreamArn"]},
    ...         "FunctionName": "fn", "StartingPosition": "TRIM_HORIZON",
    ...         "FilterCriteria": router.filter_criteria().to_cloudformation()}}}}
    >>> [finding.code for finding in check(router, template=template)]
    ['SF001', 'SF013', 'SF014', 'SF022']
    """
    code = declared(target, filters)
    return findings_of(
        code, template_candidates(target, template, mapping, parameters), writes, ignore
    )


def template_candidates(
    target: object,
    template: str | os.PathLike[str] | Mapping[str, Any],
    mapping: str | None,
    parameters: Mapping[str, str] | None,
) -> list[Candidate]:
    """The template's mappings to check (see :func:`check`)."""
    from streamflow.check._source import read_templates
    from streamflow.check._template import template_mappings

    templates = read_templates(template)
    found, skipped = template_mappings(templates, dict(parameters or {}))
    where = templates[0][0] if len(templates) == 1 else str(template)
    return _choose(found, skipped, mapping, target, where, "template")


def check_live(
    target: object,
    *,
    function_name: str,
    mapping: str | None = None,
    table: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    lambda_client: Any = None,
    dynamodb_client: Any = None,
    kinesis_client: Any = None,
    filters: FilterSpec | Sequence[FilterSpec] | None = None,
    writes: Sequence[Mapping[str, Any]] = (),
    ignore: Iterable[str] = (),
) -> list[Finding]:
    """Check a function's deployed event source mappings on DynamoDB streams, and on Kinesis
    data streams that Kinesis Data Streams for DynamoDB writes to.

    Reads them with ``ListEventSourceMappings``, ``GetFunctionConfiguration``,
    ``DescribeTable`` and, for a Kinesis stream, ``DescribeStreamSummary`` and the table
    that writes to it: the one whose ``DescribeKinesisStreamingDestination`` names the
    stream, among (at most 500 of) the tables ``ListTables`` gives in the stream's Region, or
    ``table``. A refused search is reported (SF022), not raised. IAM is not read: SF005 needs
    ``writes=`` here.

    Args:
        target: a Router, a handler function, or a ``module:attribute`` spec.
        function_name: the function's name or ARN.
        mapping: the UUID of one mapping to check (default: all of the function's).
        table: the table (name or ARN) that writes to the Kinesis stream of the mapping(s)
            checked, instead of a search of the stream's Region.
        region: the AWS Region (default: the environment's).
        profile: a named AWS profile.
        endpoint_url: another endpoint for Lambda, DynamoDB and Kinesis (a local one).
        lambda_client: a boto3 Lambda client to use instead of making one.
        dynamodb_client: a boto3 DynamoDB client to use instead of making one.
        kinesis_client: a boto3 Kinesis client to use instead of making one.
        filters: the handler's filters; they replace a Router's own.
        writes: items the handler writes to its own table (SF005).
        ignore: codes to leave out.

    Returns:
        The findings, errors first.

    Raises:
        CheckError: no such function or mapping, a bad profile or Region, a handler that
            cannot be loaded, or a ``table`` that does not exist or does not stream to a
            checked mapping's Kinesis stream; or (``option`` ``None``) AWS refused a call
            (access denied, bad credentials, no endpoint).

    Usage::

        from streamflow.check import check_live

        assert check_live("app:router", function_name="scores-processor") == []
    """
    code = declared(target, filters)
    clients = Clients(
        region=region,
        profile=profile,
        endpoint_url=endpoint_url,
        lambda_client=lambda_client,
        dynamodb_client=dynamodb_client,
        kinesis_client=kinesis_client,
    )
    return findings_of(
        code, live_candidates(target, clients, function_name, mapping, table), writes, ignore
    )


def live_candidates(
    target: object,
    clients: Clients,
    function_name: str,
    mapping: str | None,
    table: str | None = None,
) -> list[Candidate]:
    """The function's mappings to check (see :func:`check_live`)."""
    from streamflow.check._live import live_mappings

    found, skipped = live_mappings(clients, function_name, mapping=mapping, table=table)
    return _choose(found, skipped, mapping, target, f"function {function_name}", "function_name")


def findings_of(
    code: Declared,
    chosen: list[Candidate],
    writes: Sequence[Mapping[str, Any]],
    ignore: Iterable[str],
) -> list[Finding]:
    """The findings of the chosen mappings, less the ignored codes, errors first."""
    skip = {item.upper() for item in ignore}
    unknown = sorted(skip - set(RULES))
    if unknown:
        raise CheckError("ignore", f"no such code: {', '.join(unknown)}")
    found = [
        finding
        for candidate in chosen
        for finding in compare(code, candidate.deployed, writes=writes)
        if finding.code not in skip
    ]
    return ordered(found)


def _choose(
    found: list[Candidate],
    skipped: list[Skipped],
    wanted: str | None,
    target: object,
    where: str,
    source_option: str,
) -> list[Candidate]:
    """The mappings to check: ``wanted``, else every mapping of one function (the one whose
    ``Handler`` module is the handler spec's, when there are several)."""
    live = source_option == "function_name"
    if wanted is not None:
        chosen = [c for c in found if wanted == c.deployed.id or wanted in c.aliases]
        if not chosen:
            raise CheckError(
                "mapping",
                f"no mapping {wanted!r} on a DynamoDB or Kinesis stream in {where}; "
                + _listing(found, skipped, live),
            )
        return chosen
    if not found:
        raise CheckError(
            source_option,
            f"no event source mapping on a DynamoDB or Kinesis stream in {where}; "
            + _listing(found, skipped, live),
        )
    functions = {c.function_key for c in found}
    if len(functions) > 1 and isinstance(target, str):
        module = target.partition(":")[0].rsplit(".", 1)[-1]
        narrowed = [
            c for c in found if (c.handler or "").rsplit(".", 1)[0].rsplit("/", 1)[-1] == module
        ]
        if narrowed and len({c.function_key for c in narrowed}) == 1:
            return narrowed
    if len(functions) > 1:
        raise CheckError(
            "mapping",
            f"{where} has mappings of several functions; choose one with --mapping: "
            + ", ".join(c.deployed.id for c in found),
        )
    return found


def _listing(found: list[Candidate], skipped: list[Skipped], live: bool) -> str:
    if not found and not skipped:
        if live:
            return "it has no event source mapping"
        return "found no AWS::Lambda::EventSourceMapping and no SAM DynamoDB or Kinesis event"
    parts = [
        f"{c.deployed.id} ({'DynamoDB' if c.deployed.kinesis is None else 'Kinesis'} stream)"
        for c in found
    ]
    parts += [f"{s.id} ({s.why})" for s in skipped]
    return "found: " + ", ".join(parts)
