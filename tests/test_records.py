"""streamflow.records: typed stream records from Lambda events, GetRecords and Kinesis."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import pickle
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow import EventName, StreamRecord, StreamViewType, parse_event, testing
from streamflow.codec import MAX_NESTING_DEPTH, deserialize_item, serialize_item
from streamflow.errors import AttributeDecodeError, RecordShapeError
from tests import strategies

ITEM = {
    "PK": "SCORE#01JD8X",
    "SK": "USER#42",
    "points": 30,
    "ratio": Decimal("0.375"),
    "tags": {"daily", "bonus"},
    "blob": b"\x00\xff",
    "meta": {"history": [3, "x", {"deep": True}]},
    "note": None,
}


def one(change: testing.Change, **kwargs: Any) -> StreamRecord:
    [record] = parse_event(testing.event(change, **kwargs))
    return record


# --- fields ----------------------------------------------------------------------------------


def test_insert_fields() -> None:
    record = one(testing.insert(ITEM), table="scores", region="eu-west-1", created_at=1764148800)
    assert record.event_name is EventName.INSERT
    assert record.event_version == "1.1"
    assert record.event_source == "aws:dynamodb"
    assert record.aws_region == "eu-west-1"
    assert record.table_name == "scores"
    assert record.event_source_arn.startswith("arn:aws:dynamodb:eu-west-1:")
    assert record.stream_view_type is StreamViewType.NEW_AND_OLD_IMAGES
    assert record.approximate_creation_time == dt.datetime(
        2025, 11, 26, 9, 20, tzinfo=dt.timezone.utc
    )
    assert record.approximate_creation_time.tzinfo is not None
    assert record.keys == {"PK": "SCORE#01JD8X", "SK": "USER#42"}
    assert record.new_image == ITEM
    assert record.old_image is None
    assert record.is_ttl_delete is False
    assert record.size_bytes > 0
    assert record.sequence_number_int == int(record.sequence_number)
    assert len(record.event_id) == 32


def test_modify_and_remove_images() -> None:
    old = {"PK": "U#1", "SK": "T", "total": 10, "gone": "x"}
    new = {"PK": "U#1", "SK": "T", "total": 40, "added": {1, 2}}
    modify = one(testing.modify(old, new))
    assert modify.event_name is EventName.MODIFY
    assert modify.old_image == old
    assert modify.new_image == new
    assert modify.changed_attributes() == {"total", "gone", "added"}
    remove = one(testing.remove(old))
    assert remove.new_image is None
    assert remove.old_image == old
    assert remove.changed_attributes() == set(old)


def test_changed_attributes_compares_decoded_values() -> None:
    record = StreamRecord.from_lambda(
        _raw_modify(
            {"n": {"N": "1.0"}, "s": {"SS": ["a", "b"]}}, {"n": {"N": "1"}, "s": {"SS": ["b", "a"]}}
        )
    )
    assert record.changed_attributes() == frozenset()


def test_changed_attributes_tells_a_boolean_from_a_number() -> None:
    """Python has True == 1, DynamoDB has not: N 1 becoming BOOL true is a change."""
    record = StreamRecord.from_lambda(
        _raw_modify(
            {
                "flag": {"N": "1"},
                "off": {"BOOL": False},
                "list": {"L": [{"N": "1"}]},
                "map": {"M": {"k": {"N": "0"}}},
                "same": {"L": [{"BOOL": True}, {"M": {"k": {"N": "1"}}}]},
            },
            {
                "flag": {"BOOL": True},
                "off": {"N": "0"},
                "list": {"L": [{"BOOL": True}]},
                "map": {"M": {"k": {"BOOL": False}}},
                "same": {"L": [{"BOOL": True}, {"M": {"k": {"N": "1.0"}}}]},
            },
        )
    )
    assert record.changed_attributes() == {"flag", "off", "list", "map"}


def _raw_modify(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    raw = testing.records(testing.modify({"PK": "a", "SK": "b"}, {"PK": "a", "SK": "b"}))[0]
    raw["dynamodb"]["OldImage"].update(old)
    raw["dynamodb"]["NewImage"].update(new)
    return raw


def test_changed_attributes_needs_both_images() -> None:
    record = one(
        testing.modify({"PK": "a", "SK": "b"}, {"PK": "a", "SK": "b", "x": 1}),
        view_type="NEW_IMAGE",
    )
    with pytest.raises(RecordShapeError, match="needs both images"):
        record.changed_attributes()


@pytest.mark.parametrize(
    ("view_type", "has_new", "has_old"),
    [
        ("KEYS_ONLY", False, False),
        ("NEW_IMAGE", True, False),
        ("OLD_IMAGE", False, True),
        ("NEW_AND_OLD_IMAGES", True, True),
    ],
)
def test_view_types(view_type: Any, has_new: bool, has_old: bool) -> None:
    record = one(
        testing.modify({"PK": "a", "SK": "b", "v": 1}, {"PK": "a", "SK": "b", "v": 2}),
        view_type=view_type,
    )
    assert record.stream_view_type.value == view_type
    assert (record.new_image is not None) is has_new
    assert (record.old_image is not None) is has_old
    assert record.keys == {"PK": "a", "SK": "b"}
    assert (
        "NewImage" in record.raw["dynamodb"]
        if has_new
        else "NewImage" not in record.raw["dynamodb"]
    )


def test_ttl_delete() -> None:
    assert one(testing.remove({"PK": "a", "SK": "b"}, ttl=True)).is_ttl_delete is True
    assert one(testing.remove({"PK": "a", "SK": "b"})).is_ttl_delete is False


def test_new_value_decodes_one_attribute() -> None:
    record = one(testing.insert(ITEM))
    assert record.new_value("points") == 30
    assert record.new_value("missing") is None
    assert record.new_value("missing", 0) == 0
    assert record.old_value("points", "none") == "none"
    assert "new_image" not in record.__dict__  # the rest was not decoded
    assert record.new_image is not None
    assert record.new_value("blob") == b"\x00\xff"


@given(
    item=strategies.items,
    keys=st.sampled_from([("S", "k"), ("N", "12"), ("N", "1.5"), ("B", "AAE=")]),
    numbers=st.sampled_from(["auto", "decimal", "float"]),
)
@settings(max_examples=150)
def test_single_values_and_keys_agree_with_the_decoded_image(
    item: dict[str, Any], keys: tuple[str, str], numbers: Any
) -> None:
    tag, text = keys
    full = serialize_item({**item, "PK": "p"}, binary="base64")
    full["SK"] = {tag: text}
    raw = testing.event(testing.insert({"PK": "p", "SK": "s"}))["Records"][0]
    raw["dynamodb"]["Keys"] = {"PK": {"S": "p"}, "SK": {tag: text}}
    raw["dynamodb"]["NewImage"] = full
    [fresh] = parse_event({"Records": [raw]}, numbers=numbers)
    [decoded] = parse_event({"Records": [raw]}, numbers=numbers)
    assert decoded.new_image is not None
    for name in full:  # read one by one before the image is decoded, then after
        value = fresh.new_value(name)
        assert value == decoded.new_image[name]
        assert type(value) is type(decoded.new_image[name])
        assert decoded.new_value(name) is decoded.new_image[name]
    assert "new_image" not in fresh.__dict__
    assert fresh.keys == deserialize_item(raw["dynamodb"]["Keys"], numbers=numbers)


def test_a_malformed_key_still_raises_on_first_read() -> None:
    raw = testing.event(testing.insert({"PK": "p", "SK": "s"}))["Records"][0]
    raw["dynamodb"]["Keys"]["SK"] = {"N": "not a number"}
    [record] = parse_event({"Records": [raw]})
    with pytest.raises(AttributeDecodeError) as info:
        record.keys  # noqa: B018
    assert info.value.path == "Keys.SK"


def test_images_are_decoded_once_and_cached() -> None:
    record = one(testing.insert(ITEM))
    assert record.new_image is record.new_image
    assert record.keys is record.keys


def test_number_policy_applies_to_images() -> None:
    [record] = parse_event(testing.event(testing.insert(ITEM)), numbers="decimal")
    assert record.new_image is not None
    assert type(record.new_image["points"]) is Decimal
    with pytest.raises(ValueError, match="numbers must be"):
        parse_event(testing.event(testing.insert(ITEM)), numbers="nope")  # type: ignore[arg-type]


def test_records_are_immutable_equal_hashable_and_picklable() -> None:
    event = testing.event(testing.insert(ITEM))
    a, b = parse_event(event)[0], parse_event(copy.deepcopy(event))[0]
    assert a == b
    assert hash(a) == hash(b)
    assert len({a, b}) == 1
    with pytest.raises(AttributeError, match="immutable"):
        a.event_id = "x"
    with pytest.raises(AttributeError, match="immutable"):
        del a.raw
    assert pickle.loads(pickle.dumps(a)) == a
    assert "INSERT" in repr(a)
    with pytest.raises(TypeError, match="parse_event"):
        StreamRecord()


@pytest.mark.parametrize("numbers", ["auto", "decimal"])
def test_every_way_of_reading_makes_an_exact_immutable_record(numbers: Any) -> None:
    """Records are filled in on a plain draft that then takes StreamRecord's class: whatever
    the path, what comes out is a StreamRecord, no other class, and refuses assignment."""
    event = testing.event(testing.insert({"PK": "USER#7", "SK": 3, "n": 1}))
    kinesis = testing.event(testing.insert({"PK": "USER#7", "SK": 3, "n": 1}), source="kinesis")
    [raw] = event["Records"]
    made = [
        *parse_event(event, numbers=numbers),
        *parse_event(kinesis, numbers=numbers),
        StreamRecord.from_lambda(raw, numbers=numbers),
        pickle.loads(pickle.dumps(parse_event(event, numbers=numbers)[0])),
    ]
    for record in made:
        assert type(record) is StreamRecord
        assert record.keys == {"PK": "USER#7", "SK": Decimal(3) if numbers == "decimal" else 3}
        assert type(record.new_value("n")) is (Decimal if numbers == "decimal" else int)
        with pytest.raises(AttributeError, match="immutable"):
            record.index = 1


def test_raw_is_what_lambda_delivered() -> None:
    event = testing.event(testing.insert(ITEM))
    record = parse_event(event)[0]
    assert record.raw is event["Records"][0]
    assert record.raw["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}


# --- bad input -------------------------------------------------------------------------------


def _event_with(mutate: Any) -> dict[str, Any]:
    event = testing.event(testing.insert(ITEM), testing.insert({"PK": "x", "SK": "y"}))
    mutate(event["Records"][1])
    return event


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda r: r.pop("eventID"), "eventID", "missing"),
        (lambda r: r.pop("eventName"), "eventName", "missing"),
        (lambda r: r.update(eventName="UPSERT"), "eventName", "INSERT, MODIFY or REMOVE"),
        (lambda r: r.update(eventName=["INSERT"]), "eventName", "INSERT, MODIFY or REMOVE"),
        (lambda r: r.pop("dynamodb"), "dynamodb", "missing"),
        (lambda r: r.update(dynamodb=[]), "dynamodb", "must be an object"),
        (lambda r: r["dynamodb"].pop("SequenceNumber"), "dynamodb.SequenceNumber", "missing"),
        (lambda r: r["dynamodb"].update(SequenceNumber=5), "dynamodb.SequenceNumber", "text"),
        (lambda r: r["dynamodb"].update(SequenceNumber="12a"), "dynamodb.SequenceNumber", "digits"),
        (lambda r: r["dynamodb"].pop("Keys"), "dynamodb.Keys", "missing"),
        (lambda r: r.update(eventID=7), "eventID", "must be text"),
        (lambda r: r["dynamodb"].update(Keys=None), "dynamodb.Keys", "must be an object"),
    ],
)
def test_record_shape_errors_name_record_and_field(mutate: Any, field: str, reason: str) -> None:
    with pytest.raises(RecordShapeError) as info:
        parse_event(_event_with(mutate))
    assert info.value.field == field
    assert info.value.index == 1
    assert reason in info.value.reason
    assert "record 1" in str(info.value)


def test_lazy_field_errors_name_the_record() -> None:
    def mutate(record: dict[str, Any]) -> None:
        record.pop("awsRegion")
        record["dynamodb"]["ApproximateCreationDateTime"] = "yesterday"
        record["dynamodb"]["StreamViewType"] = "ALL"
        record["dynamodb"]["NewImage"]["bad"] = {"N": 5}

    record = parse_event(_event_with(mutate))[1]
    with pytest.raises(RecordShapeError) as info:
        _ = record.aws_region
    assert (info.value.field, info.value.index, info.value.event_id) == (
        "awsRegion",
        1,
        record.event_id,
    )
    with pytest.raises(RecordShapeError, match="epoch seconds"):
        _ = record.approximate_creation_time
    with pytest.raises(RecordShapeError, match="unknown stream view type"):
        _ = record.stream_view_type
    with pytest.raises(AttributeDecodeError) as decode:
        _ = record.new_image
    assert decode.value.path == "NewImage.bad"
    assert "record 1" in decode.value.reason


@pytest.mark.parametrize("image", ["NewImage", "OldImage"])
@pytest.mark.parametrize("bad", [[], "text", 5])
def test_single_value_of_a_non_object_image_is_a_typed_error(image: str, bad: Any) -> None:
    raw = testing.records(testing.modify({"PK": "a", "SK": "b"}, {"PK": "a", "SK": "b"}))[0]
    raw["dynamodb"][image] = bad
    record = StreamRecord.from_lambda(raw, index=0)
    read = record.new_value if image == "NewImage" else record.old_value
    with pytest.raises(AttributeDecodeError) as info:
        read("PK")
    assert info.value.path == image
    assert "must be an object" in info.value.reason


@pytest.mark.parametrize(
    "stamp", [float("nan"), 10**400, float("inf"), 1e20], ids=["nan", "int-1e400", "inf", "1e20"]
)
def test_creation_time_out_of_range_is_a_record_shape_error(stamp: Any) -> None:
    raw = testing.records(testing.insert({"PK": "a", "SK": "b"}))[0]
    raw["dynamodb"]["ApproximateCreationDateTime"] = stamp
    with pytest.raises(RecordShapeError, match="out of range") as info:
        _ = StreamRecord.from_lambda(raw).approximate_creation_time
    assert info.value.field == "dynamodb.ApproximateCreationDateTime"


@pytest.mark.parametrize(
    ("source", "stamp", "epoch"),
    [
        ("lambda", 1764148800, 1764148800.0),
        ("lambda", 1764148800.5, 1764148800.5),
        ("kinesis", 1764148800123, 1764148800.123),  # milliseconds
        ("kinesis", 1764148800123456, 1764148800.123456),  # microseconds
    ],
)
def test_the_creation_epoch_is_the_creation_time_as_a_number(
    source: str, stamp: float, epoch: float
) -> None:
    if source == "lambda":
        raw = testing.records(testing.insert(ITEM))[0]
        raw["dynamodb"]["ApproximateCreationDateTime"] = stamp
        record = StreamRecord.from_lambda(raw)
    else:
        [record] = parse_event(
            _kinesis_event(testing.records(testing.insert(ITEM))[0], stamp=stamp)
        )
    assert record.approximate_creation_epoch == pytest.approx(epoch, abs=1e-6)
    assert record.approximate_creation_time.timestamp() == pytest.approx(epoch, abs=1e-6)


@pytest.mark.parametrize("stamp", [-62_135_596_801, 253_402_300_800, float("nan"), 10**400])
def test_a_creation_epoch_no_datetime_can_show_is_out_of_range(stamp: Any) -> None:
    raw = testing.records(testing.insert(ITEM))[0]
    raw["dynamodb"]["ApproximateCreationDateTime"] = stamp
    record = StreamRecord.from_lambda(raw)
    for read in ("approximate_creation_epoch", "approximate_creation_time"):
        with pytest.raises(RecordShapeError, match="out of range"):
            getattr(record, read)
    raw["dynamodb"]["ApproximateCreationDateTime"] = 253_402_300_799  # the last second shown
    assert StreamRecord.from_lambda(raw).approximate_creation_time.year == 9999


def test_records_without_a_stream_arn_are_still_hashable() -> None:
    raw = testing.records(testing.insert({"PK": "a", "SK": "b"}))[0]
    del raw["eventSourceARN"]
    record = StreamRecord.from_lambda(raw)
    assert hash(record) == hash(StreamRecord.from_lambda(copy.deepcopy(raw)))
    assert len({record, StreamRecord.from_lambda(copy.deepcopy(raw))}) == 1


def test_other_services_are_named() -> None:
    sqs = {"Records": [{"messageId": "1", "body": "{}", "eventSource": "aws:sqs"}]}
    with pytest.raises(RecordShapeError, match="an SQS event, not a DynamoDB stream event"):
        parse_event(sqs)
    with pytest.raises(RecordShapeError, match="EventBridge event"):
        parse_event({"detail-type": "x", "detail": {}})
    with pytest.raises(RecordShapeError, match="API Gateway event"):
        parse_event({"httpMethod": "POST", "body": "{}"})
    with pytest.raises(RecordShapeError, match="not a DynamoDB stream event"):
        parse_event({"Records": "nope"})
    with pytest.raises(RecordShapeError, match="must be an object"):
        parse_event({"Records": [5]})
    with pytest.raises(RecordShapeError, match="must be an object"):
        parse_event([])  # type: ignore[arg-type]


def test_table_name_needs_a_stream_arn() -> None:
    raw = testing.records(testing.insert({"PK": "a", "SK": "b"}))[0]
    raw["eventSourceARN"] = "arn:aws:sqs:us-east-1:1:queue"
    with pytest.raises(RecordShapeError, match="not a DynamoDB stream ARN"):
        _ = StreamRecord.from_lambda(raw).table_name


# --- Kinesis Data Streams for DynamoDB -------------------------------------------------------


def _kinesis_event(lambda_record: dict[str, Any], *, stamp: float) -> dict[str, Any]:
    change = {
        "awsRegion": lambda_record["awsRegion"],
        "eventID": str(uuid.uuid4()),
        "eventName": lambda_record["eventName"],
        "userIdentity": None,
        "recordFormat": "application/json",
        "tableName": "scores",
        "dynamodb": {
            "ApproximateCreationDateTime": stamp,
            "Keys": lambda_record["dynamodb"]["Keys"],
            "NewImage": lambda_record["dynamodb"]["NewImage"],
            "SizeBytes": 120,
        },
        "eventSource": "aws:dynamodb",
    }
    data = base64.b64encode(json.dumps(change).encode()).decode()
    return {
        "Records": [
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "ABC",
                    "sequenceNumber": "49590338271490256608559692538361571095921575989136588898",
                    "data": data,
                    "approximateArrivalTimestamp": 1764148800.5,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": "shardId-000000000006:4959",
                "eventName": "aws:kinesis:record",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/changes",
            }
        ]
    }


@pytest.mark.parametrize("stamp", [1764148800123, 1764148800123456])
def test_kinesis_wrapped_changes_parse_to_the_same_record(stamp: int) -> None:
    lambda_record = testing.records(testing.insert(ITEM))[0]
    [record] = parse_event(_kinesis_event(lambda_record, stamp=stamp))
    assert record.event_name is EventName.INSERT
    assert record.new_image == ITEM
    assert record.keys == {"PK": "SCORE#01JD8X", "SK": "USER#42"}
    assert record.table_name == "scores"
    assert record.sequence_number.startswith("4959033827")
    assert record.event_source == "aws:kinesis"
    assert record.approximate_creation_time.replace(microsecond=0) == dt.datetime(
        2025, 11, 26, 9, 20, tzinfo=dt.timezone.utc
    )
    assert record.approximate_creation_time.microsecond // 1000 == 123
    assert record.stream_view_type is StreamViewType.NEW_AND_OLD_IMAGES


def test_kinesis_record_without_a_dynamodb_change_is_rejected() -> None:
    data = base64.b64encode(b'{"hello": 1}').decode()
    event: dict[str, Any] = {
        "Records": [
            {"eventSource": "aws:kinesis", "kinesis": {"data": data, "sequenceNumber": "1"}}
        ]
    }
    with pytest.raises(RecordShapeError, match="does not carry a DynamoDB change"):
        parse_event(event)
    event["Records"][0]["kinesis"]["data"] = "%%%"
    with pytest.raises(RecordShapeError, match="not base64-encoded JSON"):
        parse_event(event)


# --- GetRecords, through a real endpoint -----------------------------------------------------


def test_get_records_and_lambda_shapes_give_equal_records(aws_settings: dict[str, Any]) -> None:
    """The same changes read with boto3 (bytes, datetimes) and from the wire JSON that a
    Lambda event carries (base64, epoch seconds) give equal records."""
    ddb = boto3.client("dynamodb", **aws_settings)
    streams = boto3.client("dynamodbstreams", **aws_settings)
    table = f"records-{uuid.uuid4().hex[:8]}"
    testing.create_table(ddb, table)
    from streamflow.codec import serialize_item

    ddb.put_item(TableName=table, Item=serialize_item(ITEM))
    ddb.update_item(
        TableName=table,
        Key=serialize_item({"PK": ITEM["PK"], "SK": ITEM["SK"]}),
        UpdateExpression="SET points = :p",
        ExpressionAttributeValues={":p": {"N": "35"}},
    )
    ddb.delete_item(TableName=table, Key=serialize_item({"PK": ITEM["PK"], "SK": ITEM["SK"]}))

    stream_arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    wire: list[dict[str, Any]] = []

    def keep_wire_json(http_response: Any, **_: Any) -> None:
        wire.extend(json.loads(http_response.content)["Records"])

    streams.meta.events.register("after-call.dynamodbstreams.GetRecords", keep_wire_json)
    page = streams.get_records(ShardIterator=iterator)

    assert [r["eventName"] for r in page["Records"]] == ["INSERT", "MODIFY", "REMOVE"]
    assert isinstance(page["Records"][0]["dynamodb"]["NewImage"]["blob"]["B"], bytes)
    for boto_record, wire_record in zip(page["Records"], wire, strict=True):
        from_boto = StreamRecord.from_get_records(boto_record, stream_arn=stream_arn)
        lambda_shape = dict(wire_record, eventSourceARN=stream_arn)
        from_lambda = StreamRecord.from_lambda(lambda_shape)
        assert from_boto == from_lambda
        assert from_boto.raw["dynamodb"]["Keys"] == lambda_shape["dynamodb"]["Keys"]
        assert from_boto.keys == {"PK": ITEM["PK"], "SK": ITEM["SK"]}
        assert from_boto.table_name == table
        assert isinstance(from_boto.raw["dynamodb"]["ApproximateCreationDateTime"], int | float)
    inserted = StreamRecord.from_get_records(page["Records"][0], stream_arn=stream_arn)
    assert inserted.new_image == ITEM
    assert inserted.raw["dynamodb"]["NewImage"]["blob"] == {"B": "AP8="}


def test_get_records_ttl_identity_is_converted_to_lambda_keys() -> None:
    raw = testing.records(testing.remove({"PK": "a", "SK": "b"}))[0]
    boto_record = copy.deepcopy(raw)
    boto_record.pop("eventSourceARN")
    boto_record["dynamodb"]["ApproximateCreationDateTime"] = dt.datetime(
        2025, 11, 26, 9, 20, tzinfo=dt.timezone.utc
    )
    boto_record["userIdentity"] = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
    record = StreamRecord.from_get_records(boto_record, stream_arn=raw["eventSourceARN"])
    assert record.is_ttl_delete
    assert record.raw["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }
    assert record.raw["dynamodb"]["ApproximateCreationDateTime"] == 1764148800


@pytest.mark.parametrize("numbers", ["auto", "decimal", "float"])
def test_keys_decode_alike_when_made_and_when_first_read(numbers: Any) -> None:
    event = testing.event(testing.insert({"PK": "USER#7", "SK": 3, "n": 1}))
    [made] = parse_event(event, numbers=numbers)
    assert "keys" in made.__dict__  # decoded with the record
    eager = made.keys
    lazily = vars(StreamRecord)["keys"].__get__(made, StreamRecord)  # what a first read decodes
    assert eager == lazily
    assert type(eager["SK"]) is type(lazily["SK"])
    wrapped = StreamRecord.from_kinesis(
        {
            "eventSource": "aws:kinesis",
            "kinesis": {
                "sequenceNumber": "1",
                "data": base64.b64encode(json.dumps(made.raw).encode()).decode(),
            },
        },
        numbers=numbers,
    )
    assert "keys" in wrapped.__dict__  # one reader: a Kinesis change's keys too
    assert wrapped.keys == eager


@pytest.mark.parametrize("bad", [{"N": "1_0"}, {"S": 7}, {"S": "a", "N": "1"}, {}])
def test_malformed_keys_raise_on_first_read_not_when_parsed(bad: dict[str, Any]) -> None:
    event = testing.event(testing.insert({"PK": "USER#7", "SK": "TOTAL"}))
    event["Records"][0]["dynamodb"]["Keys"]["SK"] = bad
    [record] = parse_event(event)
    with pytest.raises(AttributeDecodeError) as info:
        _ = record.keys
    assert info.value.path == "Keys.SK"
    assert "record 0" in info.value.reason


# --- hostile records (issue 11) -------------------------------------------------------------

HUGE = {"N": "1e99999999999999999999"}


@pytest.mark.parametrize("numbers", ["auto", "decimal", "float"])
def test_a_huge_exponent_raises_a_decode_error_with_its_path_on_every_accessor(
    numbers: Any,
) -> None:
    from dataclasses import dataclass

    @dataclass
    class Score:
        PK: str
        n: int

    event = testing.event(
        testing.modify({"PK": "a", "SK": "b", "n": 1}, {"PK": "a", "SK": "b", "n": 2})
    )
    ddb = event["Records"][0]["dynamodb"]
    ddb["NewImage"]["n"] = HUGE
    ddb["OldImage"]["n"] = {"NS": ["1", "-0e-9999999999999999999", HUGE["N"]]}
    ddb["Keys"]["SK"] = HUGE
    reads: dict[str, list[Callable[[StreamRecord], object]]] = {
        "NewImage.n": [
            lambda r: r.new_image,
            lambda r: r.new_value("n"),
            lambda r: r.changed_attributes(),
            lambda r: r.new_image_as(Score),
        ],
        "OldImage.n[2]": [lambda r: r.old_image, lambda r: r.old_value("n")],
        "Keys.SK": [lambda r: r.keys],
    }
    for path, accessors in reads.items():
        for read in accessors:
            [record] = parse_event(event, numbers=numbers)  # a fresh record: nothing cached
            with pytest.raises(AttributeDecodeError) as info:
                read(record)
            assert info.value.path == path
            assert "outside DynamoDB's range" in info.value.reason
            assert "record 0" in info.value.reason
    [record] = parse_event(event, numbers=numbers)
    assert record.new_value("PK") == "a"  # the rest of the image stays readable


def test_sequence_numbers_longer_than_aws_writes_are_record_shape_errors() -> None:
    for digits in (41, 5000):
        event = _event_with(lambda r, n=digits: r["dynamodb"].update(SequenceNumber="1" * n))
        with pytest.raises(RecordShapeError) as info:
            parse_event(event)
        assert (info.value.field, info.value.index) == ("dynamodb.SequenceNumber", 1)
        assert f"has {digits} digits; AWS writes at most 40" in info.value.reason
    lambda_record = testing.records(testing.insert(ITEM))[0]
    kinesis = _kinesis_event(lambda_record, stamp=1764148800123)
    kinesis["Records"][0]["kinesis"]["sequenceNumber"] = "9" * 130
    with pytest.raises(RecordShapeError) as info:
        parse_event(kinesis)
    assert info.value.field == "kinesis.sequenceNumber"
    assert "has 130 digits; AWS writes at most 129" in info.value.reason


def test_sequence_numbers_of_every_length_aws_writes_convert_to_int() -> None:
    # DynamoDB writes 21 to 40 digits; AWS's sample events (and tests copying them) use "111"
    for number in ("111", "1" * 21, "9" * 40):
        [record] = parse_event(
            _event_with(lambda r, n=number: r["dynamodb"].update(SequenceNumber=n))
        )[1:]
        assert record.sequence_number_int == int(number)
    lambda_record = testing.records(testing.insert(ITEM))[0]
    kinesis = _kinesis_event(lambda_record, stamp=1764148800123)
    kinesis["Records"][0]["kinesis"]["sequenceNumber"] = "9" * 129
    [record] = parse_event(kinesis)
    assert record.sequence_number_int == 10**129 - 1


def test_get_records_images_nested_past_the_stack_are_decode_errors() -> None:
    deep = strategies.nested_av(5000, "M", {"B": b"\x00"})
    within = strategies.nested_av(MAX_NESTING_DEPTH, "L", {"B": b"\x01"})
    record = {
        "eventID": "e1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": {"S": "a"}, "SK": deep},
            "NewImage": {"PK": {"S": "a"}, "deep": deep, "within": within},
            "SequenceNumber": "1" * 21,
            "StreamViewType": "NEW_IMAGE",
        },
    }
    read = StreamRecord.from_get_records(record, stream_arn="arn:aws:dynamodb:r:1:table/t/stream/s")
    accessor: Callable[[], object]
    for accessor, path in (
        (lambda: read.new_image, "NewImage.deep"),
        (lambda: read.keys, "Keys.SK"),
    ):
        with pytest.raises(AttributeDecodeError) as info:
            accessor()
        assert info.value.path == path + ".a" * MAX_NESTING_DEPTH
        assert "deeper than DynamoDB's 32 levels" in info.value.reason
    inner = read.new_value("within")
    for _ in range(MAX_NESTING_DEPTH):
        [inner] = inner
    assert inner == b"\x01"  # binary at the deepest level DynamoDB allows is converted
    assert "keys=<dict>" in repr(read)


@pytest.mark.parametrize(
    "nested", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000]
)
def test_kinesis_data_nested_past_the_stack_is_a_record_shape_error(nested: str) -> None:
    data = base64.b64encode(nested.encode()).decode()
    event = {
        "Records": [
            {"eventSource": "aws:kinesis", "kinesis": {"data": data, "sequenceNumber": "1"}}
        ]
    }
    with pytest.raises(RecordShapeError) as info:
        parse_event(event)
    assert (info.value.field, info.value.index) == ("kinesis.data", 0)
    assert "nested too deeply" in info.value.reason


def test_messages_of_python_built_records_are_built_safely() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    event = _event_with(lambda r: r["dynamodb"].update(ApproximateCreationDateTime=10**5000))
    record = parse_event(event)[1]
    with pytest.raises(RecordShapeError) as info:
        _ = record.approximate_creation_time
    assert info.value.reason == "(16610-bit integer) is out of range"
    for mutate, field in (
        (lambda r: r.update(eventName=deep), "eventName"),
        (lambda r: r.update(eventSource=deep), "eventSource"),
    ):
        with pytest.raises(RecordShapeError) as info:
            parse_event(_event_with(mutate))
        assert info.value.field == field
        assert "<list>" in info.value.reason


def test_a_huge_event_id_is_shown_bounded_in_the_error() -> None:
    event = testing.event(testing.insert({"PK": "A", "SK": "B"}))
    raw = event["Records"][0]
    raw["eventID"] = "x" * 1_000_000
    del raw["dynamodb"]["Keys"]
    with pytest.raises(RecordShapeError) as info:
        parse_event(event)
    assert info.value.event_id == raw["eventID"]  # the field keeps it whole
    assert len(str(info.value)) < 200


def test_is_ttl_delete_only_on_remove_records() -> None:
    """AWS documents TTL deletions as REMOVE records with DynamoDB's service principal;
    aws-lambda-go's sample and SAM's ``generate-event dynamodb update`` put that identity
    on an INSERT (or MODIFY), which is no TTL deletion."""
    service = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    for change in (
        testing.insert({"PK": "a", "SK": "b"}),
        testing.modify({"PK": "a", "SK": "b", "n": 1}, {"PK": "a", "SK": "b", "n": 2}),
    ):
        raw = testing.records(change)[0]
        raw["userIdentity"] = dict(service)
        assert StreamRecord.from_lambda(raw).is_ttl_delete is False
    raw = testing.records(testing.remove({"PK": "a", "SK": "b"}))[0]
    raw["userIdentity"] = dict(service)
    assert StreamRecord.from_lambda(raw).is_ttl_delete is True


@pytest.mark.parametrize("arn", ["eventsourcearn", "eventsource_arn", "stream-ARN", ""])
def test_table_name_of_a_sample_events_placeholder_arn_is_empty(arn: str) -> None:
    raw = testing.records(testing.insert({"PK": "a", "SK": "b"}))[0]
    raw["eventSourceARN"] = arn
    record = StreamRecord.from_lambda(raw)
    assert record.table_name == ""  # code that only logs it runs on sample events
    raw["eventSourceARN"] = "arn:aws:dynamodb:us-east-1:1:table/"  # an ARN naming no table
    with pytest.raises(RecordShapeError, match="not a DynamoDB stream ARN"):
        _ = StreamRecord.from_lambda(raw).table_name


def test_items_come_back_from_test_events_as_docs_testing_md_says() -> None:
    """Not "exactly": numbers are DynamoDB's text, decoded by the codec's rule."""
    from pathlib import Path

    item = {"PK": "a", "SK": "b", "f": 1.5, "g": 2.0, "h": 0.1, "d": Decimal("1.50")}
    item |= {"z": -0.0, "t": (1, "x"), "fs": frozenset({"a"}), "ba": bytearray(b"x")}
    image = parse_event(testing.event(testing.insert(item)))[0].new_image
    assert image == {
        "PK": "a",
        "SK": "b",
        "f": Decimal("1.5"),
        "g": 2,
        "h": Decimal("0.1"),
        "d": Decimal("1.5"),
        "z": 0,
        "t": [1, "x"],
        "fs": {"a"},
        "ba": b"x",
    }
    assert [type(image[name]) for name in ("g", "t", "ba")] == [int, list, bytes]
    text = (Path(__file__).parent.parent / "docs" / "testing.md").read_text()
    assert "gives your items back exactly" not in text
    words = " ".join(text.split())
    for shown in ("`2.0` gives `2`", 'the float `1.5` gives `Decimal("1.5")`', "tuples come back"):
        assert shown in words, shown
