"""streamflow.testing: exact Lambda stream events from plain items."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from streamflow import parse_event, testing
from streamflow.errors import AttributeEncodeError
from tests import strategies


def test_event_has_lambdas_shape() -> None:
    event = testing.event(
        testing.insert({"PK": "SCORE#1", "SK": "USER#7", "blob": b"hi", "n": Decimal("1.5")}),
        table="scores",
        region="eu-west-1",
        account="111122223333",
        created_at=dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
    )
    json.dumps(event)  # plain JSON, as Lambda hands it over
    [raw] = event["Records"]
    assert list(raw) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert raw["eventVersion"] == "1.1"
    assert raw["eventSource"] == "aws:dynamodb"
    assert raw["awsRegion"] == "eu-west-1"
    assert raw["eventSourceARN"].startswith(
        "arn:aws:dynamodb:eu-west-1:111122223333:table/scores/stream/"
    )
    ddb = raw["dynamodb"]
    assert ddb["ApproximateCreationDateTime"] == 1767323045  # rounded down to the second
    assert ddb["Keys"] == {"PK": {"S": "SCORE#1"}, "SK": {"S": "USER#7"}}
    assert ddb["NewImage"]["blob"] == {"B": "aGk="}
    assert ddb["NewImage"]["n"] == {"N": "1.5"}
    assert "OldImage" not in ddb
    assert ddb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(ddb["SizeBytes"], int)
    assert ddb["SizeBytes"] > 0
    assert 21 <= len(ddb["SequenceNumber"]) <= 40


def test_sequence_numbers_increase_and_are_not_contiguous() -> None:
    changes = [testing.insert({"PK": f"A#{i}", "SK": "B"}) for i in range(20)]
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in testing.records(*changes)]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 20
    assert any(b - a > 1 for a, b in itertools.pairwise(numbers))
    first = testing.records(changes[0], first_sequence_number="123456789012345678901")
    assert first[0]["dynamodb"]["SequenceNumber"] == "123456789012345678901"


def test_event_ids_are_unique() -> None:
    changes = [testing.insert({"PK": f"A#{i}", "SK": "B"}) for i in range(50)]
    assert len({r["eventID"] for r in testing.records(*changes)}) == 50


def test_ttl_removal_carries_user_identity() -> None:
    [raw] = testing.records(testing.remove({"PK": "a", "SK": "b"}, ttl=True))
    assert raw["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    [plain] = testing.records(testing.remove({"PK": "a", "SK": "b"}))
    assert "userIdentity" not in plain


def test_keys_only_view_carries_no_images() -> None:
    [raw] = testing.records(
        testing.modify({"PK": "a", "SK": "b", "v": 1}, {"PK": "a", "SK": "b", "v": 2}),
        view_type="KEYS_ONLY",
    )
    assert set(raw["dynamodb"]) == {
        "ApproximateCreationDateTime",
        "Keys",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    }


def test_custom_key_names() -> None:
    [record] = parse_event(testing.event(testing.insert({"id": 7, "x": "y"}), keys=("id",)))
    assert record.keys == {"id": 7}


def test_misuse_is_explained() -> None:
    with pytest.raises(ValueError, match="lacks key attribute"):
        testing.event(testing.insert({"PK": "a"}))
    with pytest.raises(ValueError, match="cannot change the item's key"):
        testing.event(testing.modify({"PK": "a", "SK": "b"}, {"PK": "a", "SK": "c"}))
    with pytest.raises(ValueError, match="unknown stream view type"):
        testing.event(testing.insert({"PK": "a", "SK": "b"}), view_type="ALL")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="insert"):
        testing.event({"PK": "a"})  # type: ignore[arg-type]
    with pytest.raises(AttributeEncodeError):
        testing.event(testing.insert({"PK": "a", "SK": "b", "bad": set()}))


@given(strategies.items)
@settings(max_examples=100)
def test_parse_gives_the_items_back(item: dict[str, Any]) -> None:
    item = {**item, "PK": "P", "SK": "S"}
    old = {**item, "version": 1}
    event = testing.event(testing.insert(item), testing.modify(old, item), testing.remove(item))
    inserted, modified, removed = parse_event(event)
    assert inserted.new_image == item
    assert modified.old_image == old
    assert modified.new_image == item
    assert removed.old_image == item
    assert json.loads(json.dumps(event)) == event


def test_numbers_in_events_are_what_a_stream_carries_so_filters_match_them() -> None:
    from decimal import Decimal

    from streamflow.filters import Filter

    raw = testing.event(testing.insert({"PK": "P", "SK": "S", "price": Decimal("1.50")}))
    record = raw["Records"][0]
    assert record["dynamodb"]["NewImage"]["price"] == {"N": "1.5"}
    assert Filter.new_image("price", Decimal("1.50")).matches(record)
    assert Filter.new_image("price", 1.5).matches(record)


def test_one_key_name_is_a_partition_key_only_table() -> None:
    [record] = testing.records(testing.insert({"id": "A", "n": 1}), keys="id")
    assert record["dynamodb"]["Keys"] == {"id": {"S": "A"}}
    assert testing.records(testing.insert({"id": "A"}), keys=("id",)) != []


def test_create_table_with_one_key_name_has_a_partition_key_only(
    aws_settings: dict[str, Any],
) -> None:
    import uuid

    import boto3

    ddb = boto3.client("dynamodb", **aws_settings)
    name = f"pk-only-{uuid.uuid4().hex[:8]}"
    testing.create_table(ddb, name, keys="id")
    schema = ddb.describe_table(TableName=name)["Table"]["KeySchema"]
    assert schema == [{"AttributeName": "id", "KeyType": "HASH"}]
