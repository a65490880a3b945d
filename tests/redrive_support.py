"""What the redrive tests share: a handler that fails until fixed, and a table whose batches
``run`` discarded to an on-failure file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3

from streamflow import testing
from streamflow.runner import run

QUIET: dict[str, Any] = {"quiet": True, "handle_signals": False}


def keys_of(event: dict[str, Any]) -> list[str]:
    """The ``PK`` of each record of a Lambda event, in order."""
    return [record["dynamodb"]["Keys"]["PK"]["S"] for record in event["Records"]]


class Flaky:
    """A Lambda handler that fails every batch holding a poisoned key until it is fixed,
    and keeps the keys it delivered successfully."""

    def __init__(self, *poisoned: str) -> None:
        self.poisoned = set(poisoned)
        self.fixed = False
        self.delivered: list[str] = []
        self.events = 0

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events += 1
        keys = keys_of(event)
        if not self.fixed and self.poisoned & set(keys):
            raise ValueError("poison")
        self.delivered.extend(keys)
        return None


def discarded(
    aws_settings: dict[str, Any], tmp_path: Path, *, events: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A table whose K1, K2, K5 and K6 changes were discarded by ``run`` (batches of 2, no
    retry) to an on-failure file: the batches [K1, K2] and [K5, K6]. ``events`` receives a
    copy of every event the handler was invoked with."""
    dynamodb = boto3.client("dynamodb", **aws_settings)
    table = f"redrive-{uuid.uuid4().hex[:10]}"
    testing.create_table(dynamodb, table)
    for i in range(1, 8):
        dynamodb.put_item(TableName=table, Item={"PK": {"S": f"K{i}"}, "SK": {"S": "A"}})
    handler = Flaky("K2", "K6")

    def recording(event: dict[str, Any], context: Any) -> Any:
        if events is not None:
            events.append(json.loads(json.dumps(event)))
        return handler(event, context)

    on_failure = tmp_path / "failed.jsonl"
    streams = boto3.client("dynamodbstreams", **aws_settings)
    summary = run(
        recording,
        table=table,
        batch_size=2,
        max_retries=0,
        on_failure=str(on_failure),
        until_idle=0.5,
        streams_client=streams,
        dynamodb_client=dynamodb,
        **QUIET,
    )
    assert summary.exit_code == 1
    assert handler.delivered == ["K3", "K4", "K7"]
    return {"handler": handler, "on_failure": on_failure, "streams": streams, "table": table}
