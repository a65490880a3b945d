"""The local runner against a bare GetRecords loop: same stream, same endpoint, same run.

A table on moto's server (started here, on 127.0.0.1) gets a few hundred items of about a
dozen attributes. Then, in interleaved rounds:

(a) ``streamflow.runner.run`` drains the stream from TRIM_HORIZON to a no-op handler
    (``max_records`` set to the stream's length): find the stream, describe it, get an
    iterator, read, turn every record into Lambda's shape, batch (100), invoke, checkpoint
    in memory, stop;
(b) a bare loop: GetShardIterator(TRIM_HORIZON), then GetRecords(Limit=1000) until every
    record is read, doing nothing with them.

Both use the same boto3 clients, made once (making clients costs tens of milliseconds,
which would swamp the comparison). moto is slow (about 500 records/s read back), so the
ratio shows how much the runner adds to reading the stream; absolute figures are moto's.
"""

from __future__ import annotations

import logging
import os
import uuid
from typing import TYPE_CHECKING, Any

from _common import Ratio, Section, measure

from streamflow import testing

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

__all__ = ["section"]

ITEMS = 400
A = f"(a) streamflow runner, no-op handler ({ITEMS} records)"
B = "(b) bare GetShardIterator + GetRecords loop"


def _item(index: int) -> dict[str, Any]:
    return {
        "PK": {"S": f"USER#{index % 40}"},
        "SK": {"S": f"SCORE#{index:05d}"},
        "points": {"N": str(index * 7)},
        "name": {"S": f"player {index}"},
        "active": {"BOOL": index % 2 == 0},
        "tags": {"SS": ["a", "b", f"t{index % 5}"]},
        "avatar": {"B": bytes(range(32))},
        "history": {"L": [{"N": str(i)} for i in range(5)]},
        "meta": {"M": {"level": {"N": "3"}, "region": {"S": "eu"}, "flag": {"NULL": True}}},
        "ratio": {"N": "0.125"},
        "sizes": {"NS": ["1", "2", "3"]},
        "note": {"S": "x" * 40},
    }


def section(event: dict[str, Any]) -> Section:
    import boto3
    from moto.server import ThreadedMotoServer

    from streamflow.runner import run

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
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
        dynamodb = boto3.client("dynamodb", **settings)
        streams = boto3.client("dynamodbstreams", **settings)
        table = f"bench-{uuid.uuid4().hex[:8]}"
        testing.create_table(dynamodb, table)
        for start in range(0, ITEMS, 25):
            requests: list[WriteRequestTypeDef] = [
                {"PutRequest": {"Item": _item(i)}} for i in range(start, start + 25)
            ]
            dynamodb.batch_write_item(RequestItems={table: requests})
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

        def noop(event: dict[str, Any], context: Any) -> None:
            return None

        def runner() -> None:
            summary = run(
                noop,
                table=table,
                max_records=ITEMS,
                quiet=True,
                streams_client=streams,
                dynamodb_client=dynamodb,
                handle_signals=False,
            )
            assert summary.records_invoked == ITEMS, summary

        def bare() -> None:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            read = 0
            while read < ITEMS:
                page = streams.get_records(ShardIterator=iterator, Limit=1000)
                read += len(page["Records"])
                iterator = page["NextShardIterator"]

        rows = measure({A: runner, B: bare}, ITEMS, rounds=5, min_time=0.0)
    finally:
        server.stop()
    return Section(
        title=f"Local runner: draining a {ITEMS}-record stream on moto's server",
        rows=rows,
        ratios=[Ratio("runner vs bare GetRecords loop", A, B, 0.9)],
    )
