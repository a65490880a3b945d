"""The score pipeline's table: create it, put the task mappings in it, read the totals.

For a table of your own (the local run) or the one ``cdk deploy`` made::

    python examples/score_pipeline/table.py create --table scores   # table, stream, TTL, tasks
    python examples/score_pipeline/table.py seed --table NAME       # only the task mappings
    python examples/score_pipeline/table.py totals --table NAME     # every user's total

boto3's usual settings apply (``AWS_PROFILE``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``),
and ``--region`` and ``--endpoint-url`` override them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from streamflow.codec import deserialize_item, serialize_item
from streamflow.recipes.scores import DEFAULT_TASKS, task_item
from streamflow.testing import create_table as create_stream_table

__all__ = ["create_table", "seed_tasks", "stored_totals"]


def create_table(dynamodb: Any, table: str, tasks: Mapping[str, int] = DEFAULT_TASKS) -> None:
    """The single table (PK/SK, on demand, stream NEW_AND_OLD_IMAGES, TTL on ``expiresAt``),
    with the task mappings; returns once the table is active."""
    create_stream_table(dynamodb, table)  # PK/SK strings, on demand, NEW_AND_OLD_IMAGES
    dynamodb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
    )
    dynamodb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiresAt"},
    )
    seed_tasks(dynamodb, table, tasks)


def seed_tasks(dynamodb: Any, table: str, tasks: Mapping[str, int] = DEFAULT_TASKS) -> None:
    """Put one task mapping (``TASK#<type>``) per task type; existing ones are replaced."""
    for task, points in tasks.items():
        dynamodb.put_item(TableName=table, Item=serialize_item(task_item(task, points)))


def stored_totals(dynamodb: Any, table: str) -> dict[str, tuple[int, int]]:
    """Every user's (total, count) as the table holds it."""
    totals: dict[str, tuple[int, int]] = {}
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        ConsistentRead=True,
        FilterExpression="SK = :total",
        ExpressionAttributeValues={":total": {"S": "TOTAL"}},
    )
    for page in pages:
        for raw in page["Items"]:
            item = deserialize_item(raw)
            totals[item["PK"].removeprefix("USER#")] = (int(item["total"]), int(item["count"]))
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit 0 on success, 1 when AWS answers an error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["create", "seed", "totals"])
    parser.add_argument("--table", required=True, help="the table's name")
    parser.add_argument("--region", help="the AWS Region (default: boto3's)")
    parser.add_argument("--endpoint-url", help="a DynamoDB endpoint such as moto's server")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    settings = {"region_name": args.region, "endpoint_url": args.endpoint_url}
    dynamodb = boto3.client("dynamodb", **{k: v for k, v in settings.items() if v})
    try:
        if args.action == "create":
            create_table(dynamodb, args.table)
            print(f"created {args.table} with its stream, TTL and {len(DEFAULT_TASKS)} tasks")
        elif args.action == "seed":
            seed_tasks(dynamodb, args.table)
            tasks = ", ".join(f"{task} {points}" for task, points in DEFAULT_TASKS.items())
            print(f"task mappings in {args.table}: {tasks}")
        else:
            totals = stored_totals(dynamodb, args.table)
            print(f"{'user':<24} {'total':>8} {'scores':>7}")
            for user, (total, count) in sorted(totals.items()):
                print(f"{user:<24} {total:>8} {count:>7}")
            print(f"{len(totals)} users")
    except (BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
