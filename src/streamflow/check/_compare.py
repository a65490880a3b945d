"""The comparison: what the code declares against one deployed mapping, as findings.

Each check reads only what it needs and is skipped when that is not known (a value the
template leaves to deployment): SF022 lists what was not seen, so a clean result never
hides a check that could not run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from streamflow.check._code import Declared, RouteInfo
from streamflow.check._deployment import Deployed, FunctionInfo, Settings, TableInfo
from streamflow.check._filters import carried, filter_findings, view_for
from streamflow.check._findings import SEVERITIES, Finding

__all__ = ["compare", "ordered"]

_RANGES = {
    "BatchSize": (1, 10_000),
    "MaximumBatchingWindowInSeconds": (0, 300),
    "MaximumRetryAttempts": (-1, 10_000),
    "MaximumRecordAgeInSeconds": (-1, 604_800),
    "ParallelizationFactor": (1, 10),
    "TumblingWindowInSeconds": (0, 900),
}
_RETENTION = 86_400  # DynamoDB Streams keep a record 24 hours; Kinesis, 24 hours by default
_POSITIONS = {
    "dynamodb": ("TRIM_HORIZON", "LATEST"),
    "kinesis": ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"),
}
_MIN_MS_PER_RECORD = 10  # a DynamoDB call or two: less cannot finish a full batch
_IMAGE_OF = {"INSERT": "NewImage", "MODIFY": "NewImage", "REMOVE": "OldImage"}
_RBIF = "ReportBatchItemFailures"


def ordered(findings: list[Finding]) -> list[Finding]:
    """By mapping, errors first, then by code."""
    return sorted(findings, key=lambda f: (f.mapping, SEVERITIES.index(f.severity), f.code))


def compare(
    code: Declared, mapping: Deployed, *, writes: Sequence[Mapping[str, Any]] = ()
) -> list[Finding]:
    """Every finding for one mapping."""
    out: list[Finding] = []

    def add(code_: str, severity: str, message: str, fix: str) -> None:
        out.append(Finding(code_, severity, mapping.id, message, fix))

    settings = mapping.settings
    _settings_refused(mapping, add)
    unknown = mapping.unknowns()
    fixes = []
    if unknown:
        fixes.append(
            "for the deployment, what each reason says (a template's parameters: "
            "--parameter NAME=VALUE; or check the deployed mapping with --function-name)"
        )
    if code.criteria is None:
        unknown.append("the code's filters (a plain handler: pass --filter)")
        fixes.insert(0, "pass --filter PATTERN_FILE with the patterns the handler is written for")
    if unknown:
        add(
            "SF022",
            "warning",
            "not known from the deployment, so the checks that need it were skipped: "
            + "; ".join(unknown),
            "; ".join(fixes),
        )
    types = settings.FunctionResponseTypes
    if isinstance(types, tuple) and _RBIF not in types:
        consequence = (
            "Lambda ignores the router's batchItemFailures, counts every invocation as a "
            "success, and failed records are lost without a trace"
            if code.router
            else "a batchItemFailures answer is ignored: only an exception retries the batch"
        )
        add(
            "SF001",
            "error",
            f"FunctionResponseTypes lacks {_RBIF}: {consequence}",
            f'FunctionResponseTypes: ["{_RBIF}"] (CDK: report_batch_item_failures=True)',
        )
    table = mapping.table if isinstance(mapping.table, TableInfo) else None
    if table is not None and table.problem is not None:
        add("SF010", "error", table.problem, table.fix or "give the table a stream")
    kinesis = mapping.kinesis
    if kinesis is not None and kinesis.problem is not None:
        add("SF010", "error", kinesis.problem, kinesis.fix or "read an existing stream")
    if kinesis is not None and kinesis.untied is not None:
        add(
            "SF025",
            "warning",
            f"{kinesis.untied}, so nothing shows that its records are a table's changes; the "
            "checks that need the table (its keys in example records, the function's writes "
            "to it) were skipped",
            kinesis.untied_fix or "make the table whose changes the routes handle stream to it",
        )
    out.extend(filter_findings(code, mapping, writes=writes))
    if table is not None and isinstance(table.view_type, str) and table.keys is not None:
        for route in code.routes:
            _model_route(route, table, add)
    _windows(code, settings, add)
    _failures(mapping, add)
    if settings.Enabled is False:
        add("SF016", "warning", "the mapping is disabled: nothing is processed", "Enabled: true")
    if settings.StartingPosition == "LATEST":
        add(
            "SF017",
            "warning",
            "StartingPosition LATEST: records written before the mapping exists, or while "
            "it is replaced (a change of table or stream re-creates it), are never processed",
            "StartingPosition: TRIM_HORIZON (the handlers must then be idempotent for records "
            "already in the stream)",
        )
    if isinstance(mapping.function, FunctionInfo):
        _timing(code, settings, mapping.function, add)
    factor = settings.ParallelizationFactor
    grouped = [route.name for route in code.routes if route.kind in ("batch", "window")]
    if isinstance(factor, int) and factor > 1 and grouped:
        add(
            "SF020",
            "warning",
            f"ParallelizationFactor {factor}: records of different partition keys of one "
            "shard are handled by concurrent invocations, so batch and window routes "
            f"({', '.join(map(repr, grouped))}) each see only part of a shard's records, and "
            "items they update across partition keys (a total, a counter) are written "
            "concurrently",
            "ParallelizationFactor: 1, or make those routes' writes safe under concurrency "
            "(conditional or transactional updates)",
        )
    return out


def _settings_refused(mapping: Deployed, add: Any) -> None:
    """SF021: settings AWS refuses (wrong type, out of range, missing)."""
    for name, reason in mapping.problems:
        add("SF021", "error", f"{name} {reason}", f"{name}: a valid value")
    settings = mapping.settings
    for name, (low, high) in _RANGES.items():
        value = getattr(settings, name)
        if isinstance(value, int) and not low <= value <= high:
            add("SF021", "error", f"{name} {value} is out of range", f"{name}: {low} to {high}")
    age = settings.MaximumRecordAgeInSeconds
    if isinstance(age, int) and 0 <= age < 60:
        add(
            "SF021",
            "error",
            f"MaximumRecordAgeInSeconds {age}: AWS takes -1 or 60 to 604800",
            "MaximumRecordAgeInSeconds: -1, or 60 to 604800",
        )
    position = settings.StartingPosition
    positions = _POSITIONS[mapping.source]
    kind = "Kinesis streams take" if mapping.kinesis is not None else "DynamoDB streams take"
    if position is None:
        add(
            "SF021",
            "error",
            "StartingPosition is missing: a stream's mapping requires it",
            "StartingPosition: TRIM_HORIZON",
        )
    elif isinstance(position, str) and position not in positions:
        add(
            "SF021",
            "error",
            f"StartingPosition {position}: {kind} {', '.join(positions[:-1])} or {positions[-1]}",
            "StartingPosition: TRIM_HORIZON",
        )
    elif position == "AT_TIMESTAMP" and settings.StartingPositionTimestamp is None:
        add(
            "SF021",
            "error",
            "StartingPosition AT_TIMESTAMP without StartingPositionTimestamp: AWS requires "
            "the time to start from",
            "StartingPositionTimestamp: the time to start from, in seconds since the epoch "
            "(not in the future)",
        )
    types = settings.FunctionResponseTypes
    if isinstance(types, tuple) and (odd := [t for t in types if t != _RBIF]):
        add(
            "SF021",
            "error",
            f"FunctionResponseTypes holds {odd}: the only value is {_RBIF}",
            f'FunctionResponseTypes: ["{_RBIF}"]',
        )


def _model_route(route: RouteInfo, table: TableInfo, add: Any) -> None:
    """SF009: a model route whose records do not carry the model's image."""
    if route.kind != "record" or route.model is None or not isinstance(table.view_type, str):
        return
    events = _event_names(route)
    missing = [name for name in events if _IMAGE_OF[name] not in carried(table.view_type)]
    if not missing or table.keys is None:
        return
    from streamflow.errors import ModelError
    from streamflow.models import from_item

    item = {name: {"S": "x", "N": 1, "B": b"x"}.get(kind, "x") for name, kind in table.keys}
    try:
        from_item(route.model, item)
    except ModelError as exc:
        absent = [path for path, reason in exc.problems if "missing" in reason]
        if not absent:
            return
        images = frozenset(_IMAGE_OF[name] for name in missing)
        model = getattr(route.model, "__name__", repr(route.model))
        add(
            "SF009",
            "error",
            f"route {route.name!r} maps {'/'.join(missing)} records onto {model}, but a "
            f"{table.view_type} stream carries no {' or '.join(sorted(images))} for them: "
            f"the model is built from the keys alone and fails ({', '.join(absent)} missing)",
            f"StreamViewType: {view_for(images | carried(table.view_type))} on table "
            f"{table.name}, or filter the route to the events whose image the stream carries",
        )
    except Exception:  # a model from_item cannot use: the router refuses it already
        return


