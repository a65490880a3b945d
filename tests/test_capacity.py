"""streamflow.testing.CapacityMeter against a real local endpoint (moto's server).

Item sizes are exact (``item_size``), so every figure below is the one DynamoDB's documented
pricing rules give: one WCU per started KB, at least one.
"""

from __future__ import annotations

import socket
import threading
import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError

from streamflow import testing
from streamflow.codec import item_size, serialize_item
from streamflow.testing import CapacityMeter


@pytest.fixture
def dynamodb(aws_settings: dict[str, Any]) -> Any:
    return boto3.client("dynamodb", **aws_settings)


@pytest.fixture
def table(dynamodb: Any) -> str:
    name = f"capacity-{uuid.uuid4().hex[:8]}"
    testing.create_table(dynamodb, name)
    return name


def item(pk: str, size: int, **extra: Any) -> dict[str, Any]:
    """An item with key (pk, "S") whose DynamoDB size is exactly ``size`` bytes."""
    plain = {"PK": pk, "SK": "S", **extra, "pad_text": ""}
    plain["pad_text"] = "x" * (size - item_size(plain))
    assert item_size(plain) == size
    return serialize_item(plain)


def key(pk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "S"}}


def put(dynamodb: Any, table: str, pk: str, size: int) -> None:
    dynamodb.put_item(TableName=table, Item=item(pk, size))


def test_calls_are_counted_per_operation_failed_ones_included(dynamodb: Any, table: str) -> None:
    meter = CapacityMeter(dynamodb)
    put(dynamodb, table, "A", 100)
    dynamodb.get_item(TableName=table, Key=key("A"))
    dynamodb.batch_get_item(RequestItems={table: {"Keys": [key("A"), key("B")]}})
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        dynamodb.get_item(TableName="no-such-table", Key=key("A"))
    assert meter.calls_by_operation == {"PutItem": 1, "GetItem": 2, "BatchGetItem": 1}
    assert meter.calls == 4
    assert meter.wcu_by_operation == {"PutItem": 1}  # reads consume no write capacity


def test_a_call_counts_once_however_many_http_attempts(aws_settings: dict[str, Any]) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again when the block ends: nothing listens
    settings = {**aws_settings, "endpoint_url": f"http://127.0.0.1:{port}"}
    retrying = Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=1)
    client = boto3.client("dynamodb", config=retrying, **settings)
    attempts = []
    client.meta.events.register("before-send.dynamodb", lambda **_: attempts.append(1))
    meter = CapacityMeter(client)
    with pytest.raises(EndpointConnectionError):
        client.list_tables()
    assert len(attempts) == 2
    assert meter.calls_by_operation == {"ListTables": 1}
    assert meter.wcu == 0


@pytest.mark.parametrize(("size", "wcu"), [(100, 1), (1024, 1), (1025, 2), (2560, 3)])
def test_put_costs_one_wcu_per_started_kb(dynamodb: Any, table: str, size: int, wcu: int) -> None:
    meter = CapacityMeter(dynamodb)
    put(dynamodb, table, "A", size)
    assert meter.wcu == wcu
    assert meter.wcu_by_operation == {"PutItem": wcu}


def test_overwriting_a_big_item_with_a_small_one_costs_the_big_one(
    dynamodb: Any, table: str
) -> None:
    put(dynamodb, table, "A", 2560)
    meter = CapacityMeter(dynamodb)
    put(dynamodb, table, "A", 100)
    assert meter.wcu == 3


def test_update_costs_the_larger_of_before_and_after(dynamodb: Any, table: str) -> None:
    put(dynamodb, table, "A", 500)
    put(dynamodb, table, "B", 2560)
    meter = CapacityMeter(dynamodb)
    dynamodb.update_item(  # grows A from 500 bytes to 1,510: 2 WCU
        TableName=table,
        Key=key("A"),
        UpdateExpression="SET grown = :s",
        ExpressionAttributeValues={":s": {"S": "y" * 1005}},
    )
    assert meter.wcu_by_operation == {"UpdateItem": 2}
    dynamodb.update_item(  # shrinks B from 2.5 KB to a few bytes: still 3 WCU
        TableName=table, Key=key("B"), UpdateExpression="REMOVE pad_text"
    )
    assert meter.wcu_by_operation == {"UpdateItem": 5}
    dynamodb.update_item(  # creates C: its new size, at least 1
        TableName=table,
        Key=key("C"),
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "1"}},
    )
    assert meter.wcu_by_operation == {"UpdateItem": 6}


def test_delete_costs_the_deleted_item_and_one_when_there_is_none(
    dynamodb: Any, table: str
) -> None:
    put(dynamodb, table, "A", 2560)
    meter = CapacityMeter(dynamodb)
    dynamodb.delete_item(TableName=table, Key=key("A"))
    assert meter.wcu == 3
    dynamodb.delete_item(TableName=table, Key=key("A"))
    assert meter.wcu == 4


def test_transact_write_items_costs_twice_per_item(dynamodb: Any, table: str) -> None:
    put(dynamodb, table, "BIG", 2560)
    put(dynamodb, table, "CHECKED", 1500)
    put(dynamodb, table, "GONE", 100)
    meter = CapacityMeter(dynamodb)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": item("NEW", 100)}},  # 1
            {
                "Update": {  # 2.5 KB before, a few bytes after: 3
                    "TableName": table,
                    "Key": key("BIG"),
                    "UpdateExpression": "REMOVE pad_text",
                }
            },
            {
                "ConditionCheck": {  # 1.5 KB: 2
                    "TableName": table,
                    "Key": key("CHECKED"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {"Delete": {"TableName": table, "Key": key("GONE")}},  # 1
        ]
    )
    assert meter.wcu_by_operation == {"TransactWriteItems": 2 * (1 + 3 + 2 + 1)}
    assert meter.calls_by_operation == {"TransactWriteItems": 1}


def test_batch_write_item_costs_each_request_rounded_alone(dynamodb: Any, table: str) -> None:
    meter = CapacityMeter(dynamodb)
    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": item("A", 500)}},  # 1
                {"PutRequest": {"Item": item("B", 2560)}},  # 3
                {"DeleteRequest": {"Key": key("NONE")}},  # 1: a delete of no item
            ]
        }
    )
    assert meter.wcu_by_operation == {"BatchWriteItem": 5}


