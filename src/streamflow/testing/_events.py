"""Lambda DynamoDB stream events built from plain items: :func:`insert`, :func:`modify`,
:func:`remove`, :func:`records`, :func:`event`; and :func:`create_table` for a table with its
stream on a real endpoint."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from streamflow.codec import item_size, serialize_item

__all__ = [
    "Change",
    "create_table",
    "event",
    "insert",
    "modify",
    "records",
    "remove",
]

ViewType = Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]
Source = Literal["dynamodb", "kinesis"]

DEFAULT_FIRST_SEQUENCE_NUMBER = 400_000_000_000_000_000_100
_TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@dataclass(frozen=True)
class Change:
    """One change to one item; made by :func:`insert`, :func:`modify` or :func:`remove`."""

    event_name: Literal["INSERT", "MODIFY", "REMOVE"]
    old: Mapping[str, Any] | None = None
    new: Mapping[str, Any] | None = None
    ttl: bool = False


def insert(item: Mapping[str, Any]) -> Change:
    """An INSERT of ``item`` (plain Python values).

    >>> insert({"PK": "USER#7", "SK": "TOTAL"}).event_name
    'INSERT'
    """
    return Change("INSERT", new=dict(item))


def modify(old: Mapping[str, Any], new: Mapping[str, Any]) -> Change:
    """A MODIFY of an item from ``old`` to ``new``; both must carry the same key values.

    >>> modify({"PK": "U#1", "SK": "T", "n": 1}, {"PK": "U#1", "SK": "T", "n": 2}).event_name
    'MODIFY'
    """
    return Change("MODIFY", old=dict(old), new=dict(new))


def remove(item: Mapping[str, Any], *, ttl: bool = False) -> Change:
    """A REMOVE of ``item``; ``ttl=True`` makes it a deletion by DynamoDB's Time to Live.

    >>> remove({"PK": "U#1", "SK": "T"}, ttl=True).ttl
    True
    """
    return Change("REMOVE", old=dict(item), ttl=ttl)


def records(
    *changes: Change,
    table: str = "table",
    keys: Sequence[str] = ("PK", "SK"),
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
    region: str = "us-east-1",
    account: str = "123456789012",
    stream_label: str = "2026-01-01T00:00:00.000",
    first_sequence_number: int | str = DEFAULT_FIRST_SEQUENCE_NUMBER,
    created_at: datetime | float | None = None,
    source: Source = "dynamodb",
) -> list[dict[str, Any]]:
    """The raw records of :func:`event`, as a list (same arguments).

    >>> [r["eventName"] for r in records(insert({"PK": "A", "SK": "B"}))]
    ['INSERT']
    """
    if view_type not in ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        raise ValueError(f"unknown stream view type {view_type!r}")
    if source not in ("dynamodb", "kinesis"):
        raise ValueError(f"source must be 'dynamodb' or 'kinesis', got {source!r}")
    if source == "kinesis" and view_type != "NEW_AND_OLD_IMAGES":
        raise ValueError("a change written to Kinesis carries both images: leave view_type")
    if isinstance(keys, str):
        keys = (keys,)  # one name: a table with a partition key only, not its letters
    if not keys:
        raise ValueError("keys must name at least the partition key attribute")
    stamp = _epoch_seconds(created_at)
    arn = f"arn:aws:dynamodb:{region}:{account}:table/{table}/stream/{stream_label}"
    sequence = int(first_sequence_number)
    out = []
    for position, change in enumerate(changes):
        if not isinstance(change, Change):
            raise TypeError(
                f"changes must come from insert(), modify() or remove(), got {change!r}"
            )
        record = _record(change, sequence, keys, view_type, region, arn, stamp)
        if source == "kinesis":
            record = _through_kinesis(record, table, account)
        out.append(record)
        sequence += 1_000 + position % 7  # increasing, never contiguous, as on AWS
    return out


def event(
    *changes: Change,
    table: str = "table",
    keys: Sequence[str] = ("PK", "SK"),
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
    region: str = "us-east-1",
    account: str = "123456789012",
    stream_label: str = "2026-01-01T00:00:00.000",
    first_sequence_number: int | str = DEFAULT_FIRST_SEQUENCE_NUMBER,
    created_at: datetime | float | None = None,
    source: Source = "dynamodb",
) -> dict[str, Any]:
    """A Lambda event from a DynamoDB stream carrying ``changes`` in order.

    Args:
        changes: from :func:`insert`, :func:`modify` and :func:`remove`.
        table: the table's name, used in ``eventSourceARN``.
        keys: the names of the key attributes (partition key first), or one name for a
            table with a partition key only; every item must have them.
        view_type: the stream view type; KEYS_ONLY carries no images, NEW_IMAGE no old
            image, OLD_IMAGE no new image.
        region: ``awsRegion`` and the ARN's Region.
        account: the ARN's account id.
        stream_label: the stream label at the end of the ARN.
        first_sequence_number: the first record's sequence number; later ones increase.
        created_at: ``ApproximateCreationDateTime`` (a datetime or epoch seconds), rounded
            down to the second as AWS does; the current time by default.
        source: ``"dynamodb"`` (a DynamoDB stream's event) or ``"kinesis"``: the event of
            a Kinesis data stream that Kinesis Data Streams for DynamoDB writes to, each
            change base64 JSON in ``kinesis.data`` as AWS documents it (``tableName``,
            ``recordFormat``, ``ApproximateCreationDateTime`` in milliseconds, no
            ``SequenceNumber`` nor ``StreamViewType``), with Kinesis sequence numbers.

    Returns:
        ``{"Records": [...]}``, ready for a handler or :func:`streamflow.parse_event`.

    Raises:
        ValueError: an item lacks a key attribute, or a MODIFY changes the key.
        AttributeEncodeError: a value has no DynamoDB form.

    >>> ev = event(insert({"PK": "A", "SK": "B", "blob": b"hi"}))
    >>> ev["Records"][0]["dynamodb"]["NewImage"]["blob"]
    {'B': 'aGk='}
    """
    return {
        "Records": records(
            *changes,
            table=table,
            keys=keys,
            view_type=view_type,
            region=region,
            account=account,
            stream_label=stream_label,
            first_sequence_number=first_sequence_number,
            created_at=created_at,
            source=source,
        )
    }


def _epoch_seconds(created_at: datetime | float | None) -> int:
    if created_at is None:
        return int(time.time())
    if isinstance(created_at, datetime):
        if created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=timezone.utc)
        return int(created_at.timestamp())
    return int(created_at)


def _key_of(item: Mapping[str, Any], keys: Sequence[str], what: str) -> dict[str, Any]:
    missing = [name for name in keys if name not in item]
    if missing:
        raise ValueError(
            f"the {what} item lacks key attribute(s) {', '.join(missing)}; "
            f"pass keys=(...) naming the table's key attributes"
        )
    return {name: item[name] for name in keys}


def _record(
    change: Change,
    sequence: int,
    keys: Sequence[str],
    view_type: str,
    region: str,
    arn: str,
    stamp: int,
) -> dict[str, Any]:
    new, old = change.new, change.old
    item = new if new is not None else old
    assert item is not None  # every factory sets one
    key = _key_of(item, keys, "new" if new is not None else "old")
    if new is not None and old is not None and _key_of(old, keys, "old") != key:
        raise ValueError("a MODIFY cannot change the item's key; use remove() and insert()")
    ddb: dict[str, Any] = {
        "ApproximateCreationDateTime": stamp,
        "Keys": serialize_item(key, binary="base64"),
    }
    size = item_size(key)
    if new is not None and view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["NewImage"] = serialize_item(new, binary="base64")
        size += item_size(new)
    if old is not None and view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
        ddb["OldImage"] = serialize_item(old, binary="base64")
        size += item_size(old)
    ddb["SequenceNumber"] = str(sequence)
    ddb["SizeBytes"] = size
    ddb["StreamViewType"] = view_type
    record: dict[str, Any] = {
        "eventID": f"{sequence:032x}"[-32:],
        "eventName": change.event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": ddb,
        "eventSourceARN": arn,
    }
    if change.ttl:
        record["userIdentity"] = dict(_TTL_IDENTITY)
    return record


def _through_kinesis(record: dict[str, Any], table: str, account: str) -> dict[str, Any]:
    """``record`` as Kinesis Data Streams for DynamoDB delivers the same change."""
    import base64
    import hashlib
    import json

    ddb = {
        name: value
        for name, value in record["dynamodb"].items()
        if name not in ("SequenceNumber", "StreamViewType")
    }
    ddb["ApproximateCreationDateTime"] = record["dynamodb"]["ApproximateCreationDateTime"] * 1000
    change = {
        "awsRegion": record["awsRegion"],
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "userIdentity": record.get("userIdentity"),
        "recordFormat": "application/json",
        "tableName": table,
        "dynamodb": ddb,
        "eventSource": "aws:dynamodb",
    }
    keys = json.dumps(ddb["Keys"], sort_keys=True)
    sequence = f"4959{int(record['dynamodb']['SequenceNumber']):052d}"
    region = record["awsRegion"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": hashlib.md5(keys.encode(), usedforsecurity=False).hexdigest().upper(),
            "sequenceNumber": sequence,
            "data": base64.b64encode(json.dumps(change).encode()).decode("ascii"),
            "approximateArrivalTimestamp": record["dynamodb"]["ApproximateCreationDateTime"],
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{account}:role/lambda-role",
        "awsRegion": region,
        "eventSourceARN": f"arn:aws:kinesis:{region}:{account}:stream/{table}-changes",
    }


def create_table(
    dynamodb: Any,
    name: str,
    *,
    keys: Sequence[str] = ("PK", "SK"),
    view_type: ViewType = "NEW_AND_OLD_IMAGES",
) -> str:
    """Create an on-demand table with a stream, for tests against a real endpoint.

    Args:
        dynamodb: a boto3 DynamoDB client (pointed at AWS, or at a local endpoint with
            ``endpoint_url``); streamflow itself does not import boto3 here.
        name: the table's name.
        keys: the partition key name, and the sort key name if any (one name alone for a
            partition key only); both of type ``S``.
        view_type: the stream view type.

    Returns:
        The ARN of the table's stream.
    """
    if isinstance(keys, str):
        keys = (keys,)  # one name: a partition key only
    if not 1 <= len(keys) <= 2:
        raise ValueError("keys names the partition key, and optionally the sort key")
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": key, "KeyType": kind}
            for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )
    arn: str = dynamodb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    return arn
