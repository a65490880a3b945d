"""Reading a function's deployed mappings with boto3: ``ListEventSourceMappings`` (every
page), ``GetFunctionConfiguration`` and, for each DynamoDB stream, ``DescribeTable`` on the
table its ARN names (``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL``), in that
table's Region; for each Kinesis data stream (``arn:aws:kinesis:REGION:ACCOUNT:stream/NAME``,
or a consumer of it), ``DescribeStreamSummary`` for its status and retention.

A Kinesis stream does not name the table that writes to it, and the table's description
(``DescribeTable``) does not name its Kinesis streaming destination: the table is the one
whose ``DescribeKinesisStreamingDestination`` lists the stream, found among the tables
``ListTables`` gives in the stream's Region (a table streams only to a Kinesis stream of its
own account and Region), at most :data:`SEARCH_LIMIT` of them, or named (``--table``).

boto3 is imported here only, when clients are made.

Over 400 lines: reading a function's mappings and finding the table that writes to a Kinesis
stream share the clients and the handling of every call's refusal, which is this module's
concept (what a live check reads, and what it does when AWS says no).
"""

from __future__ import annotations

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
from streamflow.check._template import _KINESIS_VIEW, Candidate, Skipped
from streamflow.errors import CheckError

__all__ = ["SEARCH_LIMIT", "Clients", "live_mappings"]

SEARCH_LIMIT = 500
"""How many tables' Kinesis streaming destinations are read, at most, to find the one that
writes to a Kinesis stream (one ``DescribeKinesisStreamingDestination`` each)."""
_STREAMING = ("ACTIVE", "UPDATING")  # UPDATING: a change of precision; the changes still flow
_BROKEN = ("DISABLING", "DISABLED", "ENABLE_FAILED")  # no change reaches the stream
_DENIED = "AccessDeniedException"


class Clients:
    """The Lambda client, and a DynamoDB and a Kinesis client per Region (made on first
    use)."""

    def __init__(
        self,
        *,
        region: str | None,
        profile: str | None,
        endpoint_url: str | None,
        lambda_client: Any = None,
        dynamodb_client: Any = None,
        kinesis_client: Any = None,
    ) -> None:
        self._region = region
        self._profile = profile
        self._endpoint_url = endpoint_url
        self._session: Any = None
        self.lambda_client = lambda_client or self._client("lambda", region)
        self._dynamodb: dict[str | None, Any] = {}
        if dynamodb_client is not None:
            self._dynamodb[None] = dynamodb_client
        self._kinesis: dict[str | None, Any] = {}
        if kinesis_client is not None:
            self._kinesis[None] = kinesis_client

    def dynamodb(self, region: str) -> Any:
        return self._regional("dynamodb", self._dynamodb, region)

    def kinesis(self, region: str) -> Any:
        return self._regional("kinesis", self._kinesis, region)

    def _regional(self, service: str, made: dict[str | None, Any], region: str) -> Any:
        if None in made:
            return made[None]
        if region not in made:
            made[region] = self._client(service, region or self._region)
        return made[region]

    def _client(self, service: str, region: str | None) -> Any:
        import boto3
        from botocore.exceptions import NoRegionError, ProfileNotFound

        if self._session is None:
            try:
                self._session = boto3.Session(profile_name=self._profile, region_name=self._region)
            except ProfileNotFound as exc:
                raise CheckError("profile", str(exc)) from None
        try:
            return self._session.client(
                service, region_name=region or None, endpoint_url=self._endpoint_url
            )
        except NoRegionError:
            raise CheckError(
                "region", "no AWS Region configured: pass --region or set AWS_REGION"
            ) from None
        except ValueError as exc:  # a malformed endpoint URL
            raise CheckError("endpoint_url", str(exc)) from None


