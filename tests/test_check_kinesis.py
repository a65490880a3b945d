"""``streamflow check`` on a mapping whose source is a Kinesis data stream that Kinesis Data
Streams for DynamoDB writes to: templates (CloudFormation, SAM), the Kinesis patterns, the
settings that differ, example records in the Kinesis shape, and the live path on moto."""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

import boto3
import pytest

from streamflow import Router, StreamRecord, parse_event
from streamflow.check import check, check_live
from streamflow.check._witness import examples
from streamflow.errors import CheckError
from streamflow.filters import Filter, prefix
from tests.test_check import (
    CLEAN_SETTINGS,
    batch_router,
    codes,
    image_router,
    kinesis_template,
    pattern,
    scores_router,
    template,
)

SCORES = {"eventName": ["INSERT"], "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}}


def test_a_clean_kinesis_mapping_has_no_findings() -> None:
    for make in (scores_router, batch_router, image_router):
        assert check(make(), template=kinesis_template(make())) == []


def test_the_dynamodb_patterns_on_a_kinesis_mapping_come_with_the_ones_to_paste() -> None:
    router = scores_router()
    faulty = kinesis_template(FilterCriteria=router.filter_criteria().to_cloudformation())
    [finding] = check(router, template=faulty)
    assert finding.code == "SF023"
    assert finding.severity == "error"
    assert "drops every record" in finding.message
    expected = router.filter_criteria(source="kinesis").to_cloudformation()
    assert json.dumps(expected) in finding.fix


def test_one_dynamodb_shaped_filter_among_kinesis_ones_is_named() -> None:
    router = scores_router()
    wanted = router.filter_criteria(source="kinesis").to_cloudformation()
    filters = [*wanted["Filters"], {"Pattern": json.dumps(SCORES)}]
    [finding] = check(router, template=kinesis_template(FilterCriteria={"Filters": filters}))
    assert finding.code == "SF023"
    assert finding.message.startswith("deployed filter 3 (")
    assert "it matches no record" in finding.message


def test_a_route_on_a_field_kinesis_lacks_is_named_and_fixed_with_table_name() -> None:
    router = Router()

    @router.on(Filter.from_pattern({"eventName": ["INSERT"], "eventVersion": ["1.1"]}))
    def versioned(record: StreamRecord) -> None: ...

    @router.on(Filter.modify())
    def modified(record: StreamRecord) -> None: ...

    deployed = pattern({"data": {"eventName": ["INSERT"], "eventVersion": ["1.1"]}})
    findings = check(router, template=kinesis_template(router, FilterCriteria=deployed))
    assert codes(findings) == ["SF024"]
    assert "route 'versioned' filters on eventVersion" in findings[0].message

    fixed = Router()

    @fixed.on(Filter.from_pattern({"eventName": ["INSERT"], "tableName": ["Scores"]}))
    def from_scores(record: StreamRecord) -> None: ...

    assert check(fixed, template=kinesis_template(fixed)) == []


def test_an_untied_stream_skips_the_view_type_checks() -> None:
    findings = check(image_router(), template=kinesis_template(image_router(), tied=False))
    assert codes(findings) == ["SF025"]  # no SF008 nor SF022 for the table


def test_drift_is_explained_with_kinesis_records() -> None:
    router = scores_router()
    only_scores = pattern({"data": SCORES})
    [finding] = check(router, template=kinesis_template(FilterCriteria=only_scores))
    assert finding.code == "SF002"
    assert "route 'total_changed' never receives its records" in finding.message
    assert "a Kinesis record of a MODIFY with data.dynamodb.Keys.PK.S" in finding.message
    unfiltered = check(router, template=kinesis_template(FilterCriteria=None))
    assert codes(unfiltered) == ["SF003", "SF005"]  # it writes to the table streaming there
    assert "a Kinesis record of" in unfiltered[0].message


def test_kinesis_examples_are_records_lambda_and_the_router_agree_on() -> None:
    router = scores_router()
    for flt in router.filter_criteria(source="kinesis"):
        for example in examples(
            flt, view_type=None, keys=(("PK", "S"), ("SK", "S")), source="kinesis"
        ):
            assert example.record["eventSource"] == "aws:kinesis"
            assert flt.matches(example.view)  # what Lambda filters: {"data": change}
            [record] = parse_event({"Records": [example.record]})
            inner = Filter.from_pattern(flt.pattern["data"])
            assert inner.matches(record)  # the router matches the StreamRecord's change
            assert inner.matches(example.change)


def test_own_writes_through_kinesis() -> None:
    findings = check(
        scores_router(),
        template=kinesis_template(),
        writes=[{"PK": "USER#7", "SK": "TOTAL", "total": 3}],
    )
    assert codes(findings) == ["SF005"]
    assert "route 'total_changed' takes" in findings[0].message


def sam_kinesis(router: Router, **event: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Stream": {"Fn::GetAtt": ["Changes", "Arn"]},
        **CLEAN_SETTINGS,
        "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:sqs:us-east-1:1:q"}},
        "FilterCriteria": router.filter_criteria(source="kinesis").to_cloudformation(),
        **event,
    }
    return {
        "Transform": "AWS::Serverless-2016-10-31",
        "Resources": {
            "Changes": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KinesisStreamSpecification": {"StreamArn": {"Fn::GetAtt": ["Changes", "Arn"]}}
                },
            },
            "Processor": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "Timeout": 60,
                    "Events": {"Changes": {"Type": "Kinesis", "Properties": properties}},
                },
            },
        },
    }


