"""Checkpoints: the atomic JSON file, resuming from it, and ``kill -9`` losing nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from streamflow.runner import RunnerConfigError
from streamflow.runner._checkpoint import CheckpointStore, ShardCheckpoint
from tests.streams_double import Recorder, StreamsDouble, run_on

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2025-01-01T00:00:00.000"


def test_the_file_records_each_shard_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    store = CheckpointStore(str(path))
    store.commit(ARN, "t", {"shard-1": ShardCheckpoint("1000000000000000000001")})
    store.commit(ARN, "t", {"shard-2": ShardCheckpoint(None, finished=True)})
    store.commit(
        ARN,
        "t",
        {
            "shard-3": ShardCheckpoint(
                "123456789012345678901", window_start=60, window_state={"n": 2}
            )
        },
    )
    data = json.loads(path.read_text())
    assert data["version"] == 1
    shards = data["streams"][ARN]["shards"]
    assert data["streams"][ARN]["table"] == "t"
    assert shards["shard-1"]["sequenceNumber"] == "1000000000000000000001"
    assert shards["shard-2"] == {**shards["shard-2"], "sequenceNumber": None, "finished": True}
    assert shards["shard-3"]["window"] == {"start": "1970-01-01T00:01:00Z", "state": {"n": 2}}
    again = CheckpointStore(str(path))
    assert again.has_stream(ARN)
    assert not again.has_stream("other")
    assert again.get(ARN, "shard-1") == ShardCheckpoint("1000000000000000000001")
    assert again.get(ARN, "shard-2") == ShardCheckpoint(None, finished=True)
    third = again.get(ARN, "shard-3")
    assert third is not None
    assert (third.window_start, third.window_state) == (60, {"n": 2})
    assert again.get(ARN, "missing") is None


def test_a_failed_write_leaves_the_old_file_whole_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.json"
    store = CheckpointStore(str(path))
    store.commit(ARN, "t", {"shard-1": ShardCheckpoint("100000000000000000000001")})
    before = path.read_text()

    def crash(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        store.commit(ARN, "t", {"shard-1": ShardCheckpoint("100000000000000000000002")})
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json"]


def test_concurrent_commits_all_land(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    store = CheckpointStore(str(path))

    def commit(index: int) -> None:
        for step in range(20):
            store.commit(ARN, "t", {f"shard-{index}": ShardCheckpoint(str(10**21 + step))})

    threads = [threading.Thread(target=commit, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    shards = json.loads(path.read_text())["streams"][ARN]["shards"]
    assert {k: v["sequenceNumber"] for k, v in shards.items()} == {
        f"shard-{i}": str(10**21 + 19) for i in range(4)
    }


@pytest.mark.parametrize("content", ["{not json", '{"version": 2, "streams": {}}', "[]"])
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(content)
    with pytest.raises(RunnerConfigError, match="checkpoint"):
        CheckpointStore(str(path))


def test_a_restart_resumes_after_the_checkpoint(tmp_path: Path) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    double = StreamsDouble()
    shard = double.add_shard()
    records = [double.put(shard, {"PK": f"K{i}", "SK": "A"}) for i in range(5)]
    first = Recorder()
    run_on(double, first, checkpoint=checkpoint, batch_size=2, max_records=3)
    assert first.sequences == records[:3]
    second = Recorder()
    run_on(double, second, checkpoint=checkpoint, until_idle=0.2)
    assert second.sequences == records[3:]
    resumed = double.calls_of("get_shard_iterator")[-1].params
    assert resumed["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert resumed["SequenceNumber"] == records[2]


def test_latest_is_remembered_so_a_restart_does_not_read_from_the_trim_horizon(
    tmp_path: Path,
) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    double = StreamsDouble()
    old = double.add_shard()
    double.put(old, {"PK": "old", "SK": "A"})
    double.close(old)
    shard = double.add_shard(old)
    a_while_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10)
    double.put(shard, {"PK": "before", "SK": "A"}, created=a_while_ago)
    first = Recorder()
    run_on(double, first, starting_position="LATEST", checkpoint=checkpoint, until_idle=0.1)
    later = double.put(shard, {"PK": "after", "SK": "A"})  # written while the runner is down
    second = Recorder()
    run_on(double, second, starting_position="LATEST", checkpoint=checkpoint, until_idle=0.2)
    assert first.sequences == []
    assert second.sequences == [later]  # "before" predates the first start; "old" is skipped


# --- kill -9 ------------------------------------------------------------------------------

HANDLER = """
import os, time

def handler(event, context):
    time.sleep(0.04)  # work first: a kill lands here, before the batch is recorded
    with open(os.environ["RUNNER_TEST_LOG"], "a") as log:
        for record in event["Records"]:
            change = record["dynamodb"]
            key = change["Keys"]["PK"]["S"]
            log.write(f"{key} {change['NewImage']['v']['N']} {change['SequenceNumber']}\\n")
"""


def _lines(path: Path) -> list[tuple[str, int, int]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        key, version, sequence = line.split()
        out.append((key, int(version), int(sequence)))
    return out


def test_kill_9_at_any_moment_loses_no_record(aws_settings: dict[str, Any], tmp_path: Path) -> None:
    dynamodb = boto3.client("dynamodb", **aws_settings)
    table = f"kill-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    keys, versions = 12, 10
    for version in range(versions):
        for key in range(keys):
            item = {"PK": {"S": f"K{key:02d}"}, "v": {"N": str(version)}}
            dynamodb.put_item(TableName=table, Item=item)
    (tmp_path / "killme.py").write_text(textwrap.dedent(HANDLER))
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
    command = [
        sys.executable,
        "-m",
        "streamflow.runner",
        "killme:handler",
        "--table",
        table,
        "--endpoint-url",
        aws_settings["endpoint_url"],
        "--region",
        "us-east-1",
        "--checkpoint",
        str(tmp_path / "checkpoint.json"),
        "--batch-size",
        "5",
        "--quiet",
    ]
    logs = [tmp_path / f"run{index}.log" for index in range(3)]
    for index, threshold in enumerate((25, 25)):  # two runs killed mid-stream
        process = subprocess.Popen(
            command, cwd=tmp_path, env={**env, "RUNNER_TEST_LOG": str(logs[index])}
        )
        deadline = time.monotonic() + 30
        while len(_lines(logs[index])) < threshold:
            assert process.poll() is None, "the runner exited early"
            assert time.monotonic() < deadline, "the runner delivered too little"
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    final = subprocess.run(
        [*command, "--until-idle", "1"],
        cwd=tmp_path,
        env={**env, "RUNNER_TEST_LOG": str(logs[2])},
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert final.returncode == 0, final.stderr

    runs = [_lines(log) for log in logs]
    delivered = {(key, version) for run in runs for key, version, _ in run}
    assert delivered == {(f"K{k:02d}", v) for k in range(keys) for v in range(versions)}
    assert len(runs[0]) < keys * versions
    assert len(runs[1]) < keys * versions
    for run in runs:  # within a run, each key's changes arrive once and in order
        per_key: dict[str, list[int]] = {}
        for key, version, _ in run:
            per_key.setdefault(key, []).append(version)
        for key, seen in per_key.items():
            assert seen == sorted(set(seen)), (key, seen)
    for before, after in itertools.pairwise(runs):  # a restart redelivers at most the lost batch
        resumed_from = after[0][2]
        assert resumed_from <= max(sequence for *_, sequence in before) + 10**6
        redelivered = {s for *_, s in before} & {s for *_, s in after}
        assert len(redelivered) <= 5
