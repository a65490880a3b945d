"""streamflow.router: dispatch, partial batch failures, windows, recursion safety."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import logging
import threading
import time
from typing import Any, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow import Router, StreamRecord, parse_event, testing
from streamflow.errors import (
    FilterValidationError,
    RecordShapeError,
    RecursionRiskError,
    UnmatchedRecordError,
)
from streamflow.filters import Filter, FilterCriteria, prefix
from streamflow.router._report import emit_metrics


def scores(count: int, **kwargs: Any) -> dict[str, Any]:
    changes = [
        testing.insert({"PK": f"SCORE#{i}", "SK": f"USER#{i % 3}", "points": i})
        for i in range(count)
    ]
    return testing.event(*changes, **kwargs)


def numbers(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


def failing_at(*positions: int) -> tuple[Router, list[int]]:
    router = Router()
    handled: list[int] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        points = record.new_value("points")
        if points in positions:
            raise ValueError(f"boom at {points}")
        handled.append(points)

    return router, handled


# --- partial failures ----------------------------------------------------------------------


@pytest.mark.parametrize("position", [0, 4, 9])
def test_stop_mode_reports_the_failure_and_everything_after(position: int) -> None:
    router, handled = failing_at(position)
    event = scores(10)
    response = router.lambda_handler(event, None)
    expected = numbers(event)[position:]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == expected
    assert handled == list(range(position))  # nothing processed ahead of the failure


def test_no_failure_reports_nothing() -> None:
    router, handled = failing_at()
    assert router.lambda_handler(scores(5), None) == {"batchItemFailures": []}
    assert handled == [0, 1, 2, 3, 4]


def test_continue_mode_processes_the_rest_and_reports_from_the_lowest() -> None:
    router = Router(failure_mode="continue")
    handled: list[int] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        if record.new_value("points") in (3, 6):
            raise ValueError("boom")
        handled.append(record.new_value("points"))

    event = scores(8)
    result = router.process(event["Records"])
    assert handled == [0, 1, 2, 4, 5, 7]
    assert list(result.reported) == numbers(event)[3:]
    assert (result.failed, result.succeeded, result.not_attempted) == (2, 6, 0)


def test_counts_and_failures_in_the_result() -> None:
    router, _ = failing_at(2)
    event = scores(6)
    result = router.process(event["Records"])
    assert result.received == 6
    assert result.per_route == {"handle": 6}
    assert (result.succeeded, result.failed, result.not_attempted, result.unmatched) == (2, 1, 3, 0)
    [failure] = result.failures
    assert (failure.index, failure.route) == (2, "handle")
    assert failure.sequence_number == numbers(event)[2]
    assert isinstance(failure.error, ValueError)
    assert result.iterator_age is not None
    assert result.iterator_age >= 0
    assert result.duration > 0


def test_unreadable_record_fails_at_its_position_and_is_never_dropped() -> None:
    router, handled = failing_at()
    event = scores(5)
    del event["Records"][2]["eventName"]
    result = router.process(event["Records"])
    assert handled == [0, 1]
    assert list(result.reported) == numbers(event)[2:]
    assert isinstance(result.failures[0].error, RecordShapeError)
    assert result.failures[0].route is None


def test_record_without_sequence_number_fails_the_whole_batch() -> None:
    router, _ = failing_at()
    event = scores(3)
    del event["Records"][0]["dynamodb"]["SequenceNumber"]
    with pytest.raises(RecordShapeError, match="failing the whole batch"):
        router.lambda_handler(event, None)


def test_failed_record_without_sequence_number_reports_from_the_one_before() -> None:
    router, _ = failing_at()
    event = scores(4)
    del event["Records"][2]["dynamodb"]["SequenceNumber"]
    result = router.process(event["Records"])
    expected = numbers({"Records": event["Records"][:2]})[1:] + numbers(
        {"Records": event["Records"][3:]}
    )
    assert list(result.reported) == expected


@dataclasses.dataclass
class Score:
    PK: str
    points: int


def test_model_errors_fail_the_record() -> None:
    router = Router()
    seen: list[Score] = []

    @router.on(Filter.insert())
    def handle(score: Score) -> None:
        seen.append(score)

    event = testing.event(
        testing.insert({"PK": "SCORE#1", "SK": "U", "points": 1}),
        testing.insert({"PK": "SCORE#2", "SK": "U", "points": "many"}),
        testing.insert({"PK": "SCORE#3", "SK": "U", "points": 3}),
    )
    result = router.process(event["Records"])
    assert seen == [Score("SCORE#1", 1)]
    assert result.failures[0].index == 1
    assert "points" in str(result.failures[0].error)
    assert list(result.reported) == numbers(event)[1:]


@given(
    size=st.integers(min_value=1, max_value=25),
    failing=st.sets(st.integers(min_value=0, max_value=24)),
)
@settings(max_examples=150, deadline=None)
def test_redelivery_processes_every_record_exactly_once(size: int, failing: set[int]) -> None:
    """Each position fails once; Lambda retries from the lowest reported record."""
    router = Router()
    applied: list[int] = []
    failed_once: set[int] = set()
    failing = {p for p in failing if p < size}

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        position = record.new_value("points")
        if position in failing and position not in failed_once:
            failed_once.add(position)
            raise RuntimeError("transient")
        applied.append(position)

    batch = scores(size)["Records"]
    for _ in range(size + 1):
        fresh = [p for p in sorted(failing) if p not in failed_once]
        response = router.lambda_handler({"Records": batch}, None)
        reported = [f["itemIdentifier"] for f in response["batchItemFailures"]]
        sent = [r["dynamodb"]["SequenceNumber"] for r in batch]
        positions = [int(r["dynamodb"]["NewImage"]["points"]["N"]) for r in batch]
        if not fresh:
            assert reported == []
            break
        lowest = positions.index(fresh[0])
        assert reported == sent[lowest:]  # exactly the lowest failure and all after it
        batch = batch[lowest:]  # Lambda checkpoints before it and redelivers from there
    assert applied == list(range(size))


# --- dispatch --------------------------------------------------------------------------------


def mixed_event() -> dict[str, Any]:
    return testing.event(
        testing.insert({"PK": "SCORE#1", "SK": "USER#1", "points": 5}),
        testing.modify(
            {"PK": "USER#1", "SK": "TOTAL", "total": 0}, {"PK": "USER#1", "SK": "TOTAL", "total": 5}
        ),
        testing.remove({"PK": "SCORE#0", "SK": "USER#1", "points": 1}),
        testing.insert({"PK": "TASK#x", "SK": "TASK#x"}),
    )


def test_first_match_dispatch_and_unmatched_are_counted() -> None:
    router = Router()
    calls: list[tuple[str, str]] = []

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def scored(record: StreamRecord) -> None:
        calls.append(("scored", record.keys["PK"]))

    @router.on(Filter.events("INSERT", "MODIFY"))
    def anything(record: StreamRecord) -> None:
        calls.append(("anything", record.keys["PK"]))

    result = router.process(mixed_event()["Records"])
    assert calls == [("scored", "SCORE#1"), ("anything", "USER#1"), ("anything", "TASK#x")]
    assert result.unmatched == 1
    assert result.per_route == {"scored": 1, "anything": 2}
    assert result.succeeded == 3


def test_all_dispatch_runs_every_matching_route() -> None:
    router = Router(dispatch="all")
    calls: list[str] = []

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def scored(record: StreamRecord) -> None:
        calls.append("scored")

    @router.on(Filter.events("INSERT"))
    def inserted(record: StreamRecord) -> None:
        calls.append("inserted")

    router.process(mixed_event()["Records"])
    assert calls == ["scored", "inserted", "inserted"]


def test_unmatched_records_can_be_errors() -> None:
    router = Router(on_unmatched="error")

    @router.on(Filter.insert())
    def inserted(record: StreamRecord) -> None:
        pass

    event = mixed_event()
    result = router.process(event["Records"])
    assert isinstance(result.failures[0].error, UnmatchedRecordError)
    assert list(result.reported) == numbers(event)[1:]


class Total(TypedDict):
    PK: str
    total: int


def test_handler_arguments_model_record_and_context() -> None:
    router = Router()
    got: list[Any] = []

    @router.on(Filter.events("MODIFY"))
    def total_changed(total: Total, record: StreamRecord, context: Any) -> None:
        got.append((total, record.event_name.value, context))

    @router.on(Filter.events("REMOVE"), model=Score)
    def removed(score: Any) -> None:
        got.append(score)

    router.lambda_handler(mixed_event(), "the-context")
    assert got == [({"PK": "USER#1", "total": 5}, "MODIFY", "the-context"), Score("SCORE#0", 1)]


def test_a_model_is_the_changed_item_never_the_image_before_a_modify() -> None:
    router = Router()
    got: list[Any] = []

    @router.on(FilterCriteria(), model=Total)
    def changed(total: Any) -> None:
        got.append(total)

    before = {"PK": "USER#1", "SK": "TOTAL", "total": 0}
    after = {"PK": "USER#1", "SK": "TOTAL", "total": 5}
    event = testing.event(
        testing.modify(before, after), testing.remove(after), view_type="OLD_IMAGE"
    )
    result = router.process(event["Records"])
    # MODIFY: the stream carries no new image, and the old one is stale: the keys are all
    # there is, and they do not make a Total, so the record fails loudly.
    assert [f.index for f in result.failures] == [0]
    assert "total" in str(result.failures[0].error)
    assert got == []  # stop mode: the REMOVE after the failure waits for the retry

    got.clear()
    new_only = testing.event(testing.modify(before, after), view_type="NEW_IMAGE")
    assert router.process(new_only["Records"]).failures == ()
    assert got == [{"PK": "USER#1", "total": 5}]


def test_context_parameter_with_a_default_gets_the_context() -> None:
    router = Router()
    got: list[Any] = []

    @router.on(Filter.events("MODIFY"))
    def total_changed(total: Total, record: Any = None, context: Any = None) -> None:
        got.append((total["total"], record is not None, context))

    @router.on(Filter.events("REMOVE"), model=Score)
    def removed(score: Any, context: Any = None, limit: int = 3, ctx: Any = None) -> None:
        got.append((score, context, limit, ctx))  # from `limit` on, defaults stay

    @router.on_batch(Filter.insert())
    def inserted(records: list[StreamRecord], context: Any = None) -> None:
        got.append((len(records), context))

    router.lambda_handler(mixed_event(), "ctx")
    assert sorted(got, key=repr) == sorted(
        [(5, True, "ctx"), (Score("SCORE#0", 1), "ctx", 3, None), (2, "ctx")], key=repr
    )


def test_keyword_only_parameters_without_default_are_refused() -> None:
    router = Router()

    def handler(record: StreamRecord, *, table: str) -> None: ...

    with pytest.raises(TypeError, match="keyword-only parameter 'table'"):
        router.on(Filter.insert())(handler)

    def fine(record: StreamRecord, *, table: str = "scores") -> None: ...

    router.on(Filter.insert())(fine)


def test_bad_declarations_are_refused() -> None:
    class Local(TypedDict):
        x: int

    router = Router()

    def local_model(item: Local) -> None: ...

    with pytest.raises(TypeError, match="define the model at module level"):
        router.on(Filter.insert())(local_model)
    with pytest.raises(TypeError, match="cannot fill parameter 'other'"):
        router.on(Filter.insert())(lambda record, other: None)
    with pytest.raises(TypeError, match="Filter or FilterCriteria"):
        router.on({"eventName": ["INSERT"]})  # type: ignore[arg-type]

    @router.on(Filter.insert(), name="dup")
    def one(record: StreamRecord) -> None: ...

    with pytest.raises(ValueError, match="already declared"):
        router.on(Filter.insert(), name="dup")(one)
    with pytest.raises(ValueError, match="failure_mode"):
        Router(failure_mode="retry")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_concurrency"):
        Router(max_concurrency=0)


def test_async_handlers() -> None:
    router = Router()
    seen: list[int] = []

    @router.on(Filter.insert())
    async def handle(record: StreamRecord) -> None:
        await asyncio.sleep(0)
        if record.new_value("points") == 2:
            raise ValueError("async boom")
        seen.append(record.new_value("points"))

    event = scores(4)
    response = router.lambda_handler(event, None)
    assert seen == [0, 1]
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == numbers(event)[2:]


# --- batch routes ----------------------------------------------------------------------------


def test_batch_route_gets_records_in_order_and_fails_single_ones() -> None:
    router = Router()
    batches: list[list[int]] = []

    @router.on_batch(Filter.insert())
    def aggregate(records: list[StreamRecord]) -> list[StreamRecord]:
        batches.append([r.new_value("points") for r in records])
        return [r for r in records if r.new_value("points") == 3]

    event = scores(6)
    result = router.process(event["Records"])
    assert batches == [[0, 1, 2, 3, 4, 5]]
    assert list(result.reported) == numbers(event)[3:]
    assert result.failed == 1


def test_batch_route_raising_fails_all_of_its_records_from_the_first() -> None:
    router = Router()

    @router.on(Filter.events("MODIFY"))
    def modified(record: StreamRecord) -> None:
        pass

    @router.on_batch(Filter.insert())
    def aggregate(records: list[StreamRecord]) -> None:
        raise RuntimeError("database down")

    event = mixed_event()
    result = router.process(event["Records"])
    assert list(result.reported) == numbers(event)
    assert result.not_attempted == 1  # the MODIFY after the first failed insert


def test_batch_route_can_say_why_a_record_failed() -> None:
    router = Router()

    @router.on_batch(Filter.insert())
    def aggregate(records: list[StreamRecord]) -> list[tuple[StreamRecord, Exception]]:
        return [(records[1], LookupError("unknown task type 'x'"))]

    event = scores(3)
    result = router.process(event["Records"])
    [failure] = result.failures
    assert failure.index == 1
    assert isinstance(failure.error, LookupError)
    assert list(result.reported) == numbers(event)[1:]


def test_batch_route_returning_a_stranger_is_an_error() -> None:
    router = Router()

    @router.on_batch(Filter.insert())
    def aggregate(records: list[StreamRecord]) -> list[str]:
        return ["999"]

    result = router.process(scores(2)["Records"])
    assert isinstance(result.failures[0].error, TypeError)


def test_batch_route_may_return_a_tuple_of_failures() -> None:
    router = Router()

    @router.on_batch(Filter.insert())
    def aggregate(records: list[StreamRecord]) -> tuple[Any, ...]:
        if records[0].new_value("points") == 0:
            return tuple(records[2:4])  # records
        return (records[1].sequence_number,)  # sequence numbers

    event = scores(5)
    result = router.process(event["Records"])
    assert [f.index for f in result.failures] == [2, 3]
    assert all(isinstance(f.error, RuntimeError) for f in result.failures)
    assert list(result.reported) == numbers(event)[2:]
    assert result.succeeded == 3  # the batch handler did handle record 4
    result = router.process(event["Records"][2:])
    assert [f.index for f in result.failures] == [1]
    assert list(result.reported) == numbers(event)[3:]


# --- concurrency -----------------------------------------------------------------------------


def test_concurrency_keeps_each_keys_order_and_reports_exactly() -> None:
    router = Router(max_concurrency=4)
    order: dict[str, list[int]] = {}
    threads: set[int] = set()
    lock = threading.Lock()

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        time.sleep(0.002)
        with lock:
            threads.add(threading.get_ident())
            order.setdefault(record.keys["PK"], []).append(record.new_value("n"))

    changes = [testing.insert({"PK": f"K#{i % 5}", "SK": f"{i}", "n": i}) for i in range(40)]
    # every record has its own key (PK, SK); group by PK through a key-only table view
    event = testing.event(*changes, keys=("PK",))
    result = router.process(event["Records"])
    assert result.succeeded == 40
    for key, values in order.items():
        assert values == sorted(values), key
    assert len(threads) > 1


def test_concurrency_failure_reporting_is_exact() -> None:
    router = Router(max_concurrency=3)
    done: list[int] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 7:
            raise ValueError("seven")
        done.append(n)

    changes = [testing.insert({"PK": f"K#{i % 4}", "n": i}) for i in range(20)]
    event = testing.event(*changes, keys=("PK",))
    result = router.process(event["Records"])
    assert list(result.reported) == numbers(event)[7:]
    assert all(n < 7 or n % 4 != 7 % 4 for n in done)  # the failed key stopped


def test_concurrency_in_continue_mode_keeps_a_failed_keys_later_records_for_redelivery() -> None:
    router = Router(max_concurrency=3, failure_mode="continue")
    done: list[int] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 1:
            raise ValueError("one")
        done.append(n)

    changes = [testing.insert({"PK": f"K#{i % 3}", "n": i}) for i in range(9)]
    event = testing.event(*changes, keys=("PK",))
    result = router.process(event["Records"])
    assert sorted(done) == [0, 2, 3, 5, 6, 8]  # K#1's 4 and 7 wait for their redelivery
    assert list(result.reported) == numbers(event)[1:]
    assert result.not_attempted == 2


@pytest.mark.parametrize(
    "keys",
    [{"PK": {"S": 7}}, {"PK": {"N": "seven"}}, {"PK": {"L": []}}],
    ids=["S-not-text", "N-not-a-number", "unhashable"],
)
def test_concurrency_fails_a_record_whose_keys_cannot_be_read(keys: dict[str, Any]) -> None:
    router = Router(max_concurrency=3)
    done: list[int] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        done.append(record.new_value("n"))

    event = testing.event(
        *[testing.insert({"PK": f"K#{i}", "n": i}) for i in range(6)], keys=("PK",)
    )
    event["Records"][2]["dynamodb"]["Keys"] = keys
    result = router.process(event["Records"])  # did raise, failing the whole batch
    [failure] = result.failures
    assert failure.index == 2
    assert failure.route is None
    assert list(result.reported) == numbers(event)[2:]
    assert sorted(done) == [0, 1]
    assert router.lambda_handler(event, None)["batchItemFailures"][0] == {
        "itemIdentifier": numbers(event)[2]
    }


# --- tumbling windows ------------------------------------------------------------------------


def window_event(state: dict[str, Any] | None) -> dict[str, Any]:
    event = scores(3)
    event.update(
        window={"start": "2026-11-26T10:00:00Z", "end": "2026-11-26T10:05:00Z"},
        state=state or {},
        shardId="shardId-000000000001",
        eventSourceARN=event["Records"][0]["eventSourceARN"],
        isFinalInvokeForWindow=False,
        isWindowTerminatedEarly=False,
    )
    return event


def test_window_route_gets_and_returns_state() -> None:
    router = Router()

    @router.on_window(Filter.insert())
    def total(records: list[StreamRecord], state: dict[str, Any], window: Any) -> dict[str, Any]:
        assert window.shard_id == "shardId-000000000001"
        assert window.start.year == 2026
        assert not window.is_final
        points = sum(r.new_value("points") for r in records)
        return {"sum": state.get("sum", 0) + points}

    first = router.lambda_handler(window_event(None), None)
    assert first == {"batchItemFailures": [], "state": {"total": {"sum": 3}}}
    second = router.lambda_handler(window_event(first["state"]), None)
    assert second["state"] == {"total": {"sum": 6}}


def test_final_window_invocation_without_records_reaches_the_route() -> None:
    router = Router()
    finals: list[dict[str, Any]] = []

    @router.on_window(Filter.insert())
    def total(records: list[StreamRecord], state: dict[str, Any], window: Any) -> dict[str, Any]:
        if window.is_final:
            finals.append(state)
        return state

    event = window_event({"total": {"sum": 9}})
    event.update(Records=[], isFinalInvokeForWindow=True)
    assert router.lambda_handler(event, None)["state"] == {"total": {"sum": 9}}
    assert finals == [{"sum": 9}]
    event.update(isFinalInvokeForWindow=False)
    finals.clear()
    assert router.lambda_handler(event, None)["state"] == {"total": {"sum": 9}}
    assert finals == []


@pytest.mark.parametrize("outcome", ["raises", "returns None"])
def test_failed_final_window_invocation_fails_the_invocation(outcome: str) -> None:
    """Lambda deletes a window's state after its final invocation succeeds: a final
    processing that failed must not answer success, or the window's result is lost."""
    router = Router()

    @router.on_window(Filter.insert())
    def total(records: list[StreamRecord], state: dict[str, Any], window: Any) -> Any:
        if window.is_final:
            if outcome == "raises":
                raise ConnectionError("cannot write the window's total")
            return None
        return state

    event = window_event({"total": {"sum": 9}})
    event.update(Records=[], isFinalInvokeForWindow=True)
    expected = ConnectionError if outcome == "raises" else TypeError
    with pytest.raises(expected):
        router.lambda_handler(event, None)
    event.update(isFinalInvokeForWindow=False)
    assert router.lambda_handler(event, None)["state"] == {"total": {"sum": 9}}


