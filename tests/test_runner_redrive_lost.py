"""``redrive`` where moto cannot go: records trimmed from the stream (lost), closed shards and
empty pages, malformed and mismatched on-failure records. Against the in-memory Streams
double (``tests/streams_double.py``), which trims, closes and answers empty pages as AWS
does; the on-failure records are written by ``run`` against the same double."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from streamflow.runner import redrive
from tests.streams_double import StreamsDouble, run_on

QUIET: dict[str, Any] = {"quiet": True, "handle_signals": False}


class Keys:
    """A Lambda handler keeping the partition keys it is given; fails on ``poisoned``."""

    def __init__(self, *poisoned: str) -> None:
        self.poisoned = set(poisoned)
        self.seen: list[str] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        keys = [record["dynamodb"]["Keys"]["PK"]["S"] for record in event["Records"]]
        if self.poisoned & set(keys):
            raise ValueError("poison")
        self.seen.extend(keys)
        return None


@pytest.fixture
def stream(tmp_path: Path) -> dict[str, Any]:
    """Six records, K1..K6, on one shard; ``run`` (batches of 3, no retry) discarded both
    batches to ``failed.jsonl``."""
    double = StreamsDouble()
    shard = double.add_shard()
    sequences = [double.put(shard, {"PK": f"K{i}", "SK": "A"}) for i in range(1, 7)]
    source = tmp_path / "failed.jsonl"
    summary = run_on(
        double, Keys("K2", "K5"), batch_size=3, max_retries=0, on_failure=str(source),
        until_idle=0.2,
    )  # fmt: skip
    assert summary.records_discarded == 6
    return {"double": double, "shard": shard, "sequences": sequences, "source": source}


def test_records_trimmed_before_the_redrive_are_reported_lost_never_skipped(
    stream: dict[str, Any], tmp_path: Path
) -> None:
    double, sequences = stream["double"], stream["sequences"]
    double.trim(stream["shard"], 2)  # K1 and K2 aged out of the stream
    lost = tmp_path / "lost.jsonl"
    handler = Keys()
    summary = redrive(
        handler, source=str(stream["source"]), streams_client=double, lost=str(lost), **QUIET
    )
    assert handler.seen == ["K3", "K4", "K5", "K6"]  # what is left is delivered
    assert (summary.batches_lost, summary.records_lost, summary.batches_redriven) == (1, 2, 1)
    assert summary.exit_code == 1
    [line] = [json.loads(text) for text in lost.read_text().splitlines()]
    assert line["gaps"] == [{"after": None, "before": sequences[2]}]
    assert (line["startSequenceNumber"], line["endSequenceNumber"]) == (sequences[0], sequences[2])
    assert (line["batchSize"], line["recordsFound"], line["recordsLost"]) == (3, 1, 2)
    assert line["onFailureRecord"]["DDBStreamBatchInfo"]["startSequenceNumber"] == sequences[0]
    # Written to --lost, the batch is done: a second redrive has nothing to do.
    again = redrive(handler, source=str(stream["source"]), streams_client=double, **QUIET)
    assert (again.batches, again.exit_code) == (0, 0)


def test_without_a_lost_file_a_batch_with_lost_records_stays_in_its_source(
    stream: dict[str, Any],
) -> None:
    double = stream["double"]
    double.trim(stream["shard"], 3)  # the whole first batch is gone
    handler = Keys()
    summary = redrive(handler, source=str(stream["source"]), streams_client=double, **QUIET)
    assert handler.seen == ["K4", "K5", "K6"]
    assert (summary.batches_lost, summary.records_lost, summary.exit_code) == (1, 3, 1)
    again = redrive(handler, source=str(stream["source"]), streams_client=double, **QUIET)
    assert (again.batches, again.batches_lost, again.invocations) == (1, 1, 0)


def test_a_dry_run_says_what_is_already_trimmed(
    stream: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    double = stream["double"]
    double.trim(stream["shard"], 1)
    handler = Keys()
    summary = redrive(
        handler, source=str(stream["source"]), streams_client=double, dry_run=True,
        json_log=True, handle_signals=False,
    )  # fmt: skip
    assert handler.seen == []
    assert (summary.batches_listed, summary.records_found, summary.records_lost) == (2, 5, 1)
    items = [
        event
        for event in map(json.loads, capsys.readouterr().err.splitlines())
        if event["event"] == "item"
    ]
    assert [(item["status"], item["recordsFound"], item["recordsLost"]) for item in items] == [
        ("lost", 2, 1),
        ("listed", 3, 0),
    ]


def test_a_closed_shard_answering_empty_pages_is_read_to_the_batchs_end(
    stream: dict[str, Any],
) -> None:
    double, shard = stream["double"], stream["shard"]
    double.close(shard)
    double.empty_pages(shard, 3)
    handler = Keys()
    summary = redrive(handler, source=str(stream["source"]), streams_client=double, **QUIET)
    assert handler.seen == ["K1", "K2", "K3", "K4", "K5", "K6"]
    assert (summary.batches_redriven, summary.exit_code) == (2, 0)


def test_malformed_and_mismatched_records_are_reported_and_the_rest_redriven(
    stream: dict[str, Any], tmp_path: Path
) -> None:
    source = tmp_path / "mixed.jsonl"
    first, second = stream["source"].read_text().splitlines()
    wrong_size = json.loads(first)
    wrong_size["DDBStreamBatchInfo"]["batchSize"] = 2
    other_stream = json.loads(first)
    other_stream["DDBStreamBatchInfo"]["streamArn"] += "-gone"
    short = json.loads(first)  # a hand-edited number AWS would refuse to read from
    short["DDBStreamBatchInfo"]["startSequenceNumber"] = "12"
    lines = ["not json", json.dumps(wrong_size), json.dumps(other_stream), json.dumps(short)]
    source.write_text("\n".join([*lines, "", second]) + "\n")
    handler = Keys()
    summary = redrive(handler, source=str(source), streams_client=stream["double"], **QUIET)
    assert handler.seen == ["K4", "K5", "K6"]
    assert (summary.batches, summary.malformed, summary.batches_mismatched) == (5, 2, 2)
    assert (summary.batches_redriven, summary.exit_code) == (1, 1)
    state = json.loads(Path(str(source) + ".state.json").read_text())
    assert list(state["done"]) == ["6"]  # only the redriven line; blank lines are skipped


def test_a_rewritten_line_is_not_taken_for_the_done_one(stream: dict[str, Any]) -> None:
    source = stream["source"]
    handler = Keys()
    redrive(handler, source=str(source), streams_client=stream["double"], **QUIET)
    first, second = source.read_text().splitlines()
    shutil.copy(source, str(source) + ".bak")
    source.write_text(second + "\n" + first + "\n")  # same lines, other places
    again = redrive(handler, source=str(source), streams_client=stream["double"], **QUIET)
    assert again.batches_redriven == 2


def test_a_range_interleaved_by_a_parallelization_factor_is_refused_or_delivered_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    for version in range(3):  # P and Q fall in different lanes of two (the runner's hash)
        double.put(shard, {"PK": "P", "SK": "A"}, new={"PK": "P", "SK": "A", "v": version})
        double.put(shard, {"PK": "Q", "SK": "A"}, new={"PK": "Q", "SK": "A", "v": version})
    source = tmp_path / "failed.jsonl"
    run_on(
        double, Keys("P"), batch_size=10, max_retries=0, parallelization_factor=2,
        on_failure=str(source), until_idle=0.2,
    )  # fmt: skip
    [line] = source.read_text().splitlines()
    assert json.loads(line)["DDBStreamBatchInfo"]["batchSize"] == 3  # P's; Q's in between

    refused = redrive(Keys(), source=str(source), streams_client=double, **QUIET)
    assert (refused.batches_mismatched, refused.invocations, refused.exit_code) == (1, 0, 1)

    handler = Keys()
    capsys.readouterr()
    whole = redrive(
        handler, source=str(source), streams_client=double, whole_range=True, json_log=True,
        handle_signals=False,
    )  # fmt: skip
    assert handler.seen == ["P", "Q", "P", "Q", "P"]  # the range: first P to last P
    assert (whole.batches_redriven, whole.records_found, whole.exit_code) == (1, 5, 0)
    [item] = [
        e for e in map(json.loads, capsys.readouterr().err.splitlines()) if e["event"] == "item"
    ]
    assert item["reason"] == "the whole range: 2 records of other batches too"
    assert item["acknowledged"] is True
    again = redrive(handler, source=str(source), streams_client=double, whole_range=True,
                    **QUIET)  # fmt: skip
    assert (again.batches, again.invocations) == (0, 0)


def test_a_stop_while_the_stream_answers_errors_ends_the_redrive_at_once(
    stream: dict[str, Any],
) -> None:
    import threading
    import time

    double = stream["double"]
    double.fail("get_shard_iterator", "InternalServerError", times=30, status=500)
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    began = time.monotonic()
    summary = redrive(Keys(), source=str(stream["source"]), streams_client=double,
                      stop_event=stop, **QUIET)  # fmt: skip
    assert time.monotonic() - began < 5  # one stop, not a second signal, ends the retrying
    assert (summary.reason, summary.invocations, summary.exit_code) == ("stopped", 0, 1)
