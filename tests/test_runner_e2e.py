"""End to end against moto's server over HTTP: a real table, a real stream, a Router, and
the records each route gets compared with what Lambda would deliver."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import boto3
import pytest

from streamflow import Router, StreamRecord, testing
from streamflow.filters import Filter, prefix
from streamflow.runner import run


def _create_table(aws_settings: dict[str, Any]) -> tuple[Any, str]:
    dynamodb = boto3.client("dynamodb", **aws_settings)
    name = f"runner-{uuid.uuid4().hex[:10]}"
    testing.create_table(dynamodb, name)
    return dynamodb, name


def _clients(aws_settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "streams_client": boto3.client("dynamodbstreams", **aws_settings),
        "dynamodb_client": boto3.client("dynamodb", **aws_settings),
    }


def _value_as_lambda_delivers(value: dict[str, Any]) -> dict[str, Any]:
    [(kind, inner)] = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode() for member in inner]}
    if kind == "L":
        return {"L": [_value_as_lambda_delivers(member) for member in inner]}
    if kind == "M":
        return {"M": {name: _value_as_lambda_delivers(v) for name, v in inner.items()}}
    return {kind: inner}


def _as_lambda_delivers(record: Mapping[str, Any], arn: str) -> dict[str, Any]:
    """One boto3 GetRecords record as Lambda puts it in an event, written out here without
    the records module: every field as GetRecords gives it, binary values as base64 text,
    ApproximateCreationDateTime as epoch seconds (a JSON number), and eventSourceARN."""
    lambda_record = {key: value for key, value in record.items() if key != "dynamodb"}
    change = dict(record["dynamodb"])
    for part in ("Keys", "NewImage", "OldImage"):
        if part in change:
            change[part] = {k: _value_as_lambda_delivers(v) for k, v in change[part].items()}
    seconds = change["ApproximateCreationDateTime"].timestamp()
    change["ApproximateCreationDateTime"] = int(seconds) if seconds.is_integer() else seconds
    lambda_record["dynamodb"] = change
    lambda_record["eventSourceARN"] = arn
    return lambda_record


def _stream_as_lambda_sees_it(aws_settings: dict[str, Any], table: str) -> list[dict[str, Any]]:
    """Every record of the table's stream, read with plain boto3, in Lambda's shape (built
    independently of streamflow.records)."""
    dynamodb = boto3.client("dynamodb", **aws_settings)
    streams = boto3.client("dynamodbstreams", **aws_settings)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    out = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records = page["Records"]
            out += [_as_lambda_delivers(record, arn) for record in records]
            iterator = page.get("NextShardIterator") if records else None
    return out


def _item(**attributes: Any) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeSerializer

    serialize = TypeSerializer().serialize
    return {name: serialize(value) for name, value in attributes.items()}


def test_each_route_gets_exactly_what_lambda_would_deliver(aws_settings: dict[str, Any]) -> None:
    dynamodb, table = _create_table(aws_settings)
    every_type = _item(
        PK="ORDER#1",
        SK="A",
        text="héllo",
        whole=42,
        exact=Decimal("0.1"),
        blob=b"\x00\xffbinary",
        yes=True,
        nothing=None,
        tags={"a", "b"},
        sizes={1, 2},
        blobs={b"\x01", b"\x02"},
        items=[1, "two", b"\x03", [True]],
        nested={"inner": {"bin": b"\x04", "n": 7}},
    )
    dynamodb.put_item(TableName=table, Item=every_type)
    dynamodb.put_item(TableName=table, Item=_item(PK="USER#1", SK="A", n=1))  # no route wants it
    dynamodb.update_item(
        TableName=table,
        Key=_item(PK="ORDER#1", SK="A"),
        UpdateExpression="SET whole = :n",
        ExpressionAttributeValues={":n": {"N": "43"}},
    )
    dynamodb.put_item(TableName=table, Item=_item(PK="ORDER#2", SK="A", whole=1))
    dynamodb.delete_item(TableName=table, Key=_item(PK="ORDER#1", SK="A"))

    router = Router()
    got: dict[str, list[dict[str, Any]]] = {"inserted": [], "modified": [], "removed": []}
    criteria = {
        "inserted": Filter.insert().key("PK", prefix("ORDER#")),
        "modified": Filter.modify(),
        "removed": Filter.remove(),
    }
    router.on(criteria["inserted"], name="inserted")(lambda r: got["inserted"].append(r.raw))
    router.on_batch(criteria["modified"], name="modified")(
        lambda records: got["modified"].extend(r.raw for r in records)
    )
    router.on(criteria["removed"], name="removed")(lambda r: got["removed"].append(r.raw))
    events: list[dict[str, Any]] = []
    dispatch = router.lambda_handler

    def spy(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        events.append(json.loads(json.dumps(event)))  # the event must be JSON, as Lambda's is
        return dispatch(event, context)

    router.lambda_handler = spy  # type: ignore[method-assign]
    summary = run(  # the Router itself: the runner applies its filter_criteria()
        router,
        table=table,
        batch_size=2,
        until_idle=0.5,
        quiet=True,
        **_clients(aws_settings),
    )

    stream = _stream_as_lambda_sees_it(aws_settings, table)
    assert [len(got[name]) for name in criteria] == [2, 1, 1]
    for name, route_filter in criteria.items():
        assert got[name] == [raw for raw in stream if route_filter.matches(raw)], name
    assert all(len(event["Records"]) <= 2 for event in events)
    delivered = [record for event in events for record in event["Records"]]
    kept = [raw for raw in stream if not raw["dynamodb"]["Keys"]["PK"]["S"].startswith("USER")]
    assert delivered == kept  # every record whole, in stream order
    assert [sorted(event) for event in events] == [["Records"]] * len(events)
    assert (summary.records_read, summary.records_dropped) == (len(stream), 1)

    # The shape, checked independently of the records module.
    insert = got["inserted"][0]
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    assert insert["eventSourceARN"] == arn
    assert insert["eventSource"] == "aws:dynamodb"
    assert insert["awsRegion"] == "us-east-1"
    image = insert["dynamodb"]["NewImage"]
    assert image["blob"] == {"B": base64.b64encode(b"\x00\xffbinary").decode()}
    assert sorted(image["blobs"]["BS"]) == sorted(
        base64.b64encode(b).decode() for b in (b"\x01", b"\x02")
    )
    assert image["items"]["L"][2] == {"B": base64.b64encode(b"\x03").decode()}
    assert image["nested"]["M"]["inner"]["M"]["bin"] == {"B": base64.b64encode(b"\x04").decode()}
    assert image["exact"] == {"N": "0.1"}
    assert image["nothing"] == {"NULL": True}
    created = insert["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(created, (int, float))
    assert abs(created - time.time()) < 120
    decoded = StreamRecord.from_lambda(insert).new_image
    assert decoded is not None
    assert decoded["blob"] == b"\x00\xffbinary"
    assert decoded["exact"] == Decimal("0.1")


def test_partial_failures_are_retried_from_the_lowest_failed_record(
    aws_settings: dict[str, Any], tmp_path: Any
) -> None:
    dynamodb, table = _create_table(aws_settings)
    for i in range(1, 6):
        dynamodb.put_item(TableName=table, Item=_item(PK=f"ORDER#{i}", SK="A"))
    router = Router()
    calls: list[str] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        key = record.keys["PK"]
        calls.append(key)
        if key == "ORDER#3" and calls.count(key) == 1:
            raise ConnectionError("flaky downstream")

    checkpoint = tmp_path / "checkpoint.json"
    summary = run(
        router,
        table=table,
        checkpoint=str(checkpoint),
        until_idle=0.5,
        quiet=True,
        **_clients(aws_settings),
    )
    assert calls == ["ORDER#1", "ORDER#2", "ORDER#3", "ORDER#3", "ORDER#4", "ORDER#5"]
    assert summary.failed_invocations == 1
    assert summary.invocations == 2
    stream = _stream_as_lambda_sees_it(aws_settings, table)
    shards = json.loads(checkpoint.read_text())["streams"][stream[0]["eventSourceARN"]]["shards"]
    [entry] = shards.values()
    assert entry["sequenceNumber"] == stream[-1]["dynamodb"]["SequenceNumber"]


def test_records_that_exhaust_their_retries_go_to_the_on_failure_file(
    aws_settings: dict[str, Any], tmp_path: Any
) -> None:
    dynamodb, table = _create_table(aws_settings)
    for i in range(1, 4):
        dynamodb.put_item(TableName=table, Item=_item(PK=f"ORDER#{i}", SK="A"))
    delivered: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        keys = [r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]]
        delivered.extend(keys)
        if "ORDER#2" in keys:
            raise ValueError("poison")
        return None

    on_failure = tmp_path / "failed.jsonl"
    summary = run(
        handler,
        table=table,
        batch_size=1,
        max_retries=1,
        on_failure=str(on_failure),
        until_idle=0.5,
        quiet=True,
        **_clients(aws_settings),
    )
    assert delivered == ["ORDER#1", "ORDER#2", "ORDER#2", "ORDER#3"]
    assert summary.exit_code == 1
    stream = _stream_as_lambda_sees_it(aws_settings, table)
    [line] = [json.loads(text) for text in on_failure.read_text().splitlines()]
    info = line["DDBStreamBatchInfo"]
    assert line["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert line["requestContext"]["approximateInvokeCount"] == 2
    assert info["streamArn"] == stream[1]["eventSourceARN"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["startSequenceNumber"] == stream[1]["dynamodb"]["SequenceNumber"]
    shard = boto3.client("dynamodbstreams", **aws_settings).describe_stream(
        StreamArn=info["streamArn"]
    )["StreamDescription"]["Shards"][0]["ShardId"]
    assert info["shardId"] == shard
    assert info["batchSize"] == 1


def test_run_makes_its_own_clients_from_the_endpoint(
    aws_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    dynamodb, table = _create_table(aws_settings)
    dynamodb.put_item(TableName=table, Item=_item(PK="A", SK="1"))
    seen: list[int] = []
    summary = run(
        lambda event, context: seen.append(len(event["Records"])),
        table=table,
        endpoint_url=aws_settings["endpoint_url"],
        region="us-east-1",
        until_idle=0.3,
        json_log=True,
    )
    assert seen == [1]
    assert summary.reason == "idle"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert next(line["event"] for line in lines) == "start"
    assert lines[-1]["event"] == "summary"
    assert lines[-1]["recordsRead"] == 1
