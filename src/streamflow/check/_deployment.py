"""What a deployment says, read from a template or from AWS: one event source mapping, its
function and its table (and, for a mapping on a Kinesis data stream that Kinesis Data Streams
for DynamoDB writes to, that stream), in one shape for the checks.

Values a template does not fix (a parameter without a default, ``!ImportValue``) are
:class:`Unknown`; the checks that need them are skipped and reported (SF022). Settings of the
wrong type become ``problems`` (SF021).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamflow._value import Value

__all__ = [
    "DEFAULTS",
    "Deployed",
    "FunctionInfo",
    "KinesisInfo",
    "Settings",
    "TableInfo",
    "Unknown",
    "read_settings",
]


class Unknown(Value):
    """A value the deployment does not fix; ``reason`` says why (shown in SF022)."""

    __slots__ = ("reason",)
    reason: str


class TableInfo(Value):
    """The table a mapping reads.

    Attributes:
        name: its logical id in a template, or its name.
        view_type: the stream's ``StreamViewType``; ``None`` when the table has no stream.
        keys: ``(attribute, type)`` of its key schema, partition key first, if known.
        problem: why the mapping's stream is not usable (no stream, disabled, a stream the
            table replaced, no such table), or ``None``.
        fix: what makes it usable, with ``problem``.
    """

    __slots__ = ("fix", "keys", "name", "problem", "view_type")
    _order = ("name", "view_type", "keys", "problem", "fix")
    name: str
    view_type: str | Unknown | None
    keys: tuple[tuple[str, str], ...] | None
    problem: str | None
    fix: str | None


class FunctionInfo(Value):
    """The function a mapping invokes.

    Attributes:
        name: its logical id in a template, or its name.
        timeout: its ``Timeout`` in seconds.
        handler: its ``Handler`` setting (``process.handler``), if known.
    """

    __slots__ = ("handler", "name", "timeout")
    _order = ("name", "timeout", "handler")
    name: str
    timeout: int | Unknown
    handler: str | None


class KinesisInfo(Value):
    """The Kinesis data stream a mapping reads, when its source is one.

    Attributes:
        name: its logical id in a template, or its name.
        retention: how long it keeps a record, in seconds; ``None`` when not known (Kinesis
            keeps 24 hours by default, up to 365 days).
        untied: why no table can be tied to it (SF025): none of the template names it, or
            (live) none of its Region streams to it; ``None`` when one is.
        untied_fix: what ties a table to it, with ``untied``.
        problem: why the stream is not usable (live: it does not exist, or is being
            deleted), or ``None``.
        fix: what makes it usable, with ``problem``.
    """

    __slots__ = ("fix", "name", "problem", "retention", "untied", "untied_fix")
    _order = ("name", "retention", "untied", "untied_fix", "problem", "fix")
    name: str
    retention: int | None
    untied: str | None
    untied_fix: str | None
    problem: str | None
    fix: str | None


DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "MaximumBatchingWindowInSeconds": 0,
    "StartingPosition": None,
    "StartingPositionTimestamp": None,
    "BisectBatchOnFunctionError": False,
    "MaximumRetryAttempts": -1,
    "MaximumRecordAgeInSeconds": -1,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
    "Enabled": True,
}
"""Lambda's defaults for a stream's event source mapping, the same for DynamoDB streams and
Kinesis (StartingPosition has none: it is required; StartingPositionTimestamp only goes with
Kinesis's ``AT_TIMESTAMP``)."""
_BOOLEANS = frozenset({"BisectBatchOnFunctionError", "Enabled"})
_SHOWN = {"on_failure": "DestinationConfig", "filter_patterns": "FilterCriteria"}


class Settings(Value):
    """A mapping's settings, by AWS's names; absent ones hold Lambda's defaults.

    ``filter_patterns`` is ``None`` when the mapping filters nothing; ``on_failure`` says
    whether ``DestinationConfig.OnFailure`` names a destination.
    """

    __slots__ = (
        "BatchSize",
        "BisectBatchOnFunctionError",
        "Enabled",
        "FunctionResponseTypes",
        "MaximumBatchingWindowInSeconds",
        "MaximumRecordAgeInSeconds",
        "MaximumRetryAttempts",
        "ParallelizationFactor",
        "StartingPosition",
        "StartingPositionTimestamp",
        "TumblingWindowInSeconds",
        "filter_patterns",
        "on_failure",
    )
    BatchSize: int | Unknown
    MaximumBatchingWindowInSeconds: int | Unknown
    StartingPosition: str | Unknown | None
    StartingPositionTimestamp: float | Unknown | None
    BisectBatchOnFunctionError: bool | Unknown
    MaximumRetryAttempts: int | Unknown
    MaximumRecordAgeInSeconds: int | Unknown
    ParallelizationFactor: int | Unknown
    TumblingWindowInSeconds: int | Unknown
    Enabled: bool | Unknown
    FunctionResponseTypes: tuple[str, ...] | Unknown
    on_failure: bool | Unknown
    filter_patterns: tuple[Any, ...] | Unknown | None


class Deployed(Value):
    """One event source mapping on a DynamoDB stream, or on a Kinesis data stream that
    Kinesis Data Streams for DynamoDB writes to, as deployed (or about to be).

    Attributes:
        id: its logical id in a template (``Stack/LogicalId`` across several stacks), or
            its UUID.
        settings: its :class:`Settings`.
        function: the function it invokes, or :class:`Unknown`.
        table: the table whose changes it reads, or :class:`Unknown`.
        writes_own_table: whether the function's role may write to that table (``None``:
            not known; only read from templates).
        problems: ``(setting, reason)`` for settings of the wrong type.
        kinesis: the Kinesis data stream it reads; ``None`` for a DynamoDB stream.
    """

    __slots__ = ("function", "id", "kinesis", "problems", "settings", "table", "writes_own_table")
    _order = ("id", "settings", "function", "table", "writes_own_table", "problems", "kinesis")
    id: str
    settings: Settings
    function: FunctionInfo | Unknown
    table: TableInfo | Unknown
    writes_own_table: bool | None
    problems: tuple[tuple[str, str], ...]
    kinesis: KinesisInfo | None

    @property
    def source(self) -> str:
        """``"dynamodb"`` or ``"kinesis"``: the kind of stream the mapping reads."""
        return "dynamodb" if self.kinesis is None else "kinesis"

    def unknowns(self) -> list[str]:
        """What the checks could not see: ``"Setting (reason)"`` for each unknown value."""
        refused = {name for name, _ in self.problems}  # reported as SF021 already
        found = [
            f"{_SHOWN.get(name, name)} ({value.reason})"
            for name in Settings.__slots__
            if isinstance(value := getattr(self.settings, name), Unknown)
            and _SHOWN.get(name, name) not in refused
        ]
        if isinstance(self.function, Unknown):
            found.append(f"the function ({self.function.reason})")
        elif isinstance(self.function.timeout, Unknown):
            found.append(f"the function's Timeout ({self.function.timeout.reason})")
        untied = self.kinesis is not None and self.kinesis.untied is not None
        if isinstance(self.table, Unknown):
            if not untied:  # SF025 says it, when untied
                found.append(f"the table ({self.table.reason})")
        elif isinstance(self.table.view_type, Unknown):
            found.append(f"the table's StreamViewType ({self.table.view_type.reason})")
        return found


def read_settings(properties: Mapping[str, Any]) -> tuple[Settings, list[tuple[str, str]]]:
    """A mapping's :class:`Settings` from its properties (CloudFormation's, SAM's or
    ``ListEventSourceMappings``'s: the same names), and the problems found.

    Integers and booleans written as text (``"100"``, ``"true"``), which CloudFormation
    accepts, are read as such.
    """
    problems: list[tuple[str, str]] = []
    values: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        value = properties.get(name, default)
        if value is None or isinstance(value, Unknown):
            values[name] = value
        elif name in _BOOLEANS:
            values[name] = _boolean(name, value, problems)
        elif name == "StartingPosition":
            values[name] = value if isinstance(value, str) else _bad(name, value, problems)
        elif name == "StartingPositionTimestamp":
            values[name] = _timestamp(value, problems)
        else:
            values[name] = _integer(name, value, problems)
    values["FunctionResponseTypes"] = _strings(properties.get("FunctionResponseTypes"), problems)
    values["on_failure"] = _on_failure(properties.get("DestinationConfig"))
    values["filter_patterns"] = _patterns(properties.get("FilterCriteria"), problems)
    return Settings(**values), problems


def _bad(name: str, value: object, problems: list[tuple[str, str]], kind: str = "") -> Unknown:
    problems.append((name, f"must be {kind or 'a string'}, got {value!r}"))
    return Unknown(f"{value!r} is not valid")


def _integer(name: str, value: object, problems: list[tuple[str, str]]) -> int | Unknown:
    if isinstance(value, bool):
        return _bad(name, value, problems, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return _bad(name, value, problems, "an integer")


def _timestamp(value: object, problems: list[tuple[str, str]]) -> float | Unknown:
    """Seconds since the epoch: a number (CloudFormation's Double), its text, or the
    datetime boto3 returns."""
    timestamp = getattr(value, "timestamp", None)
    if callable(timestamp):
        return float(timestamp())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    return _bad("StartingPositionTimestamp", value, problems, "seconds since the epoch")


def _boolean(name: str, value: object, problems: list[tuple[str, str]]) -> bool | Unknown:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return _bad(name, value, problems, "true or false")


def _strings(value: object, problems: list[tuple[str, str]]) -> tuple[str, ...] | Unknown:
    if value is None:
        return ()
    if isinstance(value, Unknown):
        return value
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, Unknown) for item in value):
            return Unknown("an item is not known")
        if all(isinstance(item, str) for item in value):
            return tuple(value)
    problems.append(("FunctionResponseTypes", f"must be a list of strings, got {value!r}"))
    return Unknown("not a list of strings")


