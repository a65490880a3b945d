"""The function timeout (``--function-timeout``): the context's countdown, invocations stopped
at the deadline as Lambda stops them, and the threads handlers run on (``runner._timeout``).
``streamflow run --function-timeout`` end to end is in ``test_runner_cli``.

Small timeouts (1 second, Lambda's smallest) keep these tests short; a handler that must
outlive its timeout waits on an event the test sets at the end, so no thread is left behind.
"""

from __future__ import annotations

import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from streamflow.runner._invoke import TIMEOUT_ERROR, Outcome
from streamflow.runner._timeout import Invoker
from tests.streams_double import StreamsDouble, run_on

TIMED_OUT = "Sandbox.Timedout: Task timed out after 1.00 seconds"


def _sequences(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def _events(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines()]


@pytest.fixture
def release() -> Any:
    """Set at the end of the test: handlers held past their timeout wait on it."""
    event = threading.Event()
    yield event
    event.set()


def test_the_context_counts_down_from_the_function_timeout_in_each_invocation() -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    for index in range(2):
        double.put(shard, {"PK": f"K{index}", "SK": "A"})
    readings: list[tuple[int, int]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        first = context.get_remaining_time_in_millis()
        time.sleep(0.2)
        readings.append((first, context.get_remaining_time_in_millis()))

    run_on(double, handler, batch_size=1, function_timeout=3, until_idle=0.1)
    assert len(readings) == 2
    for first, later in readings:  # each invocation starts afresh at 3 000
        assert 2_500 < first <= 3_000
        assert 150 <= first - later < 1_000


def test_the_default_timeout_is_lambdas_largest() -> None:
    double = StreamsDouble()
    double.put(double.add_shard(), {"PK": "K", "SK": "A"})
    readings: list[int] = []
    run_on(double, lambda e, c: readings.append(c.get_remaining_time_in_millis()), until_idle=0.1)
    assert 899_000 < readings[0] <= 900_000


def test_an_invocation_past_its_timeout_fails_and_its_batch_is_delivered_again(
    release: threading.Event,
) -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    records = [double.put(shard, {"PK": f"K{i}", "SK": "A"}) for i in range(3)]
    calls: list[list[str]] = []
    late: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(_sequences(event))
        if len(calls) == 1:  # outlives its timeout, then reports a failure nobody reads
            release.wait(10)
            late.append("returned")
            return {"batchItemFailures": [{"itemIdentifier": records[0]}]}
        return None

    log = io.StringIO()
    started = time.monotonic()
    summary = run_on(double, handler, function_timeout=1, until_idle=0.2, log=log)
    assert 1.0 <= time.monotonic() - started < 5
    assert calls == [records, records]  # the whole batch, again
    assert late == []  # still held: the runner did not wait for it
    assert (summary.invocations, summary.failed_invocations, summary.exit_code) == (2, 1, 0)
    batches = [e for e in _events(log) if e["event"] == "batch"]
    assert [(b["status"], b["attempt"]) for b in batches] == [("failed", 1), ("ok", 2)]
    assert batches[0]["reason"] == TIMED_OUT
    assert 1000 <= batches[0]["durationMs"] < 1500


def test_a_timed_out_batch_is_bisected_and_discarded_as_a_function_error(
    tmp_path: Path, release: threading.Event
) -> None:
    on_failure = tmp_path / "failed.jsonl"
    double = StreamsDouble()
    shard = double.add_shard()
    records = [double.put(shard, {"PK": f"K{i}", "SK": "A"}) for i in range(2)]
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(_sequences(event))
        if records[0] in calls[-1]:  # the slow record: never done in time
            release.wait(10)
        return None

    log = io.StringIO()
    summary = run_on(
        double,
        handler,
        function_timeout=1,
        bisect_on_error=True,
        max_retries=0,
        on_failure=str(on_failure),
        until_idle=0.2,
        log=log,
    )
    assert calls == [records, [records[0]], [records[1]]]
    assert (summary.records_discarded, summary.exit_code) == (1, 1)
    [line] = [json.loads(text) for text in on_failure.read_text().splitlines()]
    assert line["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert line["requestContext"]["approximateInvokeCount"] == 2  # the whole batch, then alone
    assert line["responseContext"]["functionError"] == "Unhandled"
    assert line["DDBStreamBatchInfo"]["startSequenceNumber"] == records[0]
    assert line["DDBStreamBatchInfo"]["batchSize"] == 1
    events = [(e["event"], e.get("status")) for e in _events(log)]
    assert events[-3:] == [("discarded", None), ("batch", "ok"), ("summary", None)]


def test_a_lane_past_its_timeout_does_not_hold_up_the_other_lanes(
    release: threading.Event,
) -> None:
    double = StreamsDouble()
    shard = double.add_shard()
    slow = double.put(shard, {"PK": "slow", "SK": "A"})
    fast = [double.put(shard, {"PK": f"K{i}", "SK": "A"}) for i in range(12)]
    delivered: dict[str, float] = {}
    attempts: list[float] = []
    began = time.monotonic()

    def handler(event: dict[str, Any], context: Any) -> Any:
        numbers = _sequences(event)
        if slow in numbers:
            attempts.append(time.monotonic() - began)
            if len(attempts) == 1:
                release.wait(10)
        for number in numbers:
            delivered.setdefault(number, time.monotonic() - began)

    summary = run_on(
        double, handler, batch_size=1, parallelization_factor=4, function_timeout=1, until_idle=0.2
    )
    assert set(delivered) == {slow, *fast}
    # Other lanes went on while "slow" was stuck (its own lane's later records waited).
    assert [number for number in fast if delivered[number] < 0.9]
    assert len(attempts) == 2
    assert attempts[1] >= 1.0
    assert summary.failed_invocations == 1


def test_a_stop_waits_for_a_stuck_invocation_until_its_timeout_only(
    release: threading.Event,
) -> None:
    double = StreamsDouble()
    double.put(double.add_shard(), {"PK": "K", "SK": "A"})
    stop = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> Any:
        stop.set()  # stop while this invocation is in flight
        release.wait(10)

    started = time.monotonic()
    summary = run_on(double, handler, function_timeout=1, stop_event=stop)
    assert 1.0 <= time.monotonic() - started < 3
    assert (summary.reason, summary.invocations, summary.failed_invocations) == ("stopped", 1, 1)


# --- the invoker --------------------------------------------------------------------------


def _start(invoker: Invoker) -> Any:
    return invoker.start({"Records": []}, None, sequence_numbers=[], windowed=False)


def test_one_shards_invocations_run_on_one_reused_thread() -> None:
    threads: list[int] = []
    invoker = Invoker(lambda event, context: threads.append(threading.get_ident()), timeout=5)
    try:
        for _ in range(20):
            invocation = _start(invoker)
            invocation.wait()
            assert invocation.result()[0] == Outcome("ok")
    finally:
        invoker.close()
    assert len(set(threads)) == 1
    assert threading.get_ident() not in threads


def test_a_call_past_its_deadline_keeps_its_thread_and_the_next_call_gets_another() -> None:
    release = threading.Event()
    threads: list[int] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        threads.append(threading.get_ident())
        if len(threads) == 1:
            release.wait(10)
            raise RuntimeError("too late to count")

    invoker = Invoker(handler, timeout=0.05)
    try:
        stuck = _start(invoker)
        stuck.wait()
        outcome, duration = stuck.result()
        assert (outcome.status, outcome.function_error) == ("failed", TIMEOUT_ERROR)
        assert outcome.reason == "Sandbox.Timedout: Task timed out after 0.05 seconds"
        assert duration == pytest.approx(0.05)
        after = _start(invoker)
        after.wait()
        assert after.result()[0] == Outcome("ok")
        release.set()
        deadline = time.monotonic() + 5
        while not stuck.done():
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert stuck.result()[0].function_error == TIMEOUT_ERROR  # what it raised: ignored
    finally:
        release.set()
        invoker.close()
    assert len(set(threads)) == 2


def test_a_keyboard_interrupt_in_the_handler_reaches_the_waiting_thread() -> None:
    def handler(event: dict[str, Any], context: Any) -> Any:
        raise KeyboardInterrupt

    invoker = Invoker(handler, timeout=5)
    try:
        invocation = _start(invoker)
        invocation.wait()
        with pytest.raises(KeyboardInterrupt):
            invocation.result()
    finally:
        invoker.close()


def test_closing_ends_the_idle_threads() -> None:
    before = threading.active_count()
    invoker = Invoker(lambda event, context: None, timeout=5)
    invocations = [_start(invoker) for _ in range(3)]
    for invocation in invocations:
        invocation.wait()
    invoker.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before:
        assert time.monotonic() < deadline, "an invoker thread outlived close()"
        time.sleep(0.01)


def test_a_router_under_the_function_timeout_defers_and_nothing_is_applied_twice() -> None:
    """End to end: a Router whose records take longer than the function timeout allows
    answers before it with the unstarted records deferred; the runner delivers them again,
    and each record is applied exactly once, with no invocation timed out."""
    from collections import Counter

    from streamflow import Router, StreamRecord
    from streamflow.filters import Filter

    double = StreamsDouble()
    shard = double.add_shard()
    for index in range(8):
        double.put(shard, {"PK": f"K{index}", "SK": "A"})
    router = Router(time_margin=0.5)
    applied: Counter[str] = Counter()

    @router.on(Filter.events("INSERT"))
    def slow(record: StreamRecord) -> None:
        time.sleep(0.3)
        applied[record.keys["PK"]] += 1

    log = io.StringIO()
    summary = run_on(double, router, batch_size=8, function_timeout=1, until_idle=0.2, log=log)
    assert applied == Counter({f"K{index}": 1 for index in range(8)})
    batches = [e for e in _events(log) if e.get("event") == "batch"]
    assert len(batches) >= 3  # about two records fit in each 1 s invocation with 0.5 s kept
    assert all(TIMED_OUT not in json.dumps(e) for e in batches)
    assert summary.records_discarded == 0
    assert {e["status"] for e in batches} <= {"ok", "partial"}  # deferred, never timed out