def test_a_failed_condition_still_consumes_write_capacity(dynamodb: Any, table: str) -> None:
    put(dynamodb, table, "SMALL", 100)
    put(dynamodb, table, "BIG", 2560)
    meter = CapacityMeter(dynamodb)
    failed = "ConditionalCheckFailedException"
    with pytest.raises(ClientError, match=failed):  # existing item: the new item's size
        dynamodb.put_item(
            TableName=table,
            Item=item("SMALL", 2100),
            ConditionExpression="attribute_not_exists(PK)",
        )
    assert meter.wcu_by_operation == {"PutItem": 3}
    with pytest.raises(ClientError, match=failed):  # no item: one unit
        dynamodb.put_item(
            TableName=table, Item=item("NONE", 2560), ConditionExpression="attribute_exists(PK)"
        )
    assert meter.wcu_by_operation == {"PutItem": 4}
    with pytest.raises(ClientError, match=failed):  # no new item sent: the existing one
        dynamodb.update_item(
            TableName=table,
            Key=key("BIG"),
            UpdateExpression="SET n = :n",
            ConditionExpression="attribute_not_exists(PK)",
            ExpressionAttributeValues={":n": {"N": "1"}},
        )
    with pytest.raises(ClientError, match=failed):
        dynamodb.delete_item(
            TableName=table, Key=key("BIG"), ConditionExpression="attribute_not_exists(PK)"
        )
    assert meter.wcu_by_operation == {"PutItem": 4, "UpdateItem": 3, "DeleteItem": 3}
    assert meter.calls == 4


def test_other_failed_writes_and_cancelled_transactions_consume_nothing(
    dynamodb: Any, table: str
) -> None:
    put(dynamodb, table, "A", 100)
    meter = CapacityMeter(dynamodb)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        dynamodb.put_item(TableName="no-such-table", Item=item("A", 100))
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item("B", 2560)}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key("A"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
    assert meter.calls_by_operation == {"PutItem": 1, "TransactWriteItems": 1}
    assert meter.wcu == 0


def test_a_table_created_after_the_meter_is_sized_right(dynamodb: Any) -> None:
    name = f"capacity-{uuid.uuid4().hex[:8]}"
    meter = CapacityMeter(dynamodb)
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        put(dynamodb, name, "A", 100)
    testing.create_table(dynamodb, name)
    put(dynamodb, name, "A", 2560)
    put(dynamodb, name, "A", 100)  # over the 2.5 KB item: 3
    assert meter.wcu_by_operation == {"PutItem": 6}


def test_the_meters_own_reads_are_not_counted(
    dynamodb: Any, table: str, aws_settings: dict[str, Any]
) -> None:
    put(dynamodb, table, "A", 100)
    for reader in (None, boto3.client("dynamodb", **aws_settings)):
        meter = CapacityMeter(dynamodb, reader=reader)
        put(dynamodb, table, "A", 100)  # reads the key schema and the item before
        dynamodb.update_item(  # reads the item before and after
            TableName=table, Key=key("A"), UpdateExpression="REMOVE nothing"
        )
        assert meter.calls_by_operation == {"PutItem": 1, "UpdateItem": 1}
        assert meter.wcu == 2
        meter.close()


def test_reset_close_and_context_manager(dynamodb: Any, table: str) -> None:
    with CapacityMeter(dynamodb) as meter:
        put(dynamodb, table, "A", 2560)
        assert (meter.calls, meter.wcu) == (1, 3)
        meter.reset()
        assert (meter.calls, meter.wcu, meter.calls_by_operation) == (0, 0, {})
        put(dynamodb, table, "B", 100)
        assert repr(meter) == "CapacityMeter(calls=1, wcu=1)"
    put(dynamodb, table, "C", 100)  # closed: no longer counted
    assert (meter.calls, meter.wcu) == (1, 1)
    meter.close()  # closing twice is harmless
    assert dynamodb.get_item(TableName=table, Key=key("C"))["Item"]  # the client still works


def test_two_meters_on_one_client_count_the_same(dynamodb: Any, table: str) -> None:
    with CapacityMeter(dynamodb) as outer, CapacityMeter(dynamodb) as inner:
        put(dynamodb, table, "A", 2560)
    assert (outer.calls, outer.wcu) == (inner.calls, inner.wcu) == (1, 3)


def test_exact_totals_from_several_threads(dynamodb: Any, table: str) -> None:
    threads, writes = 8, 15
    meter = CapacityMeter(dynamodb)

    def work(n: int) -> None:
        for i in range(writes):
            put(dynamodb, table, f"T{n}#{i}", 1500)  # 2 WCU each
            dynamodb.update_item(  # 1.5 KB before and after: 2 WCU each
                TableName=table,
                Key=key(f"T{n}#{i}"),
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            )

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert meter.calls_by_operation == {"PutItem": threads * writes, "UpdateItem": threads * writes}
    assert meter.wcu_by_operation == {
        "PutItem": 2 * threads * writes,
        "UpdateItem": 2 * threads * writes,
    }