def live_mappings(
    clients: Clients,
    function_name: str,
    *,
    mapping: str | None = None,
    table: str | None = None,
) -> tuple[list[Candidate], list[Skipped]]:
    """The function's mappings on DynamoDB and Kinesis streams (and the others, skipped).

    Args:
        clients: the boto3 clients.
        function_name: the function's name or ARN.
        mapping: the UUID of the one mapping to check: the others' sources are not read.
        table: the table that writes to the Kinesis stream of each (checked) Kinesis mapping,
            instead of a search of the stream's Region.

    Raises:
        CheckError: (option ``function_name``) no such function.
        CheckError: (option ``table``) ``table`` does not exist, does not stream to a checked
            mapping's Kinesis stream, or no checked mapping reads a Kinesis stream.
        CheckError: (no option) AWS refused a call (access denied, bad credentials, no
            endpoint...), other than those finding the table that writes to a Kinesis stream
            (their refusal is reported as SF022).
    """
    configuration = _call(
        lambda: clients.lambda_client.get_function_configuration(FunctionName=function_name),
        f"GetFunctionConfiguration {function_name}",
        function_name,
    )
    timeout = configuration.get("Timeout", 3)
    function = FunctionInfo(
        str(configuration.get("FunctionName", function_name)),
        int(timeout) if isinstance(timeout, int) else 3,
        configuration.get("Handler") if isinstance(configuration.get("Handler"), str) else None,
    )
    found: list[Candidate] = []
    skipped: list[Skipped] = []
    pages = clients.lambda_client.get_paginator("list_event_source_mappings")
    listed = _call(
        lambda: [
            item
            for page in pages.paginate(FunctionName=function_name)
            for item in page.get("EventSourceMappings", [])
        ],
        f"ListEventSourceMappings {function_name}",
        function_name,
    )
    writers = _Writers(clients)
    checked_sources: set[str] = set()  # "kinesis", "dynamodb": the kinds of mapping checked
    for item in listed:
        uuid = str(item.get("UUID", "?"))
        arn = item.get("EventSourceArn")
        parts = arn.split(":", 5) if isinstance(arn, str) else []
        settings, problems = read_settings(_as_properties(item))
        checked = mapping is None or mapping == uuid
        if len(parts) == 6 and parts[2] == "kinesis" and parts[5].startswith("stream/"):
            name = parts[5].split("/")[1]
            if not checked:  # listed in errors only: its sources are not read
                kinesis = KinesisInfo(name, None, None, None, None, None)
                deployed = Deployed(
                    uuid, settings, function, Unknown("not read"), None, (), kinesis
                )
                found.append(Candidate(deployed, (), function.name, function.handler))
                continue
            checked_sources.add("kinesis")
            kinesis = _stream(clients, region=parts[3], name=name)
            stream_arn = ":".join(parts[:5]) + ":stream/" + name
            writer: TableInfo | Unknown | _Untied
            if table is not None:
                writer = writers.named(table, region=parts[3], stream_arn=stream_arn)
            else:
                writer = writers.search(region=parts[3], stream_arn=stream_arn)
            if isinstance(writer, _Untied):
                kinesis = KinesisInfo(
                    kinesis.name,
                    kinesis.retention,
                    writer.untied,
                    writer.fix,
                    kinesis.problem,
                    kinesis.fix,
                )
                writer = Unknown(f"no table writes to Kinesis stream {name}")
            deployed = Deployed(uuid, settings, function, writer, None, tuple(problems), kinesis)
        elif len(parts) == 6 and parts[2] == "dynamodb" and "/stream/" in parts[5]:
            assert isinstance(arn, str)
            read: TableInfo | Unknown = Unknown("not read")
            if checked:
                read = _table(clients, region=parts[3], arn=arn)
                checked_sources.add("dynamodb")
            deployed = Deployed(uuid, settings, function, read, None, tuple(problems), None)
        else:
            skipped.append(Skipped(uuid, f"its source is {arn}"))
            continue
        found.append(Candidate(deployed, (), function.name, function.handler))
    if table is not None and checked_sources == {"dynamodb"}:  # none checked: _choose says so
        which = f"mapping {mapping}" if mapping is not None else f"function {function.name}"
        raise CheckError(
            "table",
            f"applies to a mapping on a Kinesis stream, and {which} reads a DynamoDB stream",
        )
    return found, skipped


