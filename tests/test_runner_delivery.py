"""Delivery as Lambda does it: batching, filters, responses, retries, bisection, on-failure
records, record age, parallelization and tumbling windows (against the Streams test double,
so that failures and timing are exact)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest

from streamflow import Router, StreamRecord
from streamflow.filters import Filter
from tests.streams_double import Recorder, StreamsDouble, run_on


def _shard_with(count: int, **put: Any) -> tuple[StreamsDouble, str, list[str]]:
    double = StreamsDouble()
    shard = double.add_shard()
    records = [
        double.put(shard, {"PK": f"K{i}", "SK": "A"}, new={"n": i}, **put) for i in range(count)
    ]
    return double, shard, records


def _sequences(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def _lines(path: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in open(path)]


# --- batches --------------------------------------------------------------------------------


def test_batches_hold_up_to_batch_size_records_in_order() -> None:
    double, _, records = _shard_with(7)
    recorder = Recorder()
    run_on(double, recorder, batch_size=3, until_idle=0.2)
    assert [_sequences(e) for e in recorder.events] == [records[:3], records[3:6], records[6:]]
    event = recorder.events[0]
    assert list(event) == ["Records"]
    assert event["Records"][0]["eventSourceARN"] == double.stream_arn
    assert event["Records"][0]["awsRegion"] == "eu-west-1"


def test_the_batching_window_gathers_records_that_arrive_within_it() -> None:
    double, shard, first = _shard_with(1)
    recorder = Recorder()
    done: list[Any] = []
    thread = threading.Thread(
        target=lambda: done.append(run_on(double, recorder, batching_window=0.6, until_idle=0.3))
    )
    thread.start()
    time.sleep(0.2)
    later = [double.put(shard, {"PK": "L", "SK": str(i)}) for i in range(2)]
    thread.join(10)
    assert [_sequences(e) for e in recorder.events] == [first + later]


def test_a_batch_never_exceeds_the_6_mb_payload_limit() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    big = "x" * 390_000
    for i in range(10):  # about 780 KB of JSON each
        double.put(shard, {"PK": f"K{i}", "SK": "A"}, new={"v": big}, old={"v": big})
    recorder = Recorder()
    run_on(double, recorder, batch_size=100, until_idle=0.2)
    sizes = [len(json.dumps(e, separators=(",", ":"))) for e in recorder.events]
    assert [len(e["Records"]) for e in recorder.events] == [8, 2]
    assert max(sizes) <= 6 * 1024 * 1024


def test_a_tumbling_windows_state_counts_against_the_6_mb_payload_limit() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    big = "x" * 390_000
    for i in range(16):  # about 780 KB of JSON each, all in the current 15-minute window
        double.put(shard, {"PK": f"K{i}", "SK": "A"}, new={"v": big}, old={"v": big})
    double.close(shard)
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(event)
        return {"state": {"seen": "s" * 1_000_000}}  # just under the 1 MB state limit

    run_on(double, handler, batch_size=100, tumbling_window=900, until_idle=0.2)
    sizes = [len(json.dumps(e, separators=(",", ":"))) for e in calls]
    assert max(sizes) <= 6 * 1024 * 1024, sizes
    assert [len(e["Records"]) for e in calls] == [8, 6, 2, 0]  # the last closes the window
    assert calls[-1]["isFinalInvokeForWindow"] is True


# --- filters --------------------------------------------------------------------------------


def test_filtered_out_records_are_never_delivered_and_are_checkpointed_past(tmp_path: Any) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    double = StreamsDouble()
    shard = double.add_shard()
    inserted = double.put(shard, {"PK": "A", "SK": "1"}, new={"n": 1})
    double.put(shard, {"PK": "A", "SK": "1"}, new={"n": 2}, old={"n": 1}, event="MODIFY")
    last = double.put(shard, {"PK": "A", "SK": "1"}, old={"n": 2}, event="REMOVE")
    router = Router()
    seen: list[StreamRecord] = []
    router.on(Filter.insert())(seen.append)
    recorder_events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        recorder_events.append(event)
        return router.lambda_handler(event, context)

    summary = run_on(
        double,
        handler,
        filters=router.filter_criteria(),
        checkpoint=str(checkpoint),
        until_idle=0.2,
    )
    assert [r.sequence_number for r in seen] == [inserted]
    assert [_sequences(e) for e in recorder_events] == [[inserted]]
    assert (summary.records_read, summary.records_kept, summary.records_dropped) == (3, 1, 2)
    saved = json.loads(checkpoint.read_text())["streams"][double.stream_arn]["shards"][shard]
    assert saved["sequenceNumber"] == last  # the dropped tail is checkpointed past


def test_a_router_brings_its_own_filters() -> None:
    double, shard, _ = _shard_with(0)
    kept = double.put(shard, {"PK": "ORDER#1", "SK": "A"}, new={"n": 1})
    double.put(shard, {"PK": "USER#1", "SK": "A"}, new={"n": 1})
    router = Router()
    seen: list[str] = []
    router.on(Filter.key("PK", "ORDER#1"))(lambda record: seen.append(record.sequence_number))
    summary = run_on(double, router, until_idle=0.2)
    assert seen == [kept]
    assert summary.records_dropped == 1


# --- responses ------------------------------------------------------------------------------


def test_batch_item_failures_checkpoint_before_the_lowest_and_retry_from_it() -> None:
    double, _, records = _shard_with(5)
    events: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(_sequences(event))
        if len(events) == 1:  # the highest first: Lambda takes the lowest
            return {
                "batchItemFailures": [
                    {"itemIdentifier": records[3]},
                    {"itemIdentifier": records[2]},
                ]
            }
        return {"batchItemFailures": []}

    summary = run_on(double, handler, until_idle=0.2)
    assert events == [records, records[2:]]
    assert summary.failed_invocations == 1


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemId": "x"}]},
        {"batchItemFailures": [{"itemIdentifier": "123456789012345678901"}]},
        {"batchItemFailures": "oops"},
    ],
    ids=["empty", "null", "bad-key", "not-in-batch", "not-a-list"],
)
def test_a_malformed_failure_report_fails_the_whole_batch(response: dict[str, Any]) -> None:
    double, _, records = _shard_with(3)
    events: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(_sequences(event))
        return response if len(events) == 1 else None

    run_on(double, handler, until_idle=0.2)
    assert events == [records, records]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": None}, "ok"])
def test_empty_and_null_responses_are_successes(response: Any) -> None:
    double, _, records = _shard_with(2)
    events: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        events.append(_sequences(event))
        return response

    assert run_on(double, handler, until_idle=0.2).failed_invocations == 0
    assert events == [records]


def test_an_exception_fails_and_retries_the_whole_batch_with_backoff() -> None:
    double, _, records = _shard_with(3)
    calls: list[tuple[list[str], float]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append((_sequences(event), time.monotonic()))
        if len(calls) < 3:
            raise RuntimeError("downstream is down")
        return None

    log = io.StringIO()
    summary = run_on(double, handler, retry_base=0.05, retry_cap=1, until_idle=0.2, log=log)
    assert [c[0] for c in calls] == [records] * 3
    assert calls[1][1] - calls[0][1] >= 0.05
    assert calls[2][1] - calls[1][1] >= 0.1
    assert summary.failed_invocations == 2
    batches = [json.loads(line) for line in log.getvalue().splitlines()]
    failed = [b for b in batches if b["event"] == "batch" and b["status"] == "failed"]
    assert failed[0]["reason"] == "RuntimeError: downstream is down"
    assert [b["attempt"] for b in failed] == [1, 2]


class Poisoned(NamedTuple):
    """A shard whose first records fail, and a handler that records what it gets."""

    double: StreamsDouble
    shard: str
    records: list[str]  # the first records; a batch holding records[0] fails
    after: str  # one more record, which succeeds
    delivered: list[list[str]]  # the sequence numbers of each batch delivered
    handler: Any


def _poisoned(count: int, fail: Callable[[], object]) -> Poisoned:
    """``count`` records then one more, and a handler that calls ``fail`` on every batch
    holding the first record."""
    double, shard, records = _shard_with(count)
    after = double.put(shard, {"PK": "Z", "SK": "A"})
    delivered: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        delivered.append(_sequences(event))
        if records[0] in delivered[-1]:
            fail()
        return None

    return Poisoned(double, shard, records, after, delivered, handler)


def _raise(exc: BaseException) -> Callable[[], object]:
    def raiser() -> None:
        raise exc

    return raiser


def test_exhausted_retries_write_lambdas_on_failure_record_and_move_on(tmp_path: Any) -> None:
    on_failure = tmp_path / "failed.jsonl"
    double, shard, records, after, delivered, handler = _poisoned(3, _raise(ValueError("poison")))
    summary = run_on(
        double, handler, batch_size=3, max_retries=2, on_failure=str(on_failure), until_idle=0.2
    )
    assert delivered == [records] * 3 + [[after]]  # the first try and two retries
    assert summary.records_discarded == 3
    assert summary.exit_code == 1
    [line] = _lines(on_failure)
    assert list(line) == [
        "requestContext",
        "responseContext",
        "version",
        "timestamp",
        "DDBStreamBatchInfo",
    ]
    assert line["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert line["requestContext"]["approximateInvokeCount"] == 3
    assert line["requestContext"]["functionArn"] == (
        "arn:aws:lambda:eu-west-1:123456789012:function:streamflow-local"
    )
    assert line["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert line["version"] == "1.0"
    dt.datetime.strptime(line["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    info = line["DDBStreamBatchInfo"]
    arrival = info.pop("approximateArrivalOfFirstRecord")
    assert info.pop("approximateArrivalOfLastRecord") >= arrival
    dt.datetime.strptime(arrival, "%Y-%m-%dT%H:%M:%SZ")
    assert info == {
        "shardId": shard,
        "startSequenceNumber": records[0],
        "endSequenceNumber": records[2],
        "batchSize": 3,
        "streamArn": double.stream_arn,
    }


class Abort(BaseException):
    """A handler's own BaseException that is not an Exception."""


