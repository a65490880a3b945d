"""The event source mappings a template declares on DynamoDB streams, and on Kinesis data
streams that Kinesis Data Streams for DynamoDB writes to, with their tables and functions:
``AWS::Lambda::EventSourceMapping`` resources (CloudFormation, CDK's synthesized templates)
and SAM's ``AWS::Serverless::Function`` events of ``Type: DynamoDB`` or ``Type: Kinesis``.

A Kinesis stream is tied to the table whose ``KinesisStreamSpecification.StreamArn`` names it
(CloudFormation has no separate streaming-destination resource); an ``AWS::Kinesis::
StreamConsumer`` (enhanced fan-out) leads to its stream.

A SAM event becomes the mapping SAM generates, with SAM's logical id: the function's id
followed by the event's name (``ProcessorStream`` for event ``Stream`` of ``Processor``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamflow._value import Value
from streamflow.check._deployment import (
    Deployed,
    FunctionInfo,
    KinesisInfo,
    TableInfo,
    Unknown,
    read_settings,
)
from streamflow.check._iam import may_write
from streamflow.check._intrinsics import Attr, Ref, Resolver
from streamflow.check._source import Template

__all__ = ["Candidate", "Skipped", "template_mappings"]

_TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
_STREAMS = ("AWS::Kinesis::Stream",)
_CONSUMER = "AWS::Kinesis::StreamConsumer"
_FUNCTIONS = ("AWS::Lambda::Function", "AWS::Serverless::Function")
_NEEDED = "NEW_AND_OLD_IMAGES"  # the view every route can use; the findings say if less does
_KINESIS_VIEW = "NEW_AND_OLD_IMAGES"  # a change written to Kinesis carries both images
_KINESIS_RETENTION_HOURS = 24  # AWS::Kinesis::Stream's default RetentionPeriodHours
_SAM_EVENTS = ("DynamoDB", "Kinesis")
_DEFAULT_TIMEOUT = 3  # seconds: Lambda's, CloudFormation's and SAM's default


class Candidate(Value):
    """A mapping on a DynamoDB or Kinesis stream, and what helps choose it among several."""

    __slots__ = ("aliases", "deployed", "function_key", "handler")
    _order = ("deployed", "aliases", "function_key", "handler")
    deployed: Deployed
    aliases: tuple[str, ...]  # other names --mapping may use (SAM: Function.Event, Event)
    function_key: str  # the function it invokes, to tell mappings of one function apart
    handler: str | None  # the function's Handler setting


class Skipped(Value):
    """A mapping on another source (named in the "none found" error)."""

    __slots__ = ("id", "why")
    id: str
    why: str


def template_mappings(
    templates: list[Template], parameters: Mapping[str, str]
) -> tuple[list[Candidate], list[Skipped]]:
    """Every mapping on a DynamoDB or Kinesis stream in ``templates``, and those left out
    (and why)."""
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    prefix_ids = len(templates) > 1
    for name, template in templates:
        resolver = _StackReader(Resolver(template, parameters))
        for item in resolver.mappings():
            if prefix_ids:
                item = _prefixed(item, name)
            if isinstance(item, Candidate):
                found.append(item)
            else:
                skipped.append(item)
    return found, skipped


def _prefixed(item: Candidate | Skipped, stack: str) -> Candidate | Skipped:
    if isinstance(item, Skipped):
        return Skipped(f"{stack}/{item.id}", item.why)
    old = item.deployed
    deployed = Deployed(
        f"{stack}/{old.id}", old.settings, old.function, old.table, old.writes_own_table,
        old.problems, old.kinesis,
    )  # fmt: skip
    aliases = (old.id, *item.aliases)
    return Candidate(deployed, aliases, f"{stack}/{item.function_key}", item.handler)


class _StackReader:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        globals_ = resolver.value(resolver.template.get("Globals", {}))
        function_globals = globals_.get("Function") if isinstance(globals_, dict) else None
        self.function_globals: dict[str, Any] = (
            function_globals if isinstance(function_globals, dict) else {}
        )

    def mappings(self) -> list[Candidate | Skipped]:
        out: list[Candidate | Skipped] = []
        for logical_id in self.resolver.resources:
            kind = self.resolver.type_of(logical_id)
            if kind == "AWS::Lambda::EventSourceMapping":
                properties = self.resolver.properties(logical_id)
                out.append(self._candidate(logical_id, (), properties, "EventSourceArn", None))
            elif kind == "AWS::Serverless::Function":
                out.extend(self._sam_events(logical_id))
        return out

    def _sam_events(self, function_id: str) -> list[Candidate | Skipped]:
        events = self.resolver.properties(function_id).get("Events")
        out: list[Candidate | Skipped] = []
        if not isinstance(events, dict):
            return out
        for event_name, event in events.items():
            if not isinstance(event, dict) or event.get("Type") not in _SAM_EVENTS:
                continue
            properties = event.get("Properties")
            aliases = (f"{function_id}.{event_name}", str(event_name))
            out.append(
                self._candidate(
                    f"{function_id}{event_name}",
                    aliases,
                    properties if isinstance(properties, dict) else {},
                    "Stream",
                    function_id,
                )
            )
        return out

    def _candidate(
        self,
        mapping_id: str,
        aliases: tuple[str, ...],
        properties: dict[str, Any],
        source_key: str,
        function_id: str | None,
    ) -> Candidate | Skipped:
        source = properties.get(source_key)
        kinesis: KinesisInfo | None = None
        stream = self._stream_of(source)
        if stream is not None:
            kinesis, table, table_id = self._kinesis(stream)
        else:
            table, table_id, why = self._table(source, source_key)
            if why is not None:
                return Skipped(mapping_id, why)
        settings, problems = read_settings(properties)
        if isinstance(source, Ref) and self.resolver.type_of(source.logical_id) in _STREAMS:
            problems.append(
                (
                    source_key,
                    f"Ref {source.logical_id} gives the Kinesis stream's name; the mapping "
                    f"needs its ARN: !GetAtt {source.logical_id}.Arn",
                )
            )
        elif isinstance(source, Ref):
            problems.append(
                (
                    source_key,
                    f"Ref {source.logical_id} gives the table's name; the mapping needs its "
                    f"stream: !GetAtt {source.logical_id}.StreamArn",
                )
            )
        if function_id is None:
            function_id, function = self._function(properties.get("FunctionName"))
        else:
            function = self._function_info(function_id)
        writes = (
            may_write(self.resolver, function_id, table_id)
            if function_id is not None and table_id is not None
            else None
        )
        deployed = Deployed(mapping_id, settings, function, table, writes, tuple(problems), kinesis)
        handler = function.handler if isinstance(function, FunctionInfo) else None
        return Candidate(deployed, aliases, function_id or mapping_id, handler)

    # --- a Kinesis data stream -----------------------------------------------------------------

    def _stream_of(self, source: Any, depth: int = 0) -> tuple[str, str] | None:
        """The Kinesis stream a source names: ``("id", logical id)`` for a stream of the
        template, ``("name", name)`` for one named by its ARN only; ``None`` when the source
        is no Kinesis stream (nor a consumer of one)."""
        if isinstance(source, (Attr, Ref)):
            kind = self.resolver.type_of(source.logical_id)
            attribute = source.attribute if isinstance(source, Attr) else None
            if kind in _STREAMS and attribute in ("Arn", None):
                return ("id", source.logical_id)
            if kind == _CONSUMER and attribute in ("ConsumerARN", None) and depth < 3:
                of = self.resolver.properties(source.logical_id).get("StreamARN")
                return self._stream_of(of, depth + 1) or ("name", source.logical_id)
            return None
        if not isinstance(source, str):
            return None
        parts = source.split(":", 5)
        if len(parts) < 6 or parts[2] != "kinesis" or not parts[5].startswith("stream/"):
            return None
        name = parts[5].split("/")[1]
        for logical_id in self.resolver.resources:
            if self.resolver.type_of(logical_id) in _STREAMS and (
                self.resolver.properties(logical_id).get("Name") == name
            ):
                return ("id", logical_id)
        return ("name", name)

    def _kinesis(
        self, stream: tuple[str, str]
    ) -> tuple[KinesisInfo, TableInfo | Unknown, str | None]:
        """The stream's info, and the table whose ``KinesisStreamSpecification`` writes to it
        (with its logical id), if the template has one."""
        kind, name = stream
        retention: int | None = None
        if kind == "id":
            hours = self.resolver.properties(name).get(
                "RetentionPeriodHours", _KINESIS_RETENTION_HOURS
            )
            if isinstance(hours, str) and hours.strip().isdigit():
                hours = int(hours)
            if isinstance(hours, int) and not isinstance(hours, bool):
                retention = hours * 3600
        for logical_id in self.resolver.resources:
            if self.resolver.type_of(logical_id) not in _TABLES:
                continue
            properties = self.resolver.properties(logical_id)
            specifications = [properties.get("KinesisStreamSpecification")]
            replicas = properties.get("Replicas")  # a global table's, per replica
            if isinstance(replicas, list):
                specifications += [
                    r.get("KinesisStreamSpecification") for r in replicas if isinstance(r, dict)
                ]
            if any(
                isinstance(spec, dict) and self._stream_of(spec.get("StreamArn")) == stream
                for spec in specifications
            ):
                table = TableInfo(logical_id, _KINESIS_VIEW, _keys(properties), None, None)
                return KinesisInfo(name, retention, None, None, None, None), table, logical_id
        shown = f"Kinesis stream {name}" + ("" if kind == "id" else " (not in the template)")
        untied = (
            f"no table of the template writes to {shown}: no KinesisStreamSpecification."
            "StreamArn names it"
        )
        tie = (
            f"KinesisStreamSpecification: {{StreamArn: !GetAtt {name}.Arn}} on the table whose "
            "changes the routes handle (or, for a table of another stack, check the deployed "
            "function with --function-name)"
        )
        info = KinesisInfo(name, retention, untied, tie, None, None)
        return info, Unknown(f"no table writes to {shown}"), None

    # --- the table -----------------------------------------------------------------------------

    def _table(self, source: Any, key: str) -> tuple[TableInfo | Unknown, str | None, str | None]:
        """The table of a mapping's source, its logical id, and why it is no DynamoDB
        stream (``None`` if it is one, or may be)."""
        if isinstance(source, Attr):
            kind = self.resolver.type_of(source.logical_id)
            if kind in _TABLES and source.attribute == "StreamArn":
                return self._table_info(source.logical_id), source.logical_id, None
            return Unknown(""), None, f"its {key} is {kind or 'a resource'} {source.attribute}"
        if isinstance(source, Ref):
            kind = self.resolver.type_of(source.logical_id)
            if kind in _TABLES:  # a mistake (a name, not a stream): reported as SF021
                return self._table_info(source.logical_id), source.logical_id, None
            return Unknown(""), None, f"its {key} is {kind or 'a resource'}"
        if isinstance(source, str):
            parts = source.split(":", 5)
            if len(parts) < 6 or parts[2] != "dynamodb" or "/stream/" not in parts[5]:
                service = parts[2] if len(parts) > 2 else "not an ARN"
                return (
                    Unknown(""),
                    None,
                    f"its {key} is not a DynamoDB or Kinesis stream ({service})",
                )
            table_name = parts[5].split("/")[1]
            for logical_id in self.resolver.resources:
                if self.resolver.type_of(logical_id) in _TABLES and (
                    self.resolver.properties(logical_id).get("TableName") == table_name
                ):
                    return self._table_info(logical_id), logical_id, None
            return Unknown(f"table {table_name} is not in the template"), None, None
        if isinstance(source, Unknown):
            return Unknown(f"its {key}: {source.reason}"), None, None
        return Unknown(f"its {key} is missing or not a stream ARN"), None, None

    def _table_info(self, logical_id: str) -> TableInfo:
        properties = self.resolver.properties(logical_id)
        stream = properties.get("StreamSpecification")
        view_type: str | Unknown | None = None
        problem = fix = None
        if isinstance(stream, Unknown):
            view_type = stream
        elif isinstance(stream, dict) and stream.get("StreamViewType") is not None:
            found = stream["StreamViewType"]
            view_type = found if isinstance(found, (str, Unknown)) else Unknown(repr(found))
        else:
            problem = f"table {logical_id} has no stream (no StreamSpecification.StreamViewType)"
            fix = f"StreamSpecification: {{StreamViewType: {_NEEDED}}} on table {logical_id}"
        return TableInfo(logical_id, view_type, _keys(properties), problem, fix)

    # --- the function --------------------------------------------------------------------------

    def _function(self, name: Any) -> tuple[str | None, FunctionInfo | Unknown]:
        logical_id = None
        if isinstance(name, (Ref, Attr)):
            logical_id = self._through_aliases(name.logical_id)
        elif isinstance(name, str):
            short = name.split(":function:")[-1].split(":")[0]
            for candidate in self.resolver.resources:
                if self.resolver.type_of(candidate) in _FUNCTIONS and (
                    self.resolver.properties(candidate).get("FunctionName") == short
                ):
                    logical_id = candidate
            if logical_id is None:
                return None, Unknown(f"function {name} is not in the template")
        if logical_id is None or self.resolver.type_of(logical_id) not in _FUNCTIONS:
            shown = name.reason if isinstance(name, Unknown) else "not a function of the template"
            return None, Unknown(f"FunctionName: {shown}")
        return logical_id, self._function_info(logical_id)

    def _through_aliases(self, logical_id: str) -> str:
        """A version or alias resource leads to its function."""
        for _ in range(3):
            if self.resolver.type_of(logical_id) not in (
                "AWS::Lambda::Alias",
                "AWS::Lambda::Version",
            ):
                break
            target = self.resolver.properties(logical_id).get("FunctionName")
            if not isinstance(target, (Ref, Attr)):
                break
            logical_id = target.logical_id
        return logical_id

    def _function_info(self, logical_id: str) -> FunctionInfo:
        properties = self.resolver.properties(logical_id)
        if self.resolver.type_of(logical_id) == "AWS::Serverless::Function":
            properties = {**self.function_globals, **properties}
        timeout = properties.get("Timeout", _DEFAULT_TIMEOUT)
        if isinstance(timeout, str) and timeout.strip().isdigit():
            timeout = int(timeout)
        if not isinstance(timeout, (int, Unknown)) or isinstance(timeout, bool):
            timeout = Unknown(f"Timeout {timeout!r} is not a number of seconds")
        handler = properties.get("Handler")
        return FunctionInfo(logical_id, timeout, handler if isinstance(handler, str) else None)


def _keys(properties: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    schema = properties.get("KeySchema")
    definitions = properties.get("AttributeDefinitions")
    if not isinstance(schema, list) or not isinstance(definitions, list):
        return None
    types = {
        item.get("AttributeName"): item.get("AttributeType")
        for item in definitions
        if isinstance(item, dict)
    }
    ordered = sorted(
        (item for item in schema if isinstance(item, dict)),
        key=lambda item: 0 if item.get("KeyType") == "HASH" else 1,
    )
    keys = tuple(
        (item.get("AttributeName"), types.get(item.get("AttributeName"))) for item in ordered
    )
    if not keys or not all(isinstance(a, str) and isinstance(t, str) for a, t in keys):
        return None
    return keys  # type: ignore[return-value]