def test_window_route_outside_a_window_fails_its_records() -> None:
    router = Router()

    @router.on_window(Filter.insert())
    def total(records: list[StreamRecord], state: dict[str, Any], window: Any) -> dict[str, Any]:
        return state

    result = router.process(scores(2)["Records"])
    assert result.failed == 2
    assert "TumblingWindowInSeconds" in str(result.failures[0].error)


# --- infrastructure --------------------------------------------------------------------------


def test_filter_criteria_is_the_or_of_every_route() -> None:
    router = Router()
    score_added = Filter.insert().key("PK", prefix("SCORE#"))

    @router.on(score_added)
    def a(record: StreamRecord) -> None: ...

    @router.on(FilterCriteria(score_added, Filter.events("REMOVE")))
    def b(record: StreamRecord) -> None: ...

    criteria = router.filter_criteria()
    assert criteria.patterns == [score_added.pattern, Filter.events("REMOVE").pattern]
    assert json.loads(criteria.to_boto3()["Filters"][0]["Pattern"]) == score_added.pattern
    for raw in mixed_event()["Records"]:
        wanted = any(route.matches(raw) for route in router._routes)
        assert criteria.matches(raw) is wanted


def test_a_route_on_every_record_makes_the_mapping_filter_nothing() -> None:
    router = Router()

    @router.on(Filter.insert())
    def inserted(record: StreamRecord) -> None: ...

    @router.on(FilterCriteria())  # every record: audit log
    def audit(record: StreamRecord) -> None: ...

    criteria = router.filter_criteria()
    assert criteria.patterns == []
    for raw in mixed_event()["Records"]:
        assert criteria.matches(raw) is True  # audit wants every record delivered