def test_a_sam_kinesis_event() -> None:
    router = scores_router()
    assert check(router, template=sam_kinesis(router)) == []
    faulty = check(router, template=sam_kinesis(router, FunctionResponseTypes=[]))
    assert [(f.code, f.mapping) for f in faulty] == [("SF001", "ProcessorChanges")]


def test_a_stream_named_by_arn_and_a_consumer_are_tied_to_the_table() -> None:
    named = kinesis_template(EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/changes")
    resources = named["Resources"]
    resources["Changes"]["Properties"]["Name"] = "changes"
    assert check(scores_router(), template=named) == []

    consumer = kinesis_template(EventSourceArn={"Fn::GetAtt": ["Fanout", "ConsumerARN"]})
    consumer["Resources"]["Fanout"] = {
        "Type": "AWS::Kinesis::StreamConsumer",
        "Properties": {
            "ConsumerName": "processor",
            "StreamARN": {"Fn::GetAtt": ["Changes", "Arn"]},
        },
    }
    assert check(scores_router(), template=consumer) == []

    elsewhere = kinesis_template(
        EventSourceArn="arn:aws:kinesis:us-east-1:123456789012:stream/other"
    )
    [finding] = check(scores_router(), template=elsewhere)
    assert finding.code == "SF025"
    assert "Kinesis stream other (not in the template)" in finding.message


def test_a_ref_to_the_stream_gives_its_name_not_its_arn() -> None:
    findings = check(scores_router(), template=kinesis_template(EventSourceArn={"Ref": "Changes"}))
    assert codes(findings) == ["SF021"]
    assert "!GetAtt Changes.Arn" in findings[0].message


def test_starting_at_a_timestamp_is_a_kinesis_position() -> None:
    at = kinesis_template(StartingPosition="AT_TIMESTAMP", StartingPositionTimestamp=1767225600)
    assert check(scores_router(), template=at) == []
    [missing] = check(scores_router(), template=kinesis_template(StartingPosition="AT_TIMESTAMP"))
    assert missing.code == "SF021"
    assert "without StartingPositionTimestamp" in missing.message
    [dynamodb] = check(scores_router(), template=template(StartingPosition="AT_TIMESTAMP"))
    assert dynamodb.message == (
        "StartingPosition AT_TIMESTAMP: DynamoDB streams take TRIM_HORIZON or LATEST"
    )


def test_infinite_retries_block_a_shard_for_the_streams_retention() -> None:
    unbounded = kinesis_template(MaximumRetryAttempts=None, MaximumRecordAgeInSeconds=None)
    unbounded["Resources"]["Changes"]["Properties"]["RetentionPeriodHours"] = 168
    [finding] = check(scores_router(), template=unbounded)
    assert finding.code == "SF013"
    assert "blocks its shard for up to 7 days" in finding.message
    week = copy.deepcopy(unbounded)
    week["Resources"]["Mapping"]["Properties"]["MaximumRecordAgeInSeconds"] = 172_800
    [finding] = check(scores_router(), template=week)
    assert "blocks its shard for up to 2 days" in finding.message
    hour = copy.deepcopy(unbounded)
    hour["Resources"]["Mapping"]["Properties"]["MaximumRecordAgeInSeconds"] = 3600
    assert check(scores_router(), template=hour) == []


# --- live, on moto's server -----------------------------------------------------------------
#
# moto (5.2.5) does not implement EnableKinesisStreamingDestination, DescribeKinesisStreaming-
# Destination nor DisableKinesisStreamingDestination: it answers them with a 500. The fixture
# below adds them to moto's DynamoDB server, in AWS's shapes, so that boto3 still talks HTTP
# to a server for every call. It also refuses calls as AWS does (AccessDeniedException, 400),
# which moto's own IAM enforcement cannot show: it answers DynamoDB's JSON calls with an XML 403
# that botocore reads as error code "403".


class Destinations:
    """The Kinesis streaming destinations moto's server lacks, by table name, and the calls
    it refuses."""

    def __init__(self) -> None:
        self.of: dict[str, list[dict[str, str]]] = {}
        self.refused_actions: set[str] = set()
        self.refused_tables: set[str] = set()

    def set(self, table: str, stream_arn: str, status: str, description: str = "") -> None:
        """Give ``table`` a destination in a state no call produces on moto."""
        destination = {"StreamArn": stream_arn, "DestinationStatus": status}
        if description:
            destination["DestinationStatusDescription"] = description
        self.of.setdefault(table, []).append(destination)


@pytest.fixture
def destinations(monkeypatch: pytest.MonkeyPatch) -> Destinations:
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX
    from moto.dynamodb.responses import DynamoHandler

    state = Destinations()

    def refuse(action: str, table: str | None = None) -> None:
        if action in state.refused_actions or (table is not None and table in state.refused_tables):
            raise JsonRESTError(
                ERROR_TYPE_PREFIX + "AccessDeniedException",
                f"User: arn:aws:iam::123456789012:user/checker is not authorized to perform: "
                f"dynamodb:{action}",
            )

    def table_of(handler: Any, action: str) -> Any:
        refuse(action, handler.body["TableName"])
        return handler.dynamodb_backend.get_table(handler.body["TableName"])

    def enable(handler: Any) -> ActionResult:
        table = table_of(handler, "EnableKinesisStreamingDestination")
        arn = handler.body["StreamArn"]
        state.of[table.name] = [d for d in state.of.get(table.name, []) if d["StreamArn"] != arn]
        state.set(table.name, arn, "ACTIVE")  # AWS: ENABLING, then ACTIVE
        return ActionResult(
            {"TableName": table.name, "StreamArn": arn, "DestinationStatus": "ACTIVE"}
        )

    def disable(handler: Any) -> ActionResult:
        table = table_of(handler, "DisableKinesisStreamingDestination")
        arn = handler.body["StreamArn"]
        for destination in state.of.get(table.name, []):
            if destination["StreamArn"] == arn:
                destination["DestinationStatus"] = "DISABLED"  # AWS: DISABLING, then DISABLED
        return ActionResult(
            {"TableName": table.name, "StreamArn": arn, "DestinationStatus": "DISABLED"}
        )

    def describe(handler: Any) -> ActionResult:
        table = table_of(handler, "DescribeKinesisStreamingDestination")
        return ActionResult(
            {"TableName": table.name, "KinesisDataStreamDestinations": state.of.get(table.name, [])}
        )

    listing = DynamoHandler.list_tables

    def list_tables(handler: Any) -> Any:
        refuse("ListTables")
        return listing(handler)

    for name, method in (
        ("enable_kinesis_streaming_destination", enable),
        ("disable_kinesis_streaming_destination", disable),
        ("describe_kinesis_streaming_destination", describe),
        ("list_tables", list_tables),
    ):
        monkeypatch.setattr(DynamoHandler, name, method, raising=False)
    return state


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def live_router() -> Router:
    router = Router()

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    return router


LIVE_ROUTER = live_router()  # what the command loads


class Live:
    """The moto account of ``test_check_live``, with Kinesis streams and the tables that
    stream to them."""

    def __init__(self, settings: dict[str, Any], destinations: Destinations) -> None:
        from tests.test_check_live import Account

        self.account = Account(settings)
        self.settings = settings
        self.destinations = destinations
        self.kinesis = boto3.client("kinesis", **settings)

    def stream(self, name: str = "") -> tuple[str, str]:
        name = name or f"check-changes-{uuid.uuid4().hex[:8]}"
        self.kinesis.create_stream(StreamName=name, ShardCount=1)
        summary = self.kinesis.describe_stream_summary(StreamName=name)
        return name, summary["StreamDescriptionSummary"]["StreamARN"]

    def table(self, name: str = "", *, streams_to: str | None = None) -> str:
        if name:
            self.account.dynamodb.create_table(
                TableName=name,
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
        else:
            name, _ = self.account.table()
        if streams_to is not None:
            self.account.dynamodb.enable_kinesis_streaming_destination(
                TableName=name, StreamArn=streams_to
            )
        return name

    def mapping(self, stream_arn: str, **settings: Any) -> tuple[str, str]:
        """A new function and its mapping on ``stream_arn``: (function, mapping UUID)."""
        function = self.account.function()
        settings.setdefault(
            "FilterCriteria", live_router().filter_criteria(source="kinesis").to_boto3()
        )
        return function, self.account.mapping(function, stream_arn, **settings)

    def check(self, function: str, **options: Any) -> list[Any]:
        return check_live(
            live_router(),
            function_name=function,
            region="us-east-1",
            endpoint_url=self.settings["endpoint_url"],
            **options,
        )

    def command(self, function: str, *extra: str) -> int:
        from streamflow.cli import main

        return main(
            [
                "check",
                "tests.test_check_kinesis:LIVE_ROUTER",
                "--function-name",
                function,
                "--region",
                "us-east-1",
                "--endpoint-url",
                self.settings["endpoint_url"],
                *extra,
            ]
        )


@pytest.fixture
def live(aws_settings: dict[str, Any], destinations: Destinations) -> Live:
    return Live(aws_settings, destinations)


def test_a_live_kinesis_mapping_finds_the_table_that_writes_to_its_stream(live: Live) -> None:
    _, arn = live.stream()
    live.table(streams_to=arn)
    clean, _ = live.mapping(arn)
    assert live.check(clean) == []  # no SF022: the table was found among the Region's tables
    assert live.command(clean, "--fail-on", "warning") == 0

    faulty, _ = live.mapping(
        arn,
        FilterCriteria=live_router().filter_criteria().to_boto3(),
        MaximumRetryAttempts=None,
        MaximumRecordAgeInSeconds=None,
    )
    found = {f.code: f for f in live.check(faulty)}
    assert set(found) == {"SF013", "SF023"}
    assert "blocks its shard for up to 24 hours" in found["SF013"].message


def test_a_stopped_destination_loses_every_change(live: Live) -> None:
    name, arn = live.stream()
    table = live.table(streams_to=arn)
    function, _ = live.mapping(arn)
    live.account.dynamodb.disable_kinesis_streaming_destination(TableName=table, StreamArn=arn)
    [finding] = live.check(function)
    assert (finding.code, finding.severity) == ("SF010", "error")
    assert finding.message == (
        f"table {table}'s Kinesis streaming destination on stream {name} is DISABLED: the "
        "table's changes do not reach the stream, and the mapping gets none of them"
    )
    assert finding.fix == (
        f"aws dynamodb enable-kinesis-streaming-destination --table-name {table} --stream-arn "
        f"{arn} (CloudFormation: KinesisStreamSpecification.StreamArn on the table)"
    )


def test_a_destination_that_failed_or_is_not_active_yet(live: Live) -> None:
    _, arn = live.stream()
    table = live.table()
    live.destinations.set(table, arn, "ENABLE_FAILED", "the stream's KMS key is disabled")
    function, _ = live.mapping(arn)
    [failed] = live.check(function)
    assert failed.code == "SF010"
    assert "is ENABLE_FAILED (the stream's KMS key is disabled)" in failed.message
    assert "once the cause above is fixed" in failed.fix

    _, arn = live.stream()
    table = live.table()
    live.destinations.set(table, arn, "ENABLING")
    function, _ = live.mapping(arn)
    [pending] = live.check(function)
    assert (pending.code, pending.severity) == ("SF022", "warning")
    assert f"table {table}'s Kinesis streaming destination on stream" in pending.message
    assert "is ENABLING: whether it streams the table's changes is not known yet" in (
        pending.message
    )


def test_the_table_streaming_now_is_preferred_to_one_that_stopped(live: Live) -> None:
    _, arn = live.stream()
    stopped = live.table()
    live.destinations.set(stopped, arn, "DISABLED")
    live.table(streams_to=arn)
    function, _ = live.mapping(arn)
    assert live.check(function) == []


def test_a_stream_no_table_writes_to(live: Live) -> None:
    name, arn = live.stream()
    live.table()  # a table with a destination elsewhere, and one without any
    _, elsewhere = live.stream()
    live.table(streams_to=elsewhere)
    function, _ = live.mapping(arn)
    [finding] = live.check(function)
    assert (finding.code, finding.severity) == ("SF025", "warning")
    assert finding.message.startswith(
        f"no table in us-east-1 streams its changes to Kinesis stream {name} (none of the "
    )
    assert finding.fix.startswith(
        f"aws dynamodb enable-kinesis-streaming-destination --table-name TABLE --stream-arn {arn}"
    )


def test_table_names_the_writer_and_skips_the_search(live: Live) -> None:
    _, arn = live.stream()
    table = live.table(streams_to=arn)
    function, _ = live.mapping(arn)
    live.destinations.refused_actions.add("ListTables")  # no search could run
    assert live.check(function, table=table) == []
    arn_of = live.account.dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
    assert live.check(function, table=arn_of) == []
    assert live.command(function, "--table", table, "--fail-on", "warning") == 0
    [refused] = live.check(function)
    assert refused.code == "SF022"
    assert "ListTables was refused in us-east-1" in refused.message
    assert "allow dynamodb:ListTables, or name the table with --table" in refused.message


def test_table_naming_a_table_that_does_not_write_there_is_an_input_error(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    name, arn = live.stream()
    live.table(streams_to=arn)
    function, _ = live.mapping(arn)
    _, elsewhere = live.stream()
    other = live.table(streams_to=elsewhere)
    with pytest.raises(CheckError) as error:
        live.check(function, table=other)
    assert error.value.option == "table"
    assert error.value.reason == (
        f"table {other} in us-east-1 does not stream to Kinesis stream {name} (its Kinesis "
        f"streaming destinations: {elsewhere})"
    )
    plain = live.table()
    with pytest.raises(CheckError, match="it has no Kinesis streaming destination"):
        live.check(function, table=plain)
    with pytest.raises(CheckError) as missing:
        live.check(function, table="no-such-table")
    assert (missing.value.option, missing.value.reason) == (
        "table",
        "no table named 'no-such-table' in us-east-1",
    )
    capsys.readouterr()
    assert live.command(function, "--table", other) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"streamflow check: error: --table: table {other} in us-east-1 does")


def test_table_applies_to_the_kinesis_mappings_checked(live: Live) -> None:
    _, first = live.stream()
    _, second = live.stream()
    table = live.table(streams_to=first)
    function, one = live.mapping(first)
    two = live.account.mapping(
        function,
        second,
        FilterCriteria=live_router().filter_criteria(source="kinesis").to_boto3(),
    )
    assert live.check(function, table=table, mapping=one) == []
    with pytest.raises(CheckError) as error:  # the second stream is not the table's
        live.check(function, table=table, mapping=two)
    assert error.value.option == "table"
    with pytest.raises(CheckError):
        live.check(function, table=table)

    dynamodb_only = live.account.function()
    _, stream = live.account.table()
    live.account.mapping(dynamodb_only, stream)
    with pytest.raises(CheckError) as none:
        live.check(dynamodb_only, table=table)
    assert (none.value.option, none.value.reason) == (
        "table",
        f"applies to a mapping on a Kinesis stream, and function {dynamodb_only} reads a "
        "DynamoDB stream",
    )
    with pytest.raises(CheckError) as no_mapping:  # the missing mapping is the input error
        live.check(function, table=table, mapping="no-such-uuid")
    assert no_mapping.value.option == "mapping"


def test_a_refused_describe_is_reported_not_raised(live: Live) -> None:
    _, arn = live.stream()
    writer = live.table(streams_to=arn)
    function, _ = live.mapping(arn)
    live.destinations.refused_tables.add(live.table())  # another table: the writer is found
    assert live.check(function) == []

    live.destinations.refused_actions.add("DescribeKinesisStreamingDestination")
    [everywhere] = live.check(function)
    assert everywhere.code == "SF022"
    assert "DescribeKinesisStreamingDestination was refused on " in everywhere.message
    assert "allow dynamodb:DescribeKinesisStreamingDestination, or name the table" in (
        everywhere.message
    )
    [named] = live.check(function, table=writer)
    assert named.code == "SF022"
    assert f"DescribeKinesisStreamingDestination was refused on table {writer}" in named.message


def test_the_search_is_bounded_and_likely_names_come_first(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamflow.check._live

    monkeypatch.setattr(streamflow.check._live, "SEARCH_LIMIT", 2)
    for _ in range(3):
        live.table()
    name, arn = live.stream()
    live.table(streams_to=arn)  # listed after the others, and not named like the stream
    function, _ = live.mapping(arn)
    [stopped] = live.check(function)
    assert stopped.code == "SF022"
    assert "none of the 2 tables read of the " in stopped.message
    assert f"writes to Kinesis stream {name}, and the search stopped there: name the table " in (
        stopped.message
    )

    prefix_ = f"orders-{uuid.uuid4().hex[:6]}"
    _, named_arn = live.stream(f"{prefix_}-changes")
    live.table(prefix_, streams_to=named_arn)  # listed last, read first
    named, _ = live.mapping(named_arn)
    assert live.check(named) == []
