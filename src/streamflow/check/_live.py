"""Reading a function's deployed mappings with boto3: ``ListEventSourceMappings`` (every
page), ``GetFunctionConfiguration`` and, for each DynamoDB stream, ``DescribeTable`` on the
table its ARN names (``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL``), in that
table's Region; for each Kinesis data stream (``arn:aws:kinesis:REGION:ACCOUNT:stream/NAME``,
or a consumer of it), ``DescribeStreamSummary`` for its status and retention. A Kinesis stream
does not name the table that writes to it, so that table is not read (SF022 says so).

boto3 is imported here only, when clients are made.
"""

from __future__ import annotations

from typing import Any

from streamflow.check._deployment import (
    Deployed,
    FunctionInfo,
    KinesisInfo,
    TableInfo,
    Unknown,
    read_settings,
)
from streamflow.check._template import Candidate, Skipped
from streamflow.errors import CheckError

__all__ = ["Clients", "live_mappings"]


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


def live_mappings(clients: Clients, function_name: str) -> tuple[list[Candidate], list[Skipped]]:
    """The function's mappings on DynamoDB and Kinesis streams (and the others, skipped).

    Raises:
        CheckError: (option ``function_name``) no such function.
        CheckError: (no option) AWS refused a call (access denied, bad credentials, no
            endpoint...).
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
    for item in listed:
        uuid = str(item.get("UUID", "?"))
        arn = item.get("EventSourceArn")
        parts = arn.split(":", 5) if isinstance(arn, str) else []
        settings, problems = read_settings(_as_properties(item))
        if len(parts) == 6 and parts[2] == "kinesis" and parts[5].startswith("stream/"):
            kinesis = _stream(clients, region=parts[3], name=parts[5].split("/")[1])
            table: TableInfo | Unknown = Unknown(
                f"Kinesis stream {kinesis.name} does not name the table that writes to it: "
                "whether that table's Kinesis streaming destination is ACTIVE was not read"
            )
            deployed = Deployed(uuid, settings, function, table, None, tuple(problems), kinesis)
        elif len(parts) == 6 and parts[2] == "dynamodb" and "/stream/" in parts[5]:
            assert isinstance(arn, str)
            table = _table(clients, region=parts[3], arn=arn)
            deployed = Deployed(uuid, settings, function, table, None, tuple(problems), None)
        else:
            skipped.append(Skipped(uuid, f"its source is {arn}"))
            continue
        found.append(Candidate(deployed, (), function.name, function.handler))
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
    return KinesisInfo(name, retention, None, problem, fix)


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