def test_assert_not_retriggered_names_the_route() -> None:
    router = Router()

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None: ...

    router.assert_not_retriggered({"PK": "USER#7", "SK": "TOTAL", "total": 10})
    with pytest.raises(RecursionRiskError) as info:
        router.assert_not_retriggered({"PK": "SCORE#9", "SK": "USER#7"})
    assert info.value.route == "add_score"
    assert info.value.event_name == "INSERT"


def test_one_json_log_line_per_invocation(caplog: pytest.LogCaptureFixture) -> None:
    router, _ = failing_at(1)
    with caplog.at_level(logging.INFO, logger="streamflow"):
        router.process(scores(3)["Records"])
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.INFO]
    assert len(lines) == 1
    assert lines[0]["received"] == 3
    assert lines[0]["failed"] == 1
    assert lines[0]["errors"][0]["error"] == "ValueError"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None


def test_embedded_metric_format() -> None:
    router, _ = failing_at(1)
    result = router.process(scores(3)["Records"])
    out = io.StringIO()
    emit_metrics(result, namespace="scores", service="processor", out=out)
    document = json.loads(out.getvalue())
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "scores"
    assert directive["Dimensions"] == [["service"]]
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"RecordsReceived", "RecordsFailed", "BatchItemFailures", "IteratorAge"} <= names
    assert document["RecordsReceived"] == 3
    assert document["BatchItemFailures"] == 2
    assert document["service"] == "processor"