def _as_properties(item: dict[str, Any]) -> dict[str, Any]:
    """A ListEventSourceMappings item in the names ``read_settings`` reads (``State``
    becomes ``Enabled``)."""
    properties = dict(item)
    state = item.get("State")
    if isinstance(state, str):
        properties["Enabled"] = state not in ("Disabled", "Disabling")
    return properties


def _table(clients: Clients, *, region: str, arn: str) -> TableInfo:
    name = arn.split(":", 5)[5].split("/")[1]
    client = clients.dynamodb(region)
    found = _described(lambda: client.describe_table(TableName=name), f"DescribeTable {name}")
    if found is None:
        return TableInfo(
            name,
            None,
            None,
            f"the mapping reads table {name}, which does not exist",
            "delete the mapping, or create it again on the table's current stream",
        )
    description = found["Table"]
    stream = description.get("StreamSpecification") or {}
    enabled = bool(stream.get("StreamEnabled"))
    view = stream.get("StreamViewType") if enabled else None
    latest = description.get("LatestStreamArn")
    problem = fix = None
    if not enabled:
        problem = f"table {name}'s stream is disabled: the mapping gets no new records"
        fix = (
            "enable the stream (StreamSpecification: {StreamEnabled: true, StreamViewType: ...}) "
            "and create the mapping on its new ARN"
        )
    elif latest != arn:
        problem = (
            f"the mapping reads stream {arn.rsplit('/', 1)[-1]} of table {name}, which has "
            f"moved to a new stream ({latest}): the mapping gets no new records"
        )
        fix = f"create the mapping on {latest} and delete this one"
    keys = _keys(description)
    return TableInfo(name, view, keys, problem, fix)


class _Untied(Value):
    """No table writes to a Kinesis stream (SF025): why, and what ties one to it."""

    __slots__ = ("fix", "untied")
    _order = ("untied", "fix")
    untied: str
    fix: str


class _Refused(Value):
    """A call AWS refused for want of a permission."""

    __slots__ = ("action",)
    action: str


_Destinations = list[dict[str, Any]] | _Refused | None  # None: no such table