def _cancelled() -> None:
    """Raise asyncio.CancelledError from async code, as a handler that runs its work with
    ``asyncio.run`` sees it when a task it awaits is cancelled."""

    async def work() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        await asyncio.sleep(0)

    asyncio.run(work())


RAISED: dict[str, tuple[Any, str]] = {
    "exception": (_raise(ValueError("no")), "ValueError: no"),
    "cancelled-in-async-code": (_cancelled, "CancelledError: "),
    "system-exit": (_raise(SystemExit(3)), "SystemExit: 3"),
    "generator-exit": (_raise(GeneratorExit("closed")), "GeneratorExit: closed"),
    "custom-base-exception": (_raise(Abort("stop")), "Abort: stop"),
}


@pytest.mark.parametrize("kind", list(RAISED))
def test_whatever_a_handler_raises_is_a_function_error_that_fails_its_batch(
    tmp_path: Any, kind: str
) -> None:
    raiser, reason = RAISED[kind]
    on_failure = tmp_path / "failed.jsonl"
    double, _, records, after, delivered, handler = _poisoned(2, raiser)
    log = io.StringIO()
    summary = run_on(
        double,
        handler,
        batch_size=2,
        max_retries=1,
        on_failure=str(on_failure),
        until_idle=0.2,
        log=log,
    )
    assert delivered == [records, records, [after]]  # tried, retried, discarded; the run goes on
    assert (summary.invocations, summary.failed_invocations) == (3, 2)
    assert (summary.records_discarded, summary.exit_code) == (2, 1)
    [line] = _lines(on_failure)
    assert line["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert line["requestContext"]["approximateInvokeCount"] == 2
    assert line["responseContext"]["functionError"] == "Unhandled"
    events = [json.loads(text) for text in log.getvalue().splitlines()]
    batches = [
        (e["status"], e["attempt"], e.get("reason")) for e in events if e["event"] == "batch"
    ]
    assert batches == [("failed", 1, reason), ("failed", 2, reason), ("ok", 1, None)]
    assert [e["event"] for e in events if e["event"] in ("discarded", "summary", "error")] == [
        "discarded",
        "summary",
    ]
    assert events[-1]["event"] == "summary"
    assert events[-1]["exitCode"] == 1


def test_a_handlers_keyboard_interrupt_still_interrupts_the_run() -> None:
    double, _, _ = _shard_with(1)

    def handler(event: dict[str, Any], context: Any) -> Any:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_on(double, handler, until_idle=5)


def test_a_router_whose_async_handler_is_cancelled_fails_only_as_a_failed_batch(
    tmp_path: Any,
) -> None:
    on_failure = tmp_path / "failed.jsonl"
    double, _, records = _shard_with(2)
    router = Router()

    @router.on(Filter.insert())
    async def cancelled(record: StreamRecord) -> None:
        raise asyncio.CancelledError

    log = io.StringIO()
    summary = run_on(
        double, router, max_retries=1, on_failure=str(on_failure), until_idle=0.2, log=log
    )
    assert (summary.records_discarded, summary.exit_code) == (2, 1)
    [line] = _lines(on_failure)
    assert line["DDBStreamBatchInfo"]["startSequenceNumber"] == records[0]
    events = [json.loads(text)["event"] for text in log.getvalue().splitlines()]
    assert "error" not in events
    assert events[-1] == "summary"


def test_partial_failures_that_exhaust_retries_discard_from_the_failed_record(
    tmp_path: Any,
) -> None:
    on_failure = tmp_path / "failed.jsonl"
    double, _, records = _shard_with(4)
    delivered: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        delivered.append(_sequences(event))
        if records[2] in delivered[-1]:
            return {"batchItemFailures": [{"itemIdentifier": records[2]}]}
        return None

    run_on(double, handler, max_retries=1, on_failure=str(on_failure), until_idle=0.2)
    assert delivered == [records, records[2:], ]  # fmt: skip
    [line] = _lines(on_failure)
    assert line["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": None,  # as AWS writes it for a batch failed by its response
    }
    assert line["DDBStreamBatchInfo"]["startSequenceNumber"] == records[2]
    assert line["DDBStreamBatchInfo"]["batchSize"] == 2


def test_bisect_on_error_splits_until_the_poison_record_is_alone(tmp_path: Any) -> None:
    on_failure = tmp_path / "failed.jsonl"
    double, _, records = _shard_with(4)
    delivered: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        delivered.append(_sequences(event))
        if records[2] in delivered[-1]:
            raise ValueError("poison")
        return None

    run_on(
        double,
        handler,
        bisect_on_error=True,
        max_retries=1,
        on_failure=str(on_failure),
        until_idle=0.2,
    )
    a, b, c, d = records
    assert delivered == [[a, b, c, d], [a, b], [c, d], [c], [c], [d]]
    [line] = _lines(on_failure)
    assert line["DDBStreamBatchInfo"]["startSequenceNumber"] == c
    assert line["DDBStreamBatchInfo"]["batchSize"] == 1


def test_records_older_than_the_maximum_age_are_discarded_unseen(tmp_path: Any) -> None:
    on_failure = tmp_path / "failed.jsonl"
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    double, shard, records = _shard_with(2, created=old)
    fresh = double.put(shard, {"PK": "new", "SK": "A"})
    recorder = Recorder()
    summary = run_on(
        double, recorder, max_record_age=60, on_failure=str(on_failure), until_idle=0.2
    )
    assert recorder.sequences == [fresh]
    [line] = _lines(on_failure)
    assert line["requestContext"]["condition"] == "RecordAgeExceeded"
    assert line["requestContext"]["approximateInvokeCount"] == 0
    assert "responseContext" not in line
    assert line["DDBStreamBatchInfo"]["startSequenceNumber"] == records[0]
    assert line["DDBStreamBatchInfo"]["endSequenceNumber"] == records[1]
    assert summary.records_discarded == 2


def test_expired_records_are_reported_in_batches_of_at_most_the_batch_size(
    tmp_path: Any,
) -> None:
    on_failure = tmp_path / "failed.jsonl"
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    double, _, records = _shard_with(10, created=old)
    summary = run_on(
        double,
        Recorder(),
        batch_size=4,
        max_record_age=60,
        on_failure=str(on_failure),
        until_idle=0.2,
    )
    infos = [line["DDBStreamBatchInfo"] for line in _lines(on_failure)]
    assert [info["batchSize"] for info in infos] == [4, 4, 2]
    assert [(i["startSequenceNumber"], i["endSequenceNumber"]) for i in infos] == [
        (records[0], records[3]),
        (records[4], records[7]),
        (records[8], records[9]),
    ]
    assert summary.records_discarded == 10


def test_without_an_on_failure_file_discarded_records_are_only_reported() -> None:
    double, _, _ = _shard_with(1)
    log = io.StringIO()

    def handler(event: dict[str, Any], context: Any) -> None:
        raise ValueError("no")

    summary = run_on(double, handler, max_retries=0, until_idle=0.2, log=log)
    assert summary.records_discarded == 1
    assert summary.invocations == 1
    assert '"event": "discarded"' in log.getvalue()


def test_each_invocation_gets_a_fresh_event_a_handler_cannot_spoil() -> None:
    double, _, _ = _shard_with(2)
    seen: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        seen.append(json.dumps(event, sort_keys=True))
        event["Records"][0]["dynamodb"]["Keys"] = "changed"
        event["Records"].pop()
        if len(seen) == 1:
            raise ValueError("retry me")

    run_on(double, handler, until_idle=0.2)
    assert len(seen) == 2
    assert seen[0] == seen[1]


# --- the context ------------------------------------------------------------------------------


def test_the_handler_gets_a_lambda_like_context() -> None:
    double, _, _ = _shard_with(1)
    contexts: list[Any] = []
    run_on(double, lambda event, context: contexts.append(context), until_idle=0.2)
    [context] = contexts
    assert context.function_name == "streamflow-local"
    assert context.invoked_function_arn.startswith("arn:aws:lambda:eu-west-1:123456789012:")
    assert len(context.aws_request_id) == 36
    assert 0 < context.get_remaining_time_in_millis() <= 900_000


# --- parallelization --------------------------------------------------------------------------


def test_parallel_batches_keep_each_partition_keys_order(tmp_path: Any) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    double = StreamsDouble()
    shard = double.add_shard()
    keys = [f"K{i}" for i in range(8)]
    written: dict[str, list[str]] = {key: [] for key in keys}
    for version in range(6):
        for key in keys:  # SK differs: ordering is per partition key, not per item
            written[key].append(double.put(shard, {"PK": key, "SK": f"v{version}"}))
    delivered: dict[str, list[str]] = {key: [] for key in keys}
    lock = threading.Lock()
    running = [0, 0]  # now, most at once
    stuck = written["K0"][1]
    attempts = [0]
    checkpoints_seen: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        with lock:
            running[0] += 1
            running[1] = max(running)
        time.sleep(0.02)
        try:
            numbers = _sequences(event)
            failing = stuck in numbers and attempts[0] < 3
            if attempts[0] < 3 and checkpoint.exists():
                shards = json.loads(checkpoint.read_text())["streams"][double.stream_arn]["shards"]
                checkpoints_seen.append(int(shards[shard]["sequenceNumber"]))
            with lock:
                for record in event["Records"]:
                    if failing and record["dynamodb"]["SequenceNumber"] == stuck:
                        attempts[0] += 1
                        return {"batchItemFailures": [{"itemIdentifier": stuck}]}
                    key = record["dynamodb"]["Keys"]["PK"]["S"]
                    delivered[key].append(record["dynamodb"]["SequenceNumber"])
            return None
        finally:
            with lock:
                running[0] -= 1

    run_on(
        double,
        handler,
        batch_size=3,
        parallelization_factor=4,
        checkpoint=str(checkpoint),
        until_idle=0.3,
    )
    for key in keys:
        assert delivered[key] == written[key], key
    assert running[1] > 1
    assert checkpoints_seen
    assert max(checkpoints_seen) < int(stuck)


# --- tumbling windows -------------------------------------------------------------------------


def _aligned(seconds: int, *, base: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(base + seconds, dt.timezone.utc)


def _minute_base() -> int:
    """A minute boundary ten minutes ago, computed once per test so no clock tick shifts it."""
    return (int(time.time()) // 60 - 10) * 60


def test_tumbling_windows_pass_state_and_close_each_window_with_a_final_call() -> None:
    base = _minute_base()
    double = StreamsDouble()
    shard = double.add_shard()
    first = [
        double.put(shard, {"PK": f"A{i}", "SK": "1"}, created=_aligned(5 + i, base=base))
        for i in range(3)
    ]
    second = [double.put(shard, {"PK": "B", "SK": "1"}, created=_aligned(65, base=base))]
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(event)
        count = event["state"].get("count", 0) + len(event["Records"])
        return {"state": {"count": count}, "batchItemFailures": []}

    run_on(double, handler, batch_size=2, tumbling_window=60, until_idle=0.3)
    one = _aligned(0, base=base).strftime("%Y-%m-%dT%H:%M:%SZ")
    two = _aligned(60, base=base).strftime("%Y-%m-%dT%H:%M:%SZ")
    seen = [
        (_sequences(e), e["state"], e["isFinalInvokeForWindow"], e["window"]["start"])
        for e in calls
    ]
    assert seen == [
        (first[:2], {}, False, one),
        (first[2:], {"count": 2}, False, one),
        ([], {"count": 3}, True, one),
        (second, {}, False, two),
        ([], {"count": 1}, True, two),  # its end has passed and the shard is caught up
    ]
    assert not any(e["isWindowTerminatedEarly"] for e in calls)
    assert calls[0]["shardId"] == shard
    assert calls[0]["eventSourceARN"] == double.stream_arn
    window = calls[0]["window"]
    start = dt.datetime.fromisoformat(window["start"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(window["end"].replace("Z", "+00:00"))
    assert end - start == dt.timedelta(seconds=60)
    assert start.second == 0


def test_a_window_without_state_in_the_response_is_a_failed_invocation() -> None:
    base = _minute_base()
    double = StreamsDouble()
    shard = double.add_shard()
    double.put(shard, {"PK": "A", "SK": "1"}, created=_aligned(1, base=base))
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(event)
        return None if len(calls) == 1 else {"state": {}}

    summary = run_on(double, handler, tumbling_window=60, until_idle=0.2)
    assert summary.failed_invocations == 1
    assert len(calls[0]["Records"]) == len(calls[1]["Records"]) == 1


def test_a_shard_ending_inside_a_window_terminates_it_early() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    double.put(shard, {"PK": "A", "SK": "1"})  # now: the 15-minute window is still open
    double.close(shard)
    calls: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(event)
        return {"state": {"n": len(calls)}}

    run_on(double, handler, tumbling_window=900, until_idle=0.2)
    assert [(len(c["Records"]), c["isFinalInvokeForWindow"]) for c in calls] == [
        (1, False),
        (0, True),
    ]
    assert calls[1]["isWindowTerminatedEarly"] is True
    assert calls[1]["state"] == {"n": 1}


def test_a_router_window_route_keeps_its_state_across_invocations() -> None:
    base = _minute_base()
    double = StreamsDouble()
    shard = double.add_shard()
    for i in range(3):
        double.put(shard, {"PK": f"A{i}", "SK": "1"}, created=_aligned(i, base=base))
    router = Router()

    @router.on_window(Filter.insert())
    def count(records: list[StreamRecord], state: dict[str, Any], window: Any) -> dict[str, Any]:
        return {"n": state.get("n", 0) + len(records)}

    states: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        states.append(event["state"])
        return router.lambda_handler(event, context)

    run_on(double, handler, batch_size=1, tumbling_window=60, until_idle=0.2)
    assert states == [{}, {"count": {"n": 1}}, {"count": {"n": 2}}, {"count": {"n": 3}}]


# --- starting position and stopping ---------------------------------------------------------


def test_latest_skips_records_written_before_the_start(tmp_path: Any) -> None:
    double, shard, _ = _shard_with(3)
    recorder = Recorder()
    stop = threading.Event()
    thread = threading.Thread(
        target=lambda: run_on(
            double,
            recorder,
            starting_position="LATEST",
            checkpoint=str(tmp_path / "c.json"),
            stop_event=stop,
        )
    )
    thread.start()
    deadline = time.monotonic() + 5
    while not double.calls_of("get_records"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    later = double.put(shard, {"PK": "late", "SK": "A"})
    recorder.wait_for(1)
    stop.set()
    thread.join(10)
    assert recorder.sequences == [later]


def test_a_stop_request_finishes_the_batch_in_flight_and_checkpoints_it(tmp_path: Any) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    double, shard, records = _shard_with(6)
    stop = threading.Event()
    delivered: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        stop.set()  # asked to stop while this batch runs
        time.sleep(0.1)
        delivered.append(_sequences(event))

    summary = run_on(double, handler, batch_size=2, checkpoint=str(checkpoint), stop_event=stop)
    assert summary.reason == "stopped"
    assert delivered == [records[:2]]
    saved = json.loads(checkpoint.read_text())["streams"][double.stream_arn]["shards"][shard]
    assert saved["sequenceNumber"] == records[1]