def test_metrics_true_prints_emf(capsys: pytest.CaptureFixture[str]) -> None:
    router = Router(metrics=True)

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None: ...

    router.lambda_handler(scores(2), None)
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert document["RecordsSucceeded"] == 2


def test_lambda_handler_rejects_non_stream_events() -> None:
    router, _ = failing_at()
    with pytest.raises(RecordShapeError, match="not a stream event"):
        router.lambda_handler({"body": "{}"}, None)


def test_works_beside_powertools_logger_and_tracer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Powertools wraps the entry point; the router's log line goes out through its Logger."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "scores")
    from aws_lambda_powertools import Logger, Tracer

    logger = Logger(logger_handler=logging.StreamHandler(io.StringIO()))
    tracer = Tracer()
    copied: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            copied.append(logger.registered_formatter.format(record))

    streamflow_logger = logging.getLogger("streamflow")
    keep = Keep()
    streamflow_logger.addHandler(keep)
    streamflow_logger.setLevel(logging.INFO)
    router, handled = failing_at(1)

    @tracer.capture_lambda_handler
    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return router.lambda_handler(event, context)

    class Context:
        function_name = "processor"
        memory_limit_in_mb = 128
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:processor"
        aws_request_id = "req-1"

    try:
        event = scores(3)
        response = handler(event, Context())
    finally:
        streamflow_logger.removeHandler(keep)
        streamflow_logger.setLevel(logging.NOTSET)
    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == numbers(event)[1:]
    assert handled == [0]
    summary = [json.loads(line) for line in copied if '"received"' in line]
    assert len(summary) == 1
    assert summary[0]["message"]["failed"] == 1  # Powertools nests our JSON line as an object
    assert summary[0]["service"] == "scores"


