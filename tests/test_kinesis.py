"""Kinesis Data Streams for DynamoDB: one Router and one filter declaration serve both sources.

A change read through Kinesis is matched by the DynamoDB change it carries, partial failures
name Kinesis sequence numbers, and ``filter_criteria(source="kinesis")`` writes the patterns a
Kinesis event source mapping filters with (on ``data``)."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow import Router, StreamRecord, parse_event, testing
from streamflow.errors import FilterValidationError
from streamflow.filters import Filter, FilterCriteria, anything_but, prefix

# A Kinesis record as AWS documents Kinesis Data Streams for DynamoDB's output, written here
# by hand (not by streamflow.testing): the change is base64 JSON in kinesis.data, with
# tableName and recordFormat, ApproximateCreationDateTime in milliseconds, and no
# SequenceNumber or StreamViewType.
CHANGE = {
    "awsRegion": "eu-west-1",
    "eventID": "4b9b5a2c-2a4b-4d3c-9a8d-0a1b2c3d4e5f",
    "eventName": "INSERT",
    "userIdentity": None,
    "recordFormat": "application/json",
    "tableName": "scores",
    "dynamodb": {
        "ApproximateCreationDateTime": 1764148800123,
        "Keys": {"PK": {"S": "SCORE#01JD8X"}, "SK": {"S": "USER#7"}},
        "NewImage": {
            "PK": {"S": "SCORE#01JD8X"},
            "SK": {"S": "USER#7"},
            "points": {"N": "30"},
        },
        "SizeBytes": 61,
    },
    "eventSource": "aws:dynamodb",
}
SEQUENCE = "49652738191867223453405217463926484963592340591016689666"


def kinesis_record(change: dict[str, Any], sequence: str = SEQUENCE) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "D8E7F3A1B2C4",
            "sequenceNumber": sequence,
            "data": base64.b64encode(json.dumps(change).encode()).decode(),
            "approximateArrivalTimestamp": 1764148800.5,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000002:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/processor",
        "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:kinesis:eu-west-1:123456789012:stream/score-changes",
    }


def test_a_documented_kinesis_record_is_read_and_matched_by_its_change() -> None:
    [record] = parse_event({"Records": [kinesis_record(CHANGE)]})
    assert record.sequence_number == SEQUENCE
    assert record.change == CHANGE
    assert record.table_name == "scores"
    assert record.new_value("points") == 30
    assert Filter.insert().key("PK", prefix("SCORE#")).matches(record)
    assert not Filter.remove().matches(record)
    # the raw Kinesis record itself is not a DynamoDB change: a DynamoDB-shaped pattern
    # would never match it, which is why filters read the record's change
    assert not Filter.insert().matches(record.raw)


def test_the_router_handles_kinesis_records_and_reports_kinesis_sequence_numbers() -> None:
    router = Router()
    seen: list[int] = []

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add(record: StreamRecord) -> None:
        points = record.new_value("points")
        if points == 0:
            raise ValueError("no points")
        seen.append(points)

    changes = []
    for position, points in enumerate([30, 0, 12]):
        change = json.loads(json.dumps(CHANGE))
        change["dynamodb"]["NewImage"]["points"] = {"N": str(points)}
        changes.append(kinesis_record(change, sequence=str(int(SEQUENCE) + position)))
    response = router.lambda_handler({"Records": changes}, None)
    assert seen == [30]
    assert response == {
        "batchItemFailures": [
            {"itemIdentifier": str(int(SEQUENCE) + 1)},
            {"itemIdentifier": str(int(SEQUENCE) + 2)},
        ]
    }


def test_filter_criteria_for_a_kinesis_mapping_nest_the_patterns_under_data() -> None:
    router = Router()
    router.on(Filter.insert().key("PK", prefix("SCORE#")), name="scores")(lambda r: None)
    router.on(Filter.remove().ttl_deletes_only(), name="expired")(lambda r: None)
    dynamodb = router.filter_criteria()
    kinesis = router.filter_criteria(source="kinesis")
    assert kinesis.patterns == [{"data": pattern} for pattern in dynamodb.patterns]
    assert kinesis.to_boto3()["Filters"][0]["Pattern"].startswith('{"data":{"eventName"')
    # Lambda matches a Kinesis record's patterns on its decoded data
    assert kinesis.matches({"data": CHANGE})
    assert not kinesis.matches({"data": dict(CHANGE, eventName="MODIFY")})


@pytest.mark.parametrize(
    ("flt", "field"),
    [
        (Filter.from_pattern({"dynamodb": {"StreamViewType": ["NEW_IMAGE"]}}), "StreamViewType"),
        (Filter.from_pattern({"eventSourceARN": [{"prefix": "arn:aws:dynamodb"}]}), "ARN"),
        (
            Filter.from_pattern({"$or": [{"eventName": ["INSERT"]}, {"eventVersion": ["1.1"]}]}),
            "eventVersion",
        ),
    ],
)
def test_patterns_on_fields_a_kinesis_change_lacks_are_refused(flt: Filter, field: str) -> None:
    with pytest.raises(FilterValidationError, match="Kinesis") as info:
        FilterCriteria(flt).for_kinesis()
    assert field in info.value.path


def test_a_catch_all_route_means_no_filters_for_kinesis_too() -> None:
    router = Router()
    router.on(FilterCriteria())(lambda r: None)
    assert router.filter_criteria(source="kinesis") == FilterCriteria()
    with pytest.raises(ValueError, match="source"):
        router.filter_criteria(source="sqs")  # type: ignore[arg-type]


def test_testing_builds_kinesis_events_that_read_as_the_same_changes() -> None:
    changes = [
        testing.insert({"PK": "A", "SK": "B", "n": Decimal("1.5"), "blob": b"x"}),
        testing.modify({"PK": "A", "SK": "B", "n": 1}, {"PK": "A", "SK": "B", "n": 2}),
        testing.remove({"PK": "A", "SK": "B"}, ttl=True),
    ]
    direct = parse_event(testing.event(*changes, created_at=1764148800))
    through = parse_event(testing.event(*changes, created_at=1764148800, source="kinesis"))
    for one, other in zip(direct, through, strict=True):
        assert (one.event_name, one.keys, one.new_image, one.old_image) == (
            other.event_name,
            other.keys,
            other.new_image,
            other.old_image,
        )
        assert one.is_ttl_delete == other.is_ttl_delete
        assert one.approximate_creation_time == other.approximate_creation_time
        assert other.raw["eventSource"] == "aws:kinesis"
        assert len(other.sequence_number) == 56
    with pytest.raises(ValueError, match="both images"):
        testing.event(changes[0], view_type="KEYS_ONLY", source="kinesis")


# --- one change, the same route through either source ------------------------------------------

ROUTES = [
    ("scores", Filter.insert().key("PK", prefix("SCORE#"))),
    ("big", Filter.modify().new_image("points", 100, 120, 150)),
    ("not_zero", Filter.events("INSERT", "MODIFY").new_image("points", anything_but(0))),
    ("expired", Filter.remove().ttl_deletes_only()),
    ("removed", Filter.remove()),
]

items = st.fixed_dictionaries(
    {
        "PK": st.sampled_from(["SCORE#1", "SCORE#2", "USER#1"]),
        "SK": st.sampled_from(["A", "B"]),
        "points": st.sampled_from([-5, 0, 1, 100, 120, 150]),
    }
)
changes = st.one_of(
    items.map(testing.insert),
    st.tuples(items, st.sampled_from([0, 7, 100, 120, 150])).map(
        lambda pair: testing.modify(pair[0], dict(pair[0], points=pair[1]))
    ),
    st.tuples(items, st.booleans()).map(lambda pair: testing.remove(pair[0], ttl=pair[1])),
)


@pytest.mark.parametrize("dispatch", ["first", "all"])
@settings(max_examples=60, deadline=None)
@given(batch=st.lists(changes, min_size=1, max_size=12))
def test_one_change_takes_the_same_routes_through_either_source(
    dispatch: Any, batch: list[testing.Change]
) -> None:
    def routed(source: Any) -> list[tuple[int, str]]:
        router = Router(dispatch=dispatch)
        calls: list[tuple[int, str]] = []
        for name, flt in ROUTES:

            def handle(record: StreamRecord, name: str = name) -> None:
                calls.append((record.index or 0, name))

            router.on(flt, name=name)(handle)
        result = router.process(testing.event(*batch, source=source)["Records"])
        assert result.failed == 0
        return calls

    assert routed("dynamodb") == routed("kinesis")


# --- streamflow filter test on a Kinesis event --------------------------------------------------


def _filter_test(tmp_path: Any, pattern: Any, capsys: Any) -> tuple[int, str]:
    from streamflow.cli import main

    event = tmp_path / "event.json"
    event.write_text(json.dumps({"Records": [kinesis_record(CHANGE)]}))
    code = main(["filter", "test", json.dumps(pattern), str(event)])
    return code, capsys.readouterr().out


def test_filter_test_applies_a_kinesis_pattern_to_the_decoded_data(
    tmp_path: Any, capsys: Any
) -> None:
    code, out = _filter_test(tmp_path, {"data": {"eventName": ["INSERT"]}}, capsys)
    assert code == 0
    assert out.startswith(f"kept     record 0  INSERT  Kinesis sequenceNumber {SEQUENCE}")


def test_filter_test_says_why_a_dynamodb_pattern_drops_a_kinesis_record(
    tmp_path: Any, capsys: Any
) -> None:
    code, out = _filter_test(tmp_path, {"eventName": ["INSERT"]}, capsys)
    assert code == 1
    assert "dropped  record 0" in out
    assert 'nest them under "data"' in out


# --- lint of a Kinesis mapping's patterns -------------------------------------------------------


def test_lint_reads_a_kinesis_mappings_patterns_as_the_change_they_filter() -> None:
    from streamflow.filters import lint

    router = Router()
    router.on(Filter.insert().key("PK", prefix("SCORE#")), name="scores")(lambda r: None)
    assert lint(router.filter_criteria(source="kinesis")) == []
    assert lint({"data": {"tableName": ["scores"], "recordFormat": ["application/json"]}}) == []
    findings = lint(
        {"data": {"dynamodb": {"NewImage": {"n": {"N": [5]}}, "StreamViewType": ["NEW_IMAGE"]}}}
    )
    assert [(f.path, f.severity) for f in findings] == [
        ("data.dynamodb.NewImage.n.N", "error"),
        ("data.dynamodb.StreamViewType", "error"),
    ]
