"""Checkpoints: the atomic JSON file, resuming from it, and ``kill -9`` losing nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

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


# --- corrupt checkpoint files -------------------------------------------------------------

SHARD = "shardId-00000001700000000000-1a2b3c4d"


def _valid_document() -> dict[str, Any]:
    """A checkpoint as the runner writes it: every field it reads, in each form it takes."""
    return {
        "version": 1,
        "streams": {
            ARN: {
                "table": "t",
                "shards": {
                    SHARD: {
                        "sequenceNumber": "400000000000012345678",
                        "finished": False,
                        "updatedAt": "2025-01-01T12:00:05Z",
                        "window": {"start": "2025-01-01T12:00:00Z", "state": {"count": 3}},
                    },
                    "shardId-2": {
                        "sequenceNumber": None,
                        "finished": False,
                        "latestSince": "2025-01-01T12:00:00Z",
                        "updatedAt": "2025-01-01T12:00:00Z",
                    },
                    "shardId-3": {"sequenceNumber": None, "finished": True},
                },
            },
            ARN.replace("2025", "2024"): {"table": "t", "shards": {}},
        },
    }


def _shard_with(**fields: Any) -> dict[str, Any]:
    document = _valid_document()
    document["streams"][ARN]["shards"][SHARD].update(fields)
    return document


def _stream_with(stream: Any) -> dict[str, Any]:
    document = _valid_document()
    document["streams"][ARN] = stream
    return document


AT_SHARD = f'["streams"]["{ARN}"]["shards"]["{SHARD}"]'

CORRUPT: list[tuple[str, Any, str]] = [
    ("streams-list", {"version": 1, "streams": []}, '["streams"] must be an object, got array'),
    ("stream-list", _stream_with([]), f'["streams"]["{ARN}"] must be an object, got array'),
    ("no-table", _stream_with({"shards": {}}), '["table"] must be a table name, got null'),
    ("shards-null", _stream_with({"table": "t", "shards": None}), '["shards"] must be an object'),
    (
        "shard-text",
        _stream_with({"table": "t", "shards": {SHARD: "400000000000012345678"}}),
        f"{AT_SHARD} must be an object, got string",
    ),
    (
        "shard-empty",
        _stream_with({"table": "t", "shards": {SHARD: {}}}),
        f'{AT_SHARD} must hold "sequenceNumber" and "finished"',
    ),
    (
        "sequence-number",
        _shard_with(sequenceNumber=400000000000012345678),
        f'{AT_SHARD}["sequenceNumber"] must be a sequence number or null, got 4000',
    ),
    (
        "sequence-text",
        _shard_with(sequenceNumber="4000abc"),
        'must be a sequence number or null, got "4000abc"',
    ),
    ("finished-text", _shard_with(finished="yes"), 'must be true or false, got "yes"'),
    (
        "latest-since",
        _shard_with(sequenceNumber=None, latestSince="yesterday"),
        f'{AT_SHARD}["latestSince"] must be a UTC time such as 2025-01-01T12:00:00Z, got '
        '"yesterday"',
    ),
    ("latest-since-number", _shard_with(latestSince=1735732800), "got 1735732800"),
    ("updated-at", _shard_with(updatedAt="2025-13-01T00:00:00Z"), '["updatedAt"] must be a UTC'),
    ("window-list", _shard_with(window=[]), '["window"] must be an object or null, got array'),
    ("window-start", _shard_with(window={"start": None}), '["window"]["start"] must be a UTC'),
    (
        "window-state",
        _shard_with(window={"start": "2025-01-01T12:00:00Z", "state": [1]}),
        '["window"]["state"] must be an object, got array',
    ),
    ("version-text", {"version": "1", "streams": {}}, 'file (version 1); found version "1"'),
    ("version-true", {"version": True, "streams": {}}, "found version true"),
    ("a-number", 7, "not a streamflow checkpoint file (version 1); found number"),
    ("too-deep", "[" * 100_000 + "]" * 100_000, "nests too deeply"),
]


@pytest.mark.parametrize(
    ("document", "problem"), [c[1:] for c in CORRUPT], ids=[c[0] for c in CORRUPT]
)
def test_a_corrupt_checkpoint_is_a_typed_error_naming_the_file_and_the_problem(
    tmp_path: Path, document: Any, problem: str
) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    with pytest.raises(RunnerConfigError) as caught:
        CheckpointStore(str(path))
    assert caught.value.option == "checkpoint"
    assert caught.value.reason.startswith(f"cannot read {path}: ")
    assert problem in caught.value.reason


@pytest.mark.parametrize("name", ["stream-list", "shard-text", "latest-since", "window-state"])
def test_a_corrupt_checkpoint_exits_2_naming_the_file_and_the_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, name: str
) -> None:
    import argparse

    from streamflow.runner import add_run_command, run_command

    [(document, problem)] = [c[1:] for c in CORRUPT if c[0] == name]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "noop.py").write_text("def handler(event, context):\n    return None\n")
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(document))
    parser = argparse.ArgumentParser(prog="streamflow")
    add_run_command(parser.add_subparsers(dest="command"))
    argv = ["run", "noop:handler", "--table", "t", "--region", "us-east-1"]
    argv += ["--endpoint-url", "http://127.0.0.1:9", "--checkpoint", str(path), "--json-log"]
    assert run_command(parser.parse_args(argv)) == 2
    [line] = capsys.readouterr().err.splitlines()
    error = json.loads(line)
    assert error["event"] == "error"
    assert error["message"].startswith(f"--checkpoint: cannot read {path}: ")
    assert problem in error["message"]


def test_the_valid_document_the_corrupt_ones_come_from_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps(_valid_document()))
    store = CheckpointStore(str(path))
    assert store.get(ARN, SHARD) == ShardCheckpoint(
        "400000000000012345678", window_start=1735732800, window_state={"count": 3}
    )
    assert store.get(ARN, "shardId-2") == ShardCheckpoint(None, latest_since=1735732800)
    assert store.get(ARN, "shardId-3") == ShardCheckpoint(None, finished=True)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside ``value`` (dictionary keys, list indexes)."""
    places = [path]
    if isinstance(value, (dict, list)):
        for key, child in value.items() if isinstance(value, dict) else enumerate(value):
            places.extend(_places(child, (*path, key)))
    return places


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_a_mutated_checkpoint_reads_whole_or_is_refused_with_the_typed_error(
    data: st.DataObject,
) -> None:
    document: Any = _valid_document()
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        place = data.draw(st.sampled_from(_places(document)), label="place")
        deleted = bool(place) and data.draw(st.booleans(), label="delete")
        replacement = None if deleted else data.draw(json_values, label="replacement")
        if not place:
            document = replacement
            continue
        parent = document
        for key in place[:-1]:
            parent = parent[key]
        if deleted:
            del parent[place[-1]]
        else:
            parent[place[-1]] = replacement
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        try:
            store = CheckpointStore(path)
        except RunnerConfigError as exc:
            refused: RunnerConfigError | None = exc
        else:
            refused = None
        event("refused" if refused is not None else "read whole")
        if refused is not None:
            assert refused.option == "checkpoint"
            assert refused.reason.startswith(f"cannot read {path}: ")
            return
        # Read whole: every checkpoint in it is usable, and the next commit writes.
        for arn, stream in document["streams"].items():
            store.has_stream(arn)
            for shard_id in stream["shards"]:
                checkpoint = store.get(arn, shard_id)
                assert checkpoint is not None
                assert checkpoint.sequence_number is None or checkpoint.sequence_number.isdigit()
                assert isinstance(checkpoint.finished, bool)
        store.commit(ARN, "t", {SHARD: ShardCheckpoint("400000000000012345679")})
        assert CheckpointStore(path).get(ARN, SHARD) == ShardCheckpoint("400000000000012345679")


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


