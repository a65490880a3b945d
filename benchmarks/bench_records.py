"""Decoding stream records: streamflow against boto3's TypeDeserializer and Powertools.

(a) streamflow decoding every image: parse the event, read keys, new and old image.
(b) streamflow lazy access: parse the event, read the keys and one attribute per record.
(c) boto3's TypeDeserializer on every image (binary handed over as bytes, since it rejects
    the base64 text Lambda events carry; that conversion is done before timing).
(d) Powertools' DynamoDBStreamEvent reading every image.
(e) A yardstick, not a contender: the fastest decoder written for this event with no checks
    at all (no digit or range limits, lax base64, no set or depth checks) and no records
    around it. Its ratio to (c) is the ceiling for (a) in CPython.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from _common import Ratio, Section, measure

from streamflow import parse_event

__all__ = ["section"]

A = "(a) streamflow: parse + decode every image"
B = "(b) streamflow: parse + keys + one attribute"
C = "(c) boto3 TypeDeserializer: every image"
D = "(d) Powertools DynamoDBStreamEvent: every image"
E = "(e) yardstick: unchecked decoder, no records"
DEFAULT_BATCH = 100
"""Lambda's default BatchSize for a DynamoDB stream."""
B_SMALL = f"(b) the same, on the event's first {DEFAULT_BATCH} records"
C_SMALL = f"(c) the same, on the event's first {DEFAULT_BATCH} records"


def _with_bytes(av: dict[str, Any]) -> dict[str, Any]:
    ((tag, inner),) = av.items()
    if tag == "B":
        return {"B": base64.b64decode(inner)}
    if tag == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if tag == "M":
        return {"M": {k: _with_bytes(v) for k, v in inner.items()}}
    if tag == "L":
        return {"L": [_with_bytes(v) for v in inner]}
    return av


def _unchecked(image: dict[Any, Any]) -> dict[Any, Any]:
    """Decode trusting the input entirely: what (a) would cost if it validated nothing."""
    b64 = base64.b64decode
    out: dict[Any, Any] = {}
    for key, av in image.items():
        for tag, v in av.items():
            if tag == "S":
                out[key] = v
            elif tag == "N":
                out[key] = int(v) if v.isdigit() else Decimal(v)
            elif tag == "M":
                out[key] = _unchecked(v)
            elif tag == "BOOL":
                out[key] = v
            elif tag == "NULL":
                out[key] = None
            elif tag == "L":
                out[key] = list(_unchecked(dict(enumerate(v))).values())
            elif tag == "SS":
                out[key] = set(v)
            elif tag == "NS":
                out[key] = {int(x) if x.isdigit() else Decimal(x) for x in v}
            elif tag == "B":
                out[key] = b64(v)
            elif tag == "BS":
                out[key] = {b64(x) for x in v}
    return out


def section(event: dict[str, Any]) -> Section:
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
    from boto3.dynamodb.types import TypeDeserializer

    records = event["Records"]
    images = [
        [
            {name: _with_bytes(av) for name, av in record["dynamodb"][part].items()}
            for part in ("Keys", "NewImage", "OldImage")
            if part in record["dynamodb"]
        ]
        for record in records
    ]
    deserializer = TypeDeserializer()

    def streamflow_full() -> None:
        for record in parse_event(event):
            record.keys  # noqa: B018
            record.new_image  # noqa: B018
            record.old_image  # noqa: B018

    def streamflow_lazy_over(event: dict[str, Any]) -> Callable[[], None]:
        def streamflow_lazy() -> None:
            for record in parse_event(event):
                record.keys  # noqa: B018
                record.new_value("points")

        return streamflow_lazy

    def boto3_full_over(images: list[list[dict[str, Any]]]) -> Callable[[], None]:
        def boto3_full() -> None:
            deserialize = deserializer.deserialize
            for parts in images:
                for image in parts:
                    {name: deserialize(av) for name, av in image.items()}

        return boto3_full

    def powertools_full() -> None:
        for record in DynamoDBStreamEvent(event).records:
            data = record.dynamodb
            assert data is not None
            data.keys  # noqa: B018
            data.new_image  # noqa: B018
            data.old_image  # noqa: B018

    for parsed in parse_event(event):  # the yardstick decodes what (a) decodes, or it says nothing
        ddb = parsed.raw["dynamodb"]
        assert _unchecked(ddb["Keys"]) == parsed.keys
        assert _unchecked(ddb.get("NewImage", {})) == (parsed.new_image or {})
        assert _unchecked(ddb.get("OldImage", {})) == (parsed.old_image or {})

    def unchecked_full() -> None:
        for record in records:
            ddb = record["dynamodb"]
            for part in ("Keys", "NewImage", "OldImage"):
                if part in ddb:
                    _unchecked(ddb[part])

    rows = measure(
        {
            A: streamflow_full,
            B: streamflow_lazy_over(event),
            C: boto3_full_over(images),
            D: powertools_full,
            E: unchecked_full,
        },
        len(records),
    )
    # Row (b) reads little of each record and waits on memory, so it depends on whether the
    # event fits the CPU's caches; (c) computes a lot per value and hardly does. The same
    # two rows on an event of Lambda's default BatchSize show it (docs/benchmarks.md).
    if len(records) > DEFAULT_BATCH:
        small = {**event, "Records": records[:DEFAULT_BATCH]}
        contenders = {
            B_SMALL: streamflow_lazy_over(small),
            C_SMALL: boto3_full_over(images[:DEFAULT_BATCH]),
        }
        rows.update(measure(contenders, DEFAULT_BATCH))
    return Section(
        title=f"Decoding a {len(records)}-record NEW_AND_OLD_IMAGES event",
        rows=rows,
        ratios=[
            Ratio("a/c  full decode vs TypeDeserializer", A, C, 1.3),
            Ratio("a/d  full decode vs Powertools", A, D),
            Ratio("b/c  lazy access vs TypeDeserializer", B, C, 15),
            Ratio("e/c  the unchecked yardstick vs TypeDeserializer", E, C),
            *(
                [Ratio(f"b/c  the same on {DEFAULT_BATCH} records", B_SMALL, C_SMALL)]
                if B_SMALL in rows
                else []
            ),
        ],
    )