def _on_failure(value: object) -> bool | Unknown:
    if isinstance(value, Unknown):
        return value
    if not isinstance(value, Mapping):
        return False
    on_failure = value.get("OnFailure")
    if isinstance(on_failure, Unknown):
        return on_failure
    if not isinstance(on_failure, Mapping):
        return False
    destination = on_failure.get("Destination")
    return destination is not None and destination != ""


def _patterns(value: object, problems: list[tuple[str, str]]) -> tuple[Any, ...] | Unknown | None:
    """The ``Pattern`` values as written (``None``: no filtering)."""
    if value is None:
        return None
    if isinstance(value, Unknown):
        return value
    filters = value.get("Filters") if isinstance(value, Mapping) else None
    if isinstance(filters, Unknown):
        return filters
    if isinstance(value, Mapping) and filters is None:
        return None  # FilterCriteria: {} filters nothing
    if not isinstance(filters, (list, tuple)):
        problems.append(("FilterCriteria", "must be {'Filters': [{'Pattern': '...'}, ...]}"))
        return Unknown("FilterCriteria is malformed")
    if not filters:
        return None
    patterns = []
    for index, item in enumerate(filters):
        pattern = item.get("Pattern") if isinstance(item, Mapping) else None
        if isinstance(pattern, Unknown):
            return Unknown(f"Filters[{index}].Pattern: {pattern.reason}")
        if pattern is None:
            problems.append(("FilterCriteria", f"Filters[{index}] has no Pattern"))
            return Unknown("FilterCriteria is malformed")
        patterns.append(pattern)
    return tuple(patterns)