class _Writers:
    """Finds the table that writes to a Kinesis stream, in the stream's Region: each Region's
    ``ListTables`` and each table's ``DescribeKinesisStreamingDestination`` are read once,
    whatever the number of mappings."""

    def __init__(self, clients: Clients) -> None:
        self._clients = clients
        self._tables: dict[str, list[str] | _Refused] = {}
        self._destinations: dict[tuple[str, str], _Destinations] = {}

    def search(self, *, region: str, stream_arn: str) -> TableInfo | Unknown | _Untied:
        """The table whose destination is ``stream_arn``, among at most
        :data:`SEARCH_LIMIT` of the Region's tables (those whose name is part of the
        stream's first), preferring one that streams to it (ACTIVE) to one that stopped."""
        stream = stream_arn.rsplit("/", 1)[-1]
        names = self._list(region)
        if isinstance(names, _Refused):
            return Unknown(
                f"ListTables was refused in {region}, so the table that writes to Kinesis "
                f"stream {stream} was not found: allow {names.action}, or name the table "
                "with --table"
            )
        likely = sorted(names, key=lambda name: name.lower() not in stream.lower())
        refused: list[str] = []
        stopped: tuple[str, str, str] | None = None  # (table, status, description)
        for read, name in enumerate(likely):
            if read == SEARCH_LIMIT:
                if stopped is not None:
                    break
                return Unknown(
                    f"none of the {SEARCH_LIMIT} tables read of the {len(names)} in {region} "
                    f"writes to Kinesis stream {stream}, and the search stopped there: name "
                    "the table with --table"
                )
            destinations = self._destinations_of(region, name)
            if isinstance(destinations, _Refused):
                refused.append(name)
                continue
            status = _status(destinations or [], stream_arn)
            if status is None:
                continue
            if status[0] in _STREAMING:
                return self._writer(region, name, stream_arn, *status)
            if stopped is None or _rank(status[0]) < _rank(stopped[1]):
                stopped = (name, *status)
        if stopped is not None:
            return self._writer(region, stopped[0], stream_arn, stopped[1], stopped[2])
        if refused:
            shown = ", ".join(refused[:3]) + (", ..." if len(refused) > 3 else "")
            return Unknown(
                f"DescribeKinesisStreamingDestination was refused on {len(refused)} of the "
                f"{len(names)} tables in {region} ({shown}), and no other writes to Kinesis "
                f"stream {stream}: allow dynamodb:DescribeKinesisStreamingDestination, or "
                "name the table with --table"
            )
        return _Untied(
            f"no table in {region} streams its changes to Kinesis stream {stream} (none of "
            f"the {len(names)} tables' Kinesis streaming destinations names it)",
            f"aws dynamodb enable-kinesis-streaming-destination --table-name TABLE "
            f"--stream-arn {stream_arn} for the table whose changes the routes handle "
            "(CloudFormation: KinesisStreamSpecification.StreamArn), or delete the mapping",
        )

    def named(self, table: str, *, region: str, stream_arn: str) -> TableInfo | Unknown:
        """``table`` (a name or an ARN), which must stream to ``stream_arn``.

        Raises:
            CheckError: (option ``table``) no such table, or it does not stream there.
        """
        stream = stream_arn.rsplit("/", 1)[-1]
        name = table
        if table.startswith("arn:") and len(parts := table.split(":", 5)) == 6:
            region, name = parts[3], parts[5].split("/")[1]
        destinations = self._destinations_of(region, name)
        if destinations is None:
            raise CheckError("table", f"no table named {name!r} in {region}")
        if isinstance(destinations, _Refused):
            return Unknown(
                f"DescribeKinesisStreamingDestination was refused on table {name}, so whether "
                f"it writes to Kinesis stream {stream} was not read: allow {destinations.action}"
            )
        status = _status(destinations, stream_arn)
        if status is None:
            others = sorted({str(d.get("StreamArn")) for d in destinations})
            raise CheckError(
                "table",
                f"table {name} in {region} does not stream to Kinesis stream {stream} ("
                + (
                    f"its Kinesis streaming destinations: {', '.join(others)}"
                    if others
                    else "it has no Kinesis streaming destination"
                )
                + ")",
            )
        return self._writer(region, name, stream_arn, *status)

    def _list(self, region: str) -> list[str] | _Refused:
        if region not in self._tables:
            pages = self._clients.dynamodb(region).get_paginator("list_tables")
            try:
                self._tables[region] = [
                    str(name) for page in pages.paginate() for name in page.get("TableNames", [])
                ]
            except Exception as exc:
                if _code(exc) != _DENIED:
                    raise _aws_error(exc, f"ListTables {region}") from None
                self._tables[region] = _Refused("dynamodb:ListTables")
        return self._tables[region]

    def _destinations_of(self, region: str, name: str) -> _Destinations:
        key = (region, name)
        if key not in self._destinations:
            client = self._clients.dynamodb(region)
            try:
                found = _described(
                    lambda: client.describe_kinesis_streaming_destination(TableName=name),
                    f"DescribeKinesisStreamingDestination {name}",
                )
            except CheckError as exc:
                if exc.code != _DENIED:
                    raise
                found = _Refused("dynamodb:DescribeKinesisStreamingDestination")
            if isinstance(found, dict):
                listed = found.get("KinesisDataStreamDestinations") or []
                found = [d for d in listed if isinstance(d, dict)]
            self._destinations[key] = found
        return self._destinations[key]

    def _writer(
        self, region: str, name: str, stream_arn: str, status: str, description: str
    ) -> TableInfo | Unknown:
        """The table, with SF010's problem when its destination is not streaming."""
        stream = stream_arn.rsplit("/", 1)[-1]
        destination = f"table {name}'s Kinesis streaming destination on stream {stream}"
        if status not in _STREAMING and status not in _BROKEN:  # ENABLING, or a new status
            return Unknown(
                f"{destination} is {status}: whether it streams the table's changes is not "
                "known yet (check again once it is ACTIVE)"
            )
        client = self._clients.dynamodb(region)
        try:
            found = _described(
                lambda: client.describe_table(TableName=name), f"DescribeTable {name}"
            )
        except CheckError as exc:
            if exc.code != _DENIED:
                raise
            return Unknown(
                f"DescribeTable was refused on table {name}, which writes to Kinesis stream "
                f"{stream}: allow dynamodb:DescribeTable"
            )
        keys = _keys(found["Table"]) if found is not None else None
        if status in _STREAMING:
            return TableInfo(name, _KINESIS_VIEW, keys, None, None)
        why = f" ({description})" if description else ""
        return TableInfo(
            name,
            _KINESIS_VIEW,
            keys,
            f"{destination} is {status}{why}: the table's changes do not reach the stream, "
            "and the mapping gets none of them",
            f"aws dynamodb enable-kinesis-streaming-destination --table-name {name} "
            f"--stream-arn {stream_arn}"
            + (" once the cause above is fixed" if status == "ENABLE_FAILED" else "")
            + " (CloudFormation: KinesisStreamSpecification.StreamArn on the table)",
        )


