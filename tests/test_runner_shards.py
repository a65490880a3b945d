"""Shards, lineage, iterators and AWS errors, against the in-memory Streams test double
(moto has one shard that never splits and iterators that never expire)."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from typing import Any

import pytest

from streamflow.runner import RunnerError, run
from tests.streams_double import Recorder, StreamsDouble, run_on


def _log_events(log: io.StringIO, name: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, log.getvalue().splitlines()) if e["event"] == name]


def _put(double: StreamsDouble, shard: str, count: int, prefix: str = "K") -> list[str]:
    return [
        double.put(shard, {"PK": f"{prefix}{i}", "SK": "A"}, new={"n": i}) for i in range(count)
    ]


def test_a_child_shard_starts_only_after_its_parent_is_fully_processed() -> None:
    double = StreamsDouble(page_size=2)
    parent = double.add_shard()
    parent_records = _put(double, parent, 6, "P")
    double.close(parent)
    child = double.add_shard(parent)
    child_records = _put(double, child, 4, "C")
    recorder = Recorder()

    def slow(event: dict[str, Any], context: Any) -> None:
        time.sleep(0.03)  # gives an early child every chance to interleave
        recorder(event, context)

    summary = run_on(double, slow, batch_size=2, until_idle=0.3)

    assert recorder.sequences == parent_records + child_records
    child_opened = [
        c.at for c in double.calls_of("get_shard_iterator") if c.params["ShardId"] == child
    ]
    parent_reads = [c.at for c in double.calls_of("get_records")][:3]  # 3 pages of 2, then null
    assert len(child_opened) == 1
    assert child_opened[0] > max(parent_reads)
    assert summary.shards_finished == 1
    assert summary.records_invoked == 10


def test_a_split_delivers_the_parent_first_then_each_child_in_order() -> None:
    double = StreamsDouble()
    root = double.add_shard()
    root_records = _put(double, root, 3, "R")
    left, right = double.split(root)
    left_records = _put(double, left, 3, "L")
    right_records = _put(double, right, 3, "X")
    left_a, left_b = double.split(left)  # grandchildren wait for `left` only
    grand_records = _put(double, left_a, 2, "GA") + _put(double, left_b, 2, "GB")
    recorder = Recorder()

    summary = run_on(double, recorder, batch_size=2, until_idle=0.3)

    got = recorder.sequences
    assert sorted(got) == sorted(root_records + left_records + right_records + grand_records)
    assert len(got) == len(set(got))
    position = {sequence: index for index, sequence in enumerate(got)}
    assert max(position[s] for s in root_records) < min(
        position[s] for s in left_records + right_records
    )
    assert max(position[s] for s in left_records) < min(position[s] for s in grand_records)
    for records in (left_records, right_records, grand_records[:2], grand_records[2:]):
        assert [position[s] for s in records] == sorted(position[s] for s in records)
    assert summary.shards_finished == 2  # root and left closed; right and grandchildren open


def test_new_shards_are_picked_up_while_running() -> None:
    double = StreamsDouble()
    first = double.add_shard()
    before = _put(double, first, 2)
    recorder = Recorder()
    stop = threading.Event()
    result: list[Any] = []
    thread = threading.Thread(
        target=lambda: result.append(run_on(double, recorder, stop_event=stop))
    )
    thread.start()
    try:
        recorder.wait_for(2)
        left, right = double.split(first)
        after = _put(double, left, 2, "L") + _put(double, right, 2, "R")
        recorder.wait_for(6)
    finally:
        stop.set()
        thread.join(10)
    assert sorted(recorder.sequences) == sorted(before + after)
    assert result[0].shards_finished == 1
    assert result[0].reason == "stopped"


def test_closed_shards_are_checkpointed_finished_and_not_read_again(tmp_path: Any) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    double = StreamsDouble()
    parent = double.add_shard()
    _put(double, parent, 3)
    double.close(parent)
    child = double.add_shard(parent)
    _put(double, child, 2)
    run_on(double, Recorder(), checkpoint=checkpoint, until_idle=0.2)
    with open(checkpoint) as handle:
        saved = json.load(handle)["streams"][double.stream_arn]["shards"]
    assert saved[parent]["finished"] is True
    assert saved[child]["finished"] is False

    opened_before = len(double.calls_of("get_shard_iterator"))
    second = Recorder()
    run_on(double, second, checkpoint=checkpoint, until_idle=0.2)
    reopened = double.calls_of("get_shard_iterator")[opened_before:]
    assert [c.params["ShardId"] for c in reopened] == [child]
    assert reopened[0].params["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    assert second.sequences == []


@pytest.mark.parametrize("buffered", [False, True], ids=["caught-up", "records-buffered"])
def test_an_expired_iterator_is_reacquired_after_the_last_record_read(buffered: bool) -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    first = _put(double, shard, 6)
    later: list[str] = []
    log = io.StringIO()
    recorder = Recorder()

    def handler(event: dict[str, Any], context: Any) -> None:
        recorder(event, context)
        if not later:  # fifteen minutes pass in the first invocation
            double.expire_iterators()
            later.extend(_put(double, shard, 3, "L"))

    run_on(double, handler, batch_size=2 if buffered else 6, until_idle=0.3, log=log)

    assert recorder.sequences == first + later  # nothing lost, nothing twice
    reacquired = [
        c.params for c in double.calls_of("get_shard_iterator")
        if c.params["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
    ]  # fmt: skip
    assert [p["SequenceNumber"] for p in reacquired] == [first[-1]]
    assert len(_log_events(log, "iterator_expired")) == 1


def test_a_checkpoint_past_the_trim_horizon_is_data_loss_then_reading_goes_on(
    tmp_path: Any,
) -> None:
    checkpoint = str(tmp_path / "checkpoint.json")
    double = StreamsDouble()
    shard = double.add_shard()
    records = _put(double, shard, 10)
    run_on(double, Recorder(), checkpoint=checkpoint, max_records=2)
    double.trim(shard, 5)  # records[2:5] age out while the runner is stopped
    recorder = Recorder()
    log = io.StringIO()

    summary = run_on(double, recorder, checkpoint=checkpoint, until_idle=0.2, log=log)

    assert recorder.sequences == records[5:]
    assert summary.data_loss == 1
    [event] = _log_events(log, "data_loss")
    assert event["shardId"] == shard
    assert records[1] in event["reason"]


def test_trimmed_data_while_reading_is_data_loss_then_reading_goes_on() -> None:
    double = StreamsDouble(page_size=2)
    shard = double.add_shard()
    records = _put(double, shard, 10)
    recorder = Recorder()

    def handler(event: dict[str, Any], context: Any) -> None:
        recorder(event, context)
        double.trim(shard, 6)

    summary = run_on(double, handler, batch_size=2, until_idle=0.3)

    assert recorder.sequences == records[:2] + records[6:]
    assert summary.data_loss == 1


def test_a_parent_that_aged_out_of_the_stream_no_longer_holds_its_children() -> None:
    double = StreamsDouble()
    parent = double.add_shard()
    _put(double, parent, 2)
    double.close(parent)
    child = double.add_shard(parent)
    child_records = _put(double, child, 2)
    double.forget(parent)
    recorder = Recorder()
    run_on(double, recorder, until_idle=0.2)
    assert recorder.sequences == child_records


def test_throttling_and_5xx_back_off_exponentially_with_jitter() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    records = _put(double, shard, 3)
    double.fail("describe_stream", "LimitExceededException")
    double.fail("get_shard_iterator", "ThrottlingException")
    double.fail("get_records", "ProvisionedThroughputExceededException", times=2)
    double.fail("get_records", "InternalServerError", status=500)
    double.fail("get_records", "LimitExceededException")
    recorder = Recorder()
    log = io.StringIO()

    summary = run_on(
        double, recorder, throttle_base=0.04, throttle_cap=1.0, until_idle=0.2, log=log
    )

    assert recorder.sequences == records
    assert summary.throttled == 6
    reads = [c.at for c in double.calls_of("get_records")][:5]
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    for attempt, gap in enumerate(gaps):  # at least half of base * 2**attempt, growing
        assert gap >= 0.04 * 2**attempt / 2 * 0.95, gaps
    assert gaps[3] > gaps[0]
    delays = [e["delay"] for e in _log_events(log, "throttled") if e["operation"] == "GetRecords"]
    assert len(delays) == 4
    assert all(0.02 <= d <= 1.0 for d in delays)


def test_throttling_delays_are_capped() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    _put(double, shard, 1)
    double.fail("get_records", "LimitExceededException", times=6)
    log = io.StringIO()
    run_on(double, Recorder(), throttle_base=0.01, throttle_cap=0.04, until_idle=0.2, log=log)
    delays = [e["delay"] for e in _log_events(log, "throttled")]
    assert len(delays) == 6
    assert max(delays) <= 0.04


def test_every_shard_is_found_through_paginated_describe_stream() -> None:
    double = StreamsDouble(describe_page_size=2)
    shards = [double.add_shard() for _ in range(5)]
    records = [double.put(shard, {"PK": shard, "SK": "A"}) for shard in shards]
    recorder = Recorder()
    run_on(double, recorder, until_idle=0.2)
    assert sorted(recorder.sequences) == sorted(records)
    starts = [c.params["ExclusiveStartShardId"] for c in double.calls_of("describe_stream")[:3]]
    assert starts == [None, shards[1], shards[3]]


def test_an_error_retrying_cannot_fix_stops_the_run_with_its_code() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    _put(double, shard, 1)
    double.fail("get_records", "AccessDeniedException")
    with pytest.raises(RunnerError) as caught:
        run_on(double, Recorder(), until_idle=1)
    assert caught.value.code == "AccessDeniedException"


def test_a_disabled_stream_ends_the_run_once_every_shard_is_read() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    records = _put(double, shard, 3)
    double.disable()
    recorder = Recorder()
    summary = run_on(double, recorder)  # no until_idle: the stream's end stops it
    assert summary.reason == "stream_disabled"
    assert recorder.sequences == records


def test_the_public_run_finds_the_stream_with_list_streams() -> None:
    double = StreamsDouble(table="scores")
    shard = double.add_shard()
    records = _put(double, shard, 2)
    recorder = Recorder()
    summary = run(recorder, table="scores", streams_client=double, until_idle=0.3, quiet=True)
    assert recorder.sequences == records
    assert summary.stream_arn == double.stream_arn
    assert double.calls_of("list_streams")
    with pytest.raises(RunnerError, match="no stream"):
        run(recorder, table="other", streams_client=double, until_idle=0.1, quiet=True)


def test_empty_pages_of_a_closed_shard_are_read_through_before_the_run_goes_idle() -> None:
    double = StreamsDouble()
    parent = double.add_shard()
    parent_records = _put(double, parent, 2, "P")
    double.close(parent)
    child = double.add_shard(parent)
    child_records = _put(double, child, 2, "C")
    double.empty_pages(parent, 40)  # about 0.8 s of polls, far longer than until_idle
    recorder = Recorder()

    summary = run_on(double, recorder, until_idle=0.1)

    assert recorder.sequences == parent_records + child_records
    assert summary.reason == "idle"
    assert summary.shards_finished == 1


def test_an_empty_shard_is_polled_about_four_times_a_second() -> None:
    double = StreamsDouble(table="scores")
    double.add_shard()
    summary = run(Recorder(), table="scores", streams_client=double, until_idle=1.5, quiet=True)
    reads = [call.at for call in double.calls_of("get_records")]
    rate = (len(reads) - 1) / (reads[-1] - reads[0])
    assert 2.0 <= rate <= 4.05, (len(reads), rate)  # polite: never more than 4 a second
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    assert min(gaps) >= 0.24, gaps
    assert summary.reason == "idle"


def test_a_shard_with_records_is_read_again_at_once() -> None:
    double = StreamsDouble(table="scores", page_size=10)
    shard = double.add_shard()
    records = _put(double, shard, 50)
    recorder = Recorder()
    run(recorder, table="scores", streams_client=double, until_idle=0.5, quiet=True)
    assert recorder.sequences == records
    reads = [call.at for call in double.calls_of("get_records")][:5]  # five full pages
    assert reads[-1] - reads[0] < 0.5  # no quarter-second waits (four would take 1 s)


def _run_in_thread(
    double: StreamsDouble, handler: Any, stop: threading.Event, **options: Any
) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["summary"] = run_on(double, handler, stop_event=stop, **options)
        except BaseException as exc:  # pragma: no cover - reported by the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_a_stop_request_ends_the_backoff_of_the_run_loops_own_calls() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    records = _put(double, shard, 2)
    recorder = Recorder()
    stop = threading.Event()
    thread, result = _run_in_thread(
        double, recorder, stop, throttle_base=0.5, throttle_cap=0.5, discovery_interval=0.05
    )
    recorder.wait_for(2)
    double.fail("describe_stream", "LimitExceededException", times=1_000_000)  # throttled
    deadline = time.monotonic() + 5
    while len(double.calls_of("describe_stream")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # the run loop is now retrying DescribeStream

    stop.set()
    thread.join(timeout=1.5)  # a backoff of 0.5 s at most, then the stop is seen

    assert not thread.is_alive(), "a stop request did not end the DescribeStream retries"
    assert result["summary"].reason == "stopped"
    assert recorder.sequences == records


def test_a_stop_request_during_throttled_startup_ends_the_run_with_nothing_read() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    _put(double, shard, 2)
    double.fail("describe_stream", "LimitExceededException", times=5)  # five of six attempts
    recorder = Recorder()
    stop = threading.Event()
    thread, result = _run_in_thread(double, recorder, stop, throttle_base=1.0, throttle_cap=1.0)
    while not double.calls_of("describe_stream"):
        time.sleep(0.01)

    stop.set()
    thread.join(timeout=1.0)  # the five waits would take 2.5 s or more

    assert not thread.is_alive(), "a stop request did not end the startup retries"
    assert result["summary"].reason == "stopped"
    assert recorder.sequences == []
