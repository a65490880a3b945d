"""``make demo``: examples/score_pipeline/demo.py and its local stand-ins for AWS."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import pathlib
import random
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from streamflow import Router, StreamRecord, testing
from streamflow.codec import serialize_item
from streamflow.filters import Filter

EXAMPLE = pathlib.Path(__file__).resolve().parent.parent / "examples/score_pipeline"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", EXAMPLE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


demo = _load("demo")
local_api = _load("local_api")
local_dynamodb = _load("local_dynamodb")


# -- the whole demo ----------------------------------------------------------------------------


ARGS = ("--port", "0", "--scores", "120", "--users", "12", "--seed", "5")


def test_the_demo_runs_end_to_end_and_every_total_matches() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE / "demo.py"), *ARGS],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "all 12 totals match the accepted submissions" in out
    assert "score     120 x 202" in out
    assert "invalid   8 x 400" in out
    assert "resubmit  30 x 202" in out
    assert "conflict  10 x 409" in out
    assert "injected failure: record #" in out
    rows = [line for line in out.splitlines() if line.startswith("player-")]
    assert len(rows) == 12
    assert all(line.endswith("  ok") for line in rows)
    assert "DynamoDB calls (BatchGetItem 1, TransactWriteItems" in out


# -- its checks ----------------------------------------------------------------------------------


def test_compare_finds_every_kind_of_wrong_total() -> None:
    expected = {"a": (10, 1), "b": (35, 2), "c": (5, 1)}
    stored = {"a": (10, 1), "b": (40, 3), "d": (30, 1)}  # b counted twice, c lost, d made up
    rows, wrong = demo.compare(expected, stored)
    assert wrong == 3
    assert rows[1].split() == ["a", "1", "10", "10", "ok"]
    assert rows[2].startswith("b")
    assert "WRONG (count 3, expected 2)" in rows[2]
    assert rows[3].split()[:4] == ["c", "0", "0", "5"]
    assert rows[4].split()[:4] == ["d", "1", "30", "0"]
    assert demo.compare(expected, dict(expected))[1] == 0


def test_expected_totals_count_each_accepted_score_id_once() -> None:
    expected = demo.Expected()
    expected.scores.update({"s1": ("a", "hard"), "s2": ("a", "easy"), "s3": ("b", "medium")})
    expected.scores["s1"] = ("a", "hard")  # the same id accepted again
    assert expected.totals() == {"a": (35, 2), "b": (10, 1)}


def test_the_plan_mixes_scores_invalid_payloads_resubmissions_and_conflicts() -> None:
    first, second = demo.plan(10, 150, random.Random(1))
    kinds = [s.kind for s in first]
    assert kinds.count("score") == 150
    assert kinds.count("invalid") == 10
    assert all(s.expect == 400 for s in first if s.kind == "invalid")
    bodies = {s.body for s in first if s.kind == "score"}
    resubmits = [s for s in second if s.kind == "resubmit"]
    conflicts = [json.loads(s.body) for s in second if s.kind == "conflict"]
    assert len(resubmits) == 30
    assert all(s.body in bodies for s in resubmits)
    ids = {json.loads(b).get("scoreId"): json.loads(b)["userId"] for b in bodies}
    assert len(conflicts) == 10
    assert all(c["userId"] != ids[c["scoreId"]] for c in conflicts)
    assert demo.plan(10, 150, random.Random(1)) == (first, second)


def _score_event(n: int) -> dict[str, Any]:
    return testing.event(
        *(testing.insert({"PK": f"SCORE#s{i}", "SK": "USER#u"}) for i in range(n)),
        first_sequence_number=10**20,
    )


def test_the_processor_fails_one_record_of_the_first_large_batch_once() -> None:
    seen: list[list[str]] = []
    router = Router()

    @router.on_batch(Filter.insert())
    def take(records: list[StreamRecord]) -> None:
        seen.append([r.keys["PK"] for r in records])

    processor = demo.Processor(router)
    small = _score_event(5)
    assert processor(small, None) == {"batchItemFailures": []}
    event = _score_event(12)
    response = processor(event, None)
    victim = event["Records"][4]
    assert response == {
        "batchItemFailures": [{"itemIdentifier": victim["dynamodb"]["SequenceNumber"]}]
    }
    assert "SCORE#s4" not in seen[-1]
    assert len(seen[-1]) == 11
    # s0..s4 from the small batch; s0..s3 from this one, before its failed s4
    assert processor.done == {f"SCORE#s{i}" for i in range(5)}
    assert processor.injected is not None
    assert "#5 of a batch of 12" in processor.injected
    assert processor(event, None) == {"batchItemFailures": []}  # the retry succeeds
    assert processor.done == {f"SCORE#s{i}" for i in range(12)}
    assert processor.invocations == 3


# -- moto's server with atomic transactions ------------------------------------------------------


@pytest.fixture
def atomic() -> Iterator[tuple[Any, Any]]:
    with local_dynamodb.moto_server() as url:
        settings = {
            "endpoint_url": url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        yield boto3.client("dynamodb", **settings), boto3.client("dynamodbstreams", **settings)


def _put(table: str, pk: str, *, new: bool = True) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": table, "Item": serialize_item({"PK": pk, "SK": "1"})}
    if new:
        put["ConditionExpression"] = "attribute_not_exists(PK)"
    return {"Put": put}


def test_a_cancelled_transaction_writes_nothing_and_the_stream_goes_on(
    atomic: tuple[Any, Any],
) -> None:
    dynamodb, streams = atomic
    arn = testing.create_table(dynamodb, "atomic-cancel")
    dynamodb.put_item(TableName="atomic-cancel", Item=serialize_item({"PK": "G", "SK": "1"}))
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=iterator)
    assert [r["dynamodb"]["Keys"]["PK"]["S"] for r in page["Records"]] == ["G"]
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as caught:
        dynamodb.transact_write_items(
            TransactItems=[_put("atomic-cancel", "PHANTOM"), _put("atomic-cancel", "G")]
        )
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    dynamodb.transact_write_items(
        TransactItems=[
            _put("atomic-cancel", "T1"),
            {
                "Update": {
                    "TableName": "atomic-cancel",
                    "Key": serialize_item({"PK": "G", "SK": "1"}),
                    "UpdateExpression": "ADD #n :one",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )
    page = streams.get_records(ShardIterator=page["NextShardIterator"])
    assert [(r["eventName"], r["dynamodb"]["Keys"]["PK"]["S"]) for r in page["Records"]] == [
        ("INSERT", "T1"),
        ("MODIFY", "G"),
    ]
    items = dynamodb.scan(TableName="atomic-cancel")["Items"]
    assert sorted((i["PK"]["S"], i.get("n", {}).get("N")) for i in items) == [
        ("G", "1"),
        ("T1", None),
    ]


def test_condition_checks_and_deletes_are_all_or_nothing(atomic: tuple[Any, Any]) -> None:
    dynamodb, _ = atomic
    testing.create_table(dynamodb, "atomic-delete")
    dynamodb.put_item(TableName="atomic-delete", Item=serialize_item({"PK": "A", "SK": "1"}))
    key = serialize_item({"PK": "A", "SK": "1"})
    check = {
        "ConditionCheck": {
            "TableName": "atomic-delete",
            "Key": serialize_item({"PK": "B", "SK": "1"}),
            "ConditionExpression": "attribute_exists(PK)",
        }
    }
    delete = {"Delete": {"TableName": "atomic-delete", "Key": key}}
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=[delete, check])
    assert "Item" in dynamodb.get_item(TableName="atomic-delete", Key=key)
    dynamodb.transact_write_items(TransactItems=[delete, _put("atomic-delete", "B")])
    assert "Item" not in dynamodb.get_item(TableName="atomic-delete", Key=key)
    with pytest.raises(dynamodb.exceptions.ClientError, match="ValidationException"):
        dynamodb.transact_write_items(
            TransactItems=[_put("atomic-delete", "C"), _put("atomic-delete", "C", new=False)]
        )


def test_the_patch_is_undone_when_the_server_stops() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    before = DynamoDBBackend.transact_write_items
    with local_dynamodb.moto_server():
        assert DynamoDBBackend.transact_write_items is not before
    assert DynamoDBBackend.transact_write_items is before


# -- API Gateway on this machine -----------------------------------------------------------------


def _call(url: str, data: bytes | None = None, method: str = "POST") -> tuple[int, Any, Any]:
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("X-Trace", "one")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_the_local_api_sends_api_gateway_proxy_events_and_maps_the_answer() -> None:
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {
            "statusCode": 201,
            "headers": {"X-Answer": "yes"},
            "body": base64.b64encode(b"\x00\xff").decode(),
            "isBase64Encoded": True,
        }

    with local_api.LocalApi(handler, resource="/scores") as api:
        assert api.url.startswith("http://127.0.0.1:")
        assert api.url.endswith("/scores")
        status, headers, body = _call(api.url + "?a=1&a=2&b=", b'{"x": 1}')
        assert (status, headers["X-Answer"], body) == (201, "yes", b"\x00\xff")
        _call(api.url, b"\xff\xfe", method="PUT")
        assert _call(api.url.replace("/scores", "/other"))[0] == 403
        assert api.requests == 3
    first, second = events
    assert first["httpMethod"] == "POST"
    assert first["path"] == "/scores"
    assert first["resource"] == first["requestContext"]["resourcePath"] == "/scores"
    assert (first["body"], first["isBase64Encoded"]) == ('{"x": 1}', False)
    assert first["queryStringParameters"] == {"a": "2", "b": ""}
    assert first["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert first["headers"]["X-Trace"] == "one"
    assert first["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert second["httpMethod"] == "PUT"
    assert (second["body"], second["isBase64Encoded"]) == ("//4=", True)


def test_a_failing_handler_answers_502_as_api_gateway_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    with local_api.LocalApi(broken, resource="/scores") as api:
        status, _, body = _call(api.url, b"{}")
    assert (status, json.loads(body)) == (502, {"message": "Internal server error"})
    assert "RuntimeError: boom" in capsys.readouterr().err