def _status(destinations: list[dict[str, Any]], stream_arn: str) -> tuple[str, str] | None:
    """The ``DestinationStatus`` (and its description) of the table's destination on
    ``stream_arn``, the most streaming one if it is listed more than once; ``None`` when it
    is not listed."""
    on_stream = [d for d in destinations if d.get("StreamArn") == stream_arn]
    if not on_stream:
        return None
    best = min(on_stream, key=lambda d: _rank(str(d.get("DestinationStatus"))))
    return str(best.get("DestinationStatus")), str(best.get("DestinationStatusDescription") or "")


def _rank(status: str) -> int:
    """Streaming first, then on the way (ENABLING, a status not known here), then stopped."""
    if status in _STREAMING:
        return 0
    return 2 if status in _BROKEN else 1


def _stream(clients: Clients, *, region: str, name: str) -> KinesisInfo:
    client = clients.kinesis(region)
    found = _described(
        lambda: client.describe_stream_summary(StreamName=name), f"DescribeStreamSummary {name}"
    )
    if found is None:
        return KinesisInfo(
            name,
            None,
            None,
            None,
            f"the mapping reads Kinesis stream {name}, which does not exist",
            "delete the mapping, or create it on the stream the table writes to",
        )
    summary = found["StreamDescriptionSummary"]
    hours = summary.get("RetentionPeriodHours")
    retention = hours * 3600 if isinstance(hours, int) else None
    problem = fix = None
    if summary.get("StreamStatus") == "DELETING":
        problem = f"Kinesis stream {name} is being deleted: the mapping gets no new records"
        fix = "create the mapping on the stream the table writes to"
    return KinesisInfo(name, retention, None, None, problem, fix)


def _described(call: Any, what: str) -> Any:
    """The answer of a Describe call; ``None`` when the resource does not exist.

    Raises:
        CheckError: (no option) AWS refused the call.
    """
    try:
        return call()
    except Exception as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise _aws_error(exc, what) from None


def _keys(description: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    types = {
        item["AttributeName"]: item["AttributeType"]
        for item in description.get("AttributeDefinitions", [])
    }
    schema = sorted(
        description.get("KeySchema", []), key=lambda item: 0 if item["KeyType"] == "HASH" else 1
    )
    keys = tuple((item["AttributeName"], types.get(item["AttributeName"], "S")) for item in schema)
    return keys or None


def _call(call: Any, what: str, function_name: str) -> Any:
    try:
        return call()
    except Exception as exc:
        if _code(exc) == "ResourceNotFoundException":
            raise CheckError(
                "function_name", f"no function named {function_name!r} ({what})"
            ) from None
        raise _aws_error(exc, what) from None


def _code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error.get("Code") if isinstance(error, dict) else None


def _aws_error(exc: BaseException, what: str) -> CheckError:
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        message = exc.response.get("Error", {}).get("Message") or str(exc)
        return CheckError(None, f"{what}: {message}", code=_code(exc))
    if isinstance(exc, BotoCoreError):
        return CheckError(None, f"{what}: {exc}")
    raise exc