def _event_names(route: RouteInfo) -> list[str]:
    """The event names a route's filters let through (all three when one does not say)."""
    names: set[str] = set()
    for pattern in route.criteria.patterns:
        listed = pattern.get("eventName")
        if not isinstance(listed, list) or not all(isinstance(n, str) for n in listed):
            return ["INSERT", "MODIFY", "REMOVE"]
        names.update(name for name in listed if name in _IMAGE_OF)
    if not route.criteria.filters:
        return ["INSERT", "MODIFY", "REMOVE"]
    return [name for name in ("INSERT", "MODIFY", "REMOVE") if name in names]


def _windows(code: Declared, settings: Settings, add: Any) -> None:
    """SF011, SF012: a tumbling window on one side only."""
    window = settings.TumblingWindowInSeconds
    if not code.router or not isinstance(window, int):
        return
    routes = [route.name for route in code.routes if route.kind == "window"]
    if window > 0 and not routes:
        add(
            "SF011",
            "warning",
            f"TumblingWindowInSeconds {window} but no window route: every invocation carries "
            "window state for nothing, and batches never span two windows",
            "TumblingWindowInSeconds: 0, or declare the window route (router.on_window)",
        )
    if window == 0 and routes:
        add(
            "SF012",
            "error",
            f"window routes ({', '.join(map(repr, routes))}) but no TumblingWindowInSeconds: "
            "Lambda sends no window, and every record they match fails",
            "TumblingWindowInSeconds: the window's length in seconds (1 to 900)",
        )