@pytest.mark.parametrize("position", ["TRIM_HORIZON", "LATEST"])
def test_a_window_checkpointed_before_any_record_was_processed_loses_nothing_on_restart(
    tmp_path: Path, position: str
) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    double = StreamsDouble()
    shard = double.add_shard()
    a_while_ago = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=10)
    before = double.put(shard, {"PK": "before", "SK": "A"}, created=a_while_ago)
    stop = threading.Event()
    written: list[str] = []

    def failing(event: dict[str, Any], context: Any) -> Any:
        stop.set()  # the run stops (or is killed) after this failed invocation's checkpoint
        raise RuntimeError("the first invocation fails")

    def write_when_reading() -> None:
        while not double.calls_of("get_records") and not stop.is_set():
            time.sleep(0.005)
        written.append(double.put(shard, {"PK": "after", "SK": "A"}))

    writer = threading.Thread(target=write_when_reading)
    writer.start()
    options: dict[str, Any] = {"tumbling_window": 60, "starting_position": position}
    run_on(double, failing, checkpoint=checkpoint, stop_event=stop, **options)
    writer.join()
    [entry] = json.loads(Path(checkpoint).read_text())["streams"][double.stream_arn][
        "shards"
    ].values()
    assert entry["sequenceNumber"] is None  # checkpointed (the window) with nothing processed
    second = Recorder()

    def succeeding(event: dict[str, Any], context: Any) -> Any:
        second(event, context)
        return {"state": {}}

    run_on(double, succeeding, checkpoint=checkpoint, until_idle=0.2, **options)
    expected = [before, *written] if position == "TRIM_HORIZON" else written
    assert second.sequences == expected


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
        for k in range(keys):
            item = {"PK": {"S": f"K{k:02d}"}, "v": {"N": str(version)}}
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