def test_process_takes_stream_records_too() -> None:
    router, handled = failing_at()
    records = parse_event(scores(3))
    result = router.process(records)
    assert handled == [0, 1, 2]
    assert result.succeeded == 3


def test_filter_criteria_respects_the_quota() -> None:
    router = Router()
    for i in range(6):
        router.on(Filter.insert().key("PK", prefix(f"P{i}#")), name=f"r{i}")(lambda record: None)
    assert len(router.filter_criteria().patterns) == 5  # two prefixes share one filter
    assert len(router.filter_criteria(max_filters=10).patterns) == 6
    assert len(router.filter_criteria(max_filters=1).patterns) == 1
    router.on(Filter.remove(), name="removed")(lambda record: None)
    with pytest.raises(FilterValidationError):
        router.filter_criteria(max_filters=1)
    with pytest.raises(ValueError, match="no routes"):
        Router().filter_criteria()


def test_a_pydantic_model_given_with_model_gets_the_changed_item() -> None:
    pytest.importorskip("pydantic", minversion="2")
    from pydantic import BaseModel, Field

    class Points(BaseModel):
        pk: str = Field(alias="PK")
        points: int

    router = Router()
    got: list[Any] = []

    @router.on(Filter.events("INSERT", "REMOVE"), model=Points)
    def changed(points: Any, record: StreamRecord) -> None:
        got.append((points.pk, points.points, record.event_name.value))

    event = testing.event(
        testing.insert({"PK": "SCORE#1", "SK": "U", "points": 1}),
        testing.remove({"PK": "SCORE#2", "SK": "U", "points": 2}),
        testing.insert({"PK": "SCORE#3", "SK": "U", "points": "x"}),
    )
    result = router.process(event["Records"])
    assert got == [("SCORE#1", 1, "INSERT"), ("SCORE#2", 2, "REMOVE")]
    assert [f.index for f in result.failures] == [2]
    assert "points: Input should be a valid integer" in str(result.failures[0].error)