def _failures(mapping: Deployed, add: Any) -> None:
    """SF013, SF014, SF015: what happens to a record that keeps failing.

    A DynamoDB stream keeps a record 24 hours; a Kinesis stream its retention period (24
    hours by default, up to 365 days), which ``MaximumRecordAgeInSeconds`` (up to 7 days)
    may cut short.
    """
    settings = mapping.settings
    retries = settings.MaximumRetryAttempts
    age = settings.MaximumRecordAgeInSeconds
    if not isinstance(retries, int) or not isinstance(age, int):
        return
    unbounded = retries == -1 and (age == -1 or age >= _RETENTION)
    retention = _RETENTION if mapping.kinesis is None else mapping.kinesis.retention
    if retention is not None:
        span = _span(retention if age == -1 else min(age, retention))
    else:  # a Kinesis stream whose retention is not known
        span = (
            _span(age)
            if age != -1
            else "its retention period (24 hours by default, up to 365 days)"
        )
    if unbounded:
        add(
            "SF013",
            "error",
            "MaximumRetryAttempts -1 with "
            + ("no MaximumRecordAgeInSeconds" if age == -1 else f"MaximumRecordAgeInSeconds {age}")
            + ": one record that keeps failing is retried until it leaves the stream, and "
            f"blocks its shard for up to {span}",
            "MaximumRetryAttempts: 10 (or MaximumRecordAgeInSeconds: 3600), with "
            "BisectBatchOnFunctionError: true and DestinationConfig.OnFailure",
        )
    if settings.on_failure is False:
        when = (
            f"when they leave the stream after {span}"
            if unbounded
            else f"after {retries} retries"
            if retries >= 0
            else f"once older than {age} s"
        )
        add(
            "SF014",
            "error",
            f"no DestinationConfig.OnFailure: records Lambda discards ({when}) leave no trace",
            "DestinationConfig: {OnFailure: {Destination: <SQS queue, SNS topic or S3 bucket "
            "ARN>}} (CDK: on_failure=SqsDlq(queue), SnsDlq(topic) or "
            "S3OnFailureDestination(bucket); an S3 bucket also keeps the batch's records)",
        )
    if settings.BisectBatchOnFunctionError is False and not unbounded:
        add(
            "SF015",
            "warning",
            "BisectBatchOnFunctionError is off: when a whole batch fails (a timeout, a crash), "
            "its retries fail alike and every record of it is discarded with the bad one",
            "BisectBatchOnFunctionError: true",
        )


def _span(seconds: int) -> str:
    """``24 hours``, ``7 days``, ``90 minutes``, ``about 28 hours``."""
    if seconds == 86_400:
        return "24 hours"
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    if seconds >= 3600:
        return f"about {round(seconds / 3600)} hours"
    return f"{seconds} seconds"


def _timing(code: Declared, settings: Settings, function: FunctionInfo, add: Any) -> None:
    """SF018, SF019: the function's time against a batch and the router's margin."""
    timeout = function.timeout
    if not isinstance(timeout, int) or timeout <= 0:
        return
    margin: float = 0.0
    if code.router:
        chosen = code.time_margin
        if chosen == "auto":
            margin = min(5.0, max(0.5, timeout / 10))
        elif isinstance(chosen, (int, float)):
            margin = float(chosen)
            if margin >= timeout:
                add(
                    "SF019",
                    "error",
                    f"the router keeps time_margin={chosen:g} s in reserve, but function "
                    f"{function.name} has Timeout {timeout} s: it starts no record and defers "
                    "every batch",
                    f"Timeout: well over {chosen:g} s, or Router(time_margin=...) well under "
                    f"{timeout} s",
                )
                return
    batch = settings.BatchSize
    if not isinstance(batch, int) or batch <= 0:
        return
    per_record = (timeout - margin) * 1000 / batch
    if per_record < _MIN_MS_PER_RECORD:
        fits = max(1, math.floor((timeout - margin) * 1000 / _MIN_MS_PER_RECORD))
        needed = math.ceil(batch * _MIN_MS_PER_RECORD / 1000 + margin)
        add(
            "SF018",
            "warning",
            f"a full batch of {batch} records has {per_record:.1f} ms per record in function "
            f"{function.name}'s Timeout of {timeout} s"
            + (f" (less the router's {margin:g} s margin)" if margin else "")
            + ": a batch that runs out of time fails (or, with a Router, is deferred) and "
            "comes back",
            f"BatchSize: {fits} or less, or Timeout: {needed} s or more",
        )
