"""GetRecords to the Lambda shape: boto3's records (bytes, datetimes, ``Type``) rewritten as
Lambda delivers the same change (base64 text, epoch seconds, ``type``)."""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from streamflow.codec._wire import MAX_NESTING_DEPTH

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["lambda_shape"]


def _b64(data: object) -> object:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return binascii.b2a_base64(bytes(data), newline=False).decode("ascii")
    return data


def _json_av(av: Any, depth: int = 0) -> Any:
    """An AttributeValue with bytes turned into base64 text (containers copied).

    A map or list is rewritten only where the decoder accepts one, above DynamoDB's nesting
    limit: deeper ones are kept as they are for the decoder to refuse with their path, so an
    image nested a thousand levels never exhausts the stack here.
    """
    if not isinstance(av, dict) or len(av) != 1:
        return av  # malformed: left for the decoder to report with its path
    ((tag, inner),) = av.items()
    if tag == "B":
        return {"B": _b64(inner)}
    if tag == "BS" and isinstance(inner, list):
        return {"BS": [_b64(item) for item in inner]}
    if depth >= MAX_NESTING_DEPTH:
        return av
    if tag == "M" and isinstance(inner, dict):
        return {"M": {key: _json_av(item, depth + 1) for key, item in inner.items()}}
    if tag == "L" and isinstance(inner, list):
        return {"L": [_json_av(item, depth + 1) for item in inner]}
    return av


def _epoch_seconds(value: object) -> object:
    import datetime

    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
        if delta.microseconds == 0:
            return delta.days * 86_400 + delta.seconds
        return delta.total_seconds()
    return value


def lambda_shape(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
        if key in record:
            raw[key] = record[key]
    source = record.get("dynamodb")
    if isinstance(source, Mapping):
        ddb: dict[str, Any] = {}
        for key, value in source.items():
            if key == "ApproximateCreationDateTime":
                ddb[key] = _epoch_seconds(value)
            elif key in ("Keys", "NewImage", "OldImage") and isinstance(value, Mapping):
                ddb[key] = {name: _json_av(av) for name, av in value.items()}
            else:
                ddb[key] = value
        raw["dynamodb"] = ddb
    elif source is not None:
        raw["dynamodb"] = source
    raw["eventSourceARN"] = stream_arn
    identity = record.get("userIdentity")
    if isinstance(identity, Mapping):
        raw["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return raw
