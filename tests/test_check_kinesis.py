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


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")


def test_a_live_kinesis_mapping(aws_settings: dict[str, Any]) -> None:
    from tests.test_check_live import Account

    account = Account(aws_settings)
    kinesis = boto3.client("kinesis", **aws_settings)
    name = f"check-changes-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    router = Router()

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    def live(function: str) -> list[Any]:
        return check_live(
            router,
            function_name=function,
            region="us-east-1",
            endpoint_url=aws_settings["endpoint_url"],
        )

    clean = account.function()
    account.mapping(clean, arn, FilterCriteria=router.filter_criteria(source="kinesis").to_boto3())
    [finding] = live(clean)
    assert finding.code == "SF022"  # the table writing to the stream is not read live
    assert f"Kinesis stream {name} does not name the table" in finding.message

    faulty = account.function()
    account.mapping(
        faulty,
        arn,
        FilterCriteria=router.filter_criteria().to_boto3(),
        MaximumRetryAttempts=None,
        MaximumRecordAgeInSeconds=None,
    )
    found = {f.code: f for f in live(faulty)}
    assert set(found) == {"SF013", "SF022", "SF023"}
    assert "blocks its shard for up to 24 hours" in found["SF013"].message
