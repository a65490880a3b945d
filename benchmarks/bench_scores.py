"""What a score costs in DynamoDB: the score recipe against the naive read-modify-write.

A table on moto's server (started here, on 127.0.0.1) holds the task mappings. Both designs
then process the same batches of score INSERT records (batch size 100, 50 distinct users per
batch, two scores each, shuffled):

(a) ``streamflow.recipes.scores``: one BatchGetItem for the task mappings (then cached), one
    TransactWriteItems per user: the total's Update plus one idempotency marker per record;
(b) the naive design: per score, GetItem the task mapping, GetItem the total, PutItem the new
    total. Three calls per score, and not exactly-once: a redelivered batch counts twice.

API calls and write capacity units are counted by :class:`streamflow.testing.CapacityMeter`
on each design's client: one WCU per started KB of the item written, an update billed on the
larger of the item before and after, transactional writes counted double (DynamoDB's
documented pricing rules, from the items' sizes). Then one batch is delivered a second time
to both, and the users whose totals went wrong are counted.
"""

from __future__ import annotations

import logging
import os
import random
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any

from streamflow import StreamRecord, testing
from streamflow.codec import deserialize_item, serialize_item
from streamflow.recipes.scores import DEFAULT_TASKS, score_item, scores_router, task_item

__all__ = ["section"]

BATCHES = 2
BATCH_SIZE = 100
USERS = 50
A = "(a) streamflow.recipes.scores"
B = "(b) naive read-modify-write"


@dataclass
class Target:
    """A row's figure against an absolute target (lower is better)."""

    label: str
    row: str
    target: float

    def value(self, rows: Mapping[str, float]) -> float:
        return rows[self.row]

    def met(self, rows: Mapping[str, float]) -> bool:
        return self.value(rows) <= self.target


@dataclass
class CostSection:
    """Rows of figures per score (not records/s), and the targets they must meet."""

    title: str
    rows: dict[str, float] = field(default_factory=dict)
    ratios: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def render(self) -> str:
        width = max(60, *map(len, self.rows))
        lines = [f"## {self.title}", "", f"| {'figure':{width}} | {'value':>8} |"]
        lines.append(f"|{'-' * (width + 2)}|{'-' * 10}|")
        lines += [f"| {name:{width}} | {value:8.2f} |" for name, value in self.rows.items()]
        label = max(40, *(len(t.label) for t in self.ratios))
        lines += ["", f"| {'target':{label}} | {'value':>8} | {'target':>8} | {'met':>4} |"]
        lines.append(f"|{'-' * (label + 2)}|{'-' * 10}|{'-' * 10}|{'-' * 6}|")
        for t in self.ratios:
            met = "yes" if t.met(self.rows) else "NO"
            goal = f"<= {t.target:g}"
            lines.append(
                f"| {t.label:{label}} | {t.value(self.rows):8.2f} | {goal:>8} | {met:>4} |"
            )
        return "\n".join([*lines, "", *self.notes])


def _naive(client: Any, table: str) -> Callable[[list[StreamRecord]], None]:
    def handle(records: list[StreamRecord]) -> None:
        for record in records:
            image = record.new_image or {}
            task = f"TASK#{image['taskType']}"
            mapping = client.get_item(TableName=table, Key=serialize_item({"PK": task, "SK": task}))
            points = image.get("points", int(mapping["Item"]["points"]["N"]))
            key = {"PK": f"USER#{image['userId']}", "SK": "TOTAL"}
            old = client.get_item(TableName=table, Key=serialize_item(key)).get("Item")
            total = int(old["total"]["N"]) if old else 0
            count = int(old["count"]["N"]) if old else 0
            item = {**key, "total": total + points, "count": count + 1, "userId": image["userId"]}
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            client.put_item(TableName=table, Item=serialize_item({**item, "updatedAt": stamp}))

    return handle


def _via_router(router: Any, raws: list[dict[str, Any]]) -> None:
    router.lambda_handler({"Records": raws}, None)


def _via_naive(naive: Callable[[list[StreamRecord]], None], raws: list[dict[str, Any]]) -> None:
    naive([StreamRecord.from_lambda(r) for r in raws])


def _batches(rng: random.Random) -> list[list[dict[str, Any]]]:
    out = []
    for b in range(BATCHES):
        changes = [
            testing.insert(
                score_item(f"b{b}s{i}", f"u{i % USERS:02d}", rng.choice(list(DEFAULT_TASKS)))
            )
            for i in range(BATCH_SIZE)
        ]
        rng.shuffle(changes)
        out.append(testing.records(*changes, first_sequence_number=10**20 * (b + 1)))
    return out


def _totals(client: Any, table: str) -> dict[str, int]:
    items = [deserialize_item(i) for i in client.scan(TableName=table)["Items"]]
    return {i["PK"]: int(i["total"]) for i in items if i["SK"] == "TOTAL"}


def section(event: dict[str, Any]) -> CostSection:
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    logging.getLogger("streamflow").setLevel(logging.CRITICAL)
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        settings: dict[str, Any] = {
            "endpoint_url": f"http://{host}:{port}",
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }
        setup = boto3.client("dynamodb", **settings)
        tables = {}
        for design in (A, B):
            name = f"scores-{uuid.uuid4().hex[:8]}"
            testing.create_table(setup, name)
            for task_type, points in DEFAULT_TASKS.items():
                setup.put_item(TableName=name, Item=serialize_item(task_item(task_type, points)))
            tables[design] = name
        batches = _batches(random.Random(6))
        rows: dict[str, float] = {}
        wrong: dict[str, int] = {}
        for design in (A, B):
            client = boto3.client("dynamodb", **settings)
            meter = testing.CapacityMeter(client)
            run: Callable[[list[dict[str, Any]]], object]
            if design == A:
                run = partial(_via_router, scores_router(table=tables[design], dynamodb=client))
            else:
                run = partial(_via_naive, _naive(client, tables[design]))

            for raws in batches:
                run(raws)
            scores = BATCHES * BATCH_SIZE
            rows[f"{design}: API calls per score"] = meter.calls / scores
            rows[f"{design}: WCU per score"] = meter.wcu / scores
            right = _totals(setup, tables[design])
            run(batches[0])  # Lambda delivers a batch again
            after = _totals(setup, tables[design])
            wrong[design] = sum(after[user] != right[user] for user in right)
        notes = [
            f"{BATCHES} batches of {BATCH_SIZE} scores, {USERS} distinct users per batch; "
            f"after one batch is delivered again, users with a wrong total: "
            f"(a) {wrong[A]}, (b) {wrong[B]} of {len(right)}."
        ]
        return CostSection(
            title="Score recipe: DynamoDB cost per score (moto's server, counted, not timed)",
            rows=rows,
            ratios=[
                Target("(a) API calls per score", f"{A}: API calls per score", 0.6),
                Target("(a) WCU per score", f"{A}: WCU per score", 3.0),
            ],
            notes=notes,
        )
    finally:
        server.stop()


if __name__ == "__main__":
    print(section({}).render())
