"""streamflow.router: the invocation's deadline, handlers raising what is not an Exception,
``dispatch="all"`` under redelivery, and batch routes answering in Lambda's own shape."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow import Router, StreamRecord, testing
from streamflow.errors import FilterValidationError, HandlerTimeoutError
from streamflow.filters import Filter, anything_but, exists, numeric, prefix, suffix
from streamflow.router._deadline import Deadline, auto_margin
from streamflow.router._report import emit_metrics


class Context:
    """A Lambda context whose invocation has ``seconds`` left when it is made."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.ends - time.monotonic()) * 1000))


def event(count: int) -> dict[str, Any]:
    return testing.event(
        *(testing.insert({"PK": f"K#{i}", "SK": "A", "n": i}) for i in range(count))
    )


def numbers(ev: dict[str, Any], start: int = 0) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in ev["Records"][start:]]


def redelivered(ev: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The next batch Lambda delivers: from the lowest reported record on."""
    reported = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    return {"Records": [r for r in ev["Records"] if r["dynamodb"]["SequenceNumber"] in reported]}


# --- the deadline ----------------------------------------------------------------------------


def test_auto_margin_is_a_tenth_of_the_time_between_half_a_second_and_five() -> None:
    assert auto_margin(3) == 0.5
    assert auto_margin(20) == 2.0
    assert auto_margin(900) == 5.0
    assert Deadline.of(Context(60), "auto").margin == 5.0  # type: ignore[union-attr]
    assert Deadline.of(Context(60), 1.5).margin == 1.5  # type: ignore[union-attr]
    assert Deadline.of(Context(60), None) is None
    assert Deadline.of(None, "auto") is None  # no Lambda context, no deadline


def slow_at_three(seconds: float, **options: Any) -> tuple[Router, Counter[int]]:
    """A router whose handler takes ``seconds`` on record 3, and what it applied."""
    router = Router(time_margin=0.5, **options)
    applied: Counter[int] = Counter()

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 3:
            time.sleep(seconds)
        applied[n] += 1

    return router, applied


def test_before_the_deadline_every_record_runs() -> None:
    router, applied = slow_at_three(0.3)
    result = router.process(event(10)["Records"], context=Context(1.5))  # deadline at 1.0 s
    assert applied == Counter(dict.fromkeys(range(10), 1))
    assert (result.succeeded, result.deferred, result.reported) == (10, 0, ())
    assert result.deferred_reason is None


def test_a_slow_handler_leaves_exactly_the_unstarted_records_reported() -> None:
    router, applied = slow_at_three(0.7)
    ev = event(10)
    result = router.process(ev["Records"], context=Context(1.0))  # deadline at 0.5 s
    assert applied == Counter({0: 1, 1: 1, 2: 1, 3: 1})
    assert result.reported == tuple(numbers(ev, 4))
    assert (result.succeeded, result.deferred, result.failed) == (4, 6, 0)
    assert result.deferred_reason == "less than 0.5 s of the invocation was left (time_margin)"
    summary = result.summary()
    assert summary["deferred"] == 6
    assert summary["deferred_reason"] == result.deferred_reason
    out = io.StringIO()
    emit_metrics(result, namespace="ns", service="svc", out=out)
    assert json.loads(out.getvalue())["RecordsDeferred"] == 6

    # Lambda delivers the deferred records again: each record is applied once in all.
    again = router.lambda_handler(redelivered(ev, result.response()), Context(60))
    assert again == {"batchItemFailures": []}
    assert applied == Counter(dict.fromkeys(range(10), 1))


def test_deferral_and_failures_together_report_from_the_lowest() -> None:
    router = Router(failure_mode="continue", time_margin=0.5)

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 1:
            raise ValueError("boom")
        if n == 3:
            time.sleep(0.7)

    ev = event(8)
    result = router.process(ev["Records"], context=Context(1.0))
    assert result.reported == tuple(numbers(ev, 1))
    assert (result.failed, result.succeeded, result.deferred) == (1, 3, 4)


def test_an_async_handler_still_running_at_the_deadline_fails_its_record() -> None:
    router = Router(time_margin=0.5)
    applied: Counter[int] = Counter()
    cancelled = []

    @router.on(Filter.insert())
    async def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 2:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.append(n)
                raise
        applied[n] += 1

    ev = event(6)
    started = time.monotonic()
    result = router.process(ev["Records"], context=Context(1.0))
    assert time.monotonic() - started < 1.0
    assert cancelled == [2]
    assert applied == Counter({0: 1, 1: 1})
    [failure] = result.failures
    assert failure.index == 2
    assert isinstance(failure.error, HandlerTimeoutError)
    assert failure.error.route == "handle"
    assert result.reported == tuple(numbers(ev, 2))


def test_a_concurrent_lane_still_running_at_the_deadline_fails_its_record() -> None:
    router = Router(max_concurrency=3, time_margin=0.5)
    release = threading.Event()
    applied: Counter[int] = Counter()

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 2:
            release.wait(10)
        applied[n] += 1

    ev = event(6)
    started = time.monotonic()
    try:
        result = router.process(ev["Records"], context=Context(1.0))
        elapsed = time.monotonic() - started
    finally:
        release.set()
    assert elapsed < 1.0
    failed = {f.index: f for f in result.failures}
    assert set(failed) == {2}
    assert isinstance(failed[2].error, HandlerTimeoutError)
    assert result.reported == tuple(numbers(ev, 2))


def test_no_margin_means_no_deadline() -> None:
    router = Router(time_margin=None)
    applied = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        applied.append(record.new_value("n"))

    result = router.process(event(3)["Records"], context=Context(0))
    assert applied == [0, 1, 2]
    assert result.deferred == 0


@pytest.mark.parametrize("margin", [-1, 900, float("nan"), True, "soon"])
def test_bad_margins_are_refused(margin: Any) -> None:
    with pytest.raises(ValueError, match="time_margin"):
        Router(time_margin=margin)


def test_the_router_works_inside_a_running_event_loop() -> None:
    router = Router()
    applied = []

    @router.on(Filter.insert())
    async def handle(record: StreamRecord) -> None:
        await asyncio.sleep(0)
        applied.append(record.new_value("n"))

    async def main() -> dict[str, Any]:
        return router.lambda_handler(event(3), Context(60))  # called from async code

    assert asyncio.run(main()) == {"batchItemFailures": []}
    assert applied == [0, 1, 2]


# --- what handlers raise -------------------------------------------------------------------


class Unusual(BaseException):
    pass


@pytest.mark.parametrize(
    "error", [asyncio.CancelledError(), SystemExit(3), GeneratorExit(), Unusual()]
)
@pytest.mark.parametrize("is_async", [False, True])
def test_anything_but_keyboard_interrupt_fails_its_record_alone(
    error: BaseException, is_async: bool
) -> None:
    router = Router()
    applied: Counter[int] = Counter()

    def body(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 2 and applied[n] == 0 and not applied.get(-1):
            applied[-1] = 1  # fail once, as a transient fault would
            raise error
        applied[n] += 1

    if is_async:

        @router.on(Filter.insert())
        async def handle_async(record: StreamRecord) -> None:
            body(record)

    else:
        router.on(Filter.insert(), name="handle")(body)

    ev = event(5)
    response = router.lambda_handler(ev, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in numbers(ev, 2)]}
    assert router.lambda_handler(redelivered(ev, response), None) == {"batchItemFailures": []}
    del applied[-1]
    assert applied == Counter(dict.fromkeys(range(5), 1))  # nothing applied twice


def test_keyboard_interrupt_still_interrupts() -> None:
    router = Router()

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        router.lambda_handler(event(2), None)


# --- dispatch="all" is not exactly-once ------------------------------------------------------


def test_dispatch_all_runs_a_succeeding_route_again_when_another_fails_the_record() -> None:
    """Documented: no invocation can know what an earlier one applied, so with
    dispatch="all" the routes that succeeded on a failed record run again on redelivery."""
    router = Router(dispatch="all")
    applied: Counter[tuple[str, int]] = Counter()
    failures_left = [1]

    @router.on(Filter.insert())
    def first(record: StreamRecord) -> None:
        applied["first", record.new_value("n")] += 1

    @router.on(Filter.insert())
    def second(record: StreamRecord) -> None:
        n = record.new_value("n")
        if n == 1 and failures_left:
            failures_left.pop()
            raise ValueError("transient")
        applied["second", n] += 1

    ev = event(3)
    response = router.lambda_handler(ev, None)
    assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in numbers(ev, 1)]}
    router.lambda_handler(redelivered(ev, response), None)
    assert applied["first", 1] == 2  # applied again: idempotent routes needed
    assert applied["second", 1] == 1
    assert applied["first", 0] == applied["second", 0] == 1


# --- batch routes answering as Lambda's response ---------------------------------------------


def test_a_batch_route_may_answer_with_lambdas_own_response() -> None:
    router = Router()
    ev = event(4)
    failing = ev["Records"][2]["dynamodb"]["SequenceNumber"]

    @router.on_batch(Filter.insert())
    def handle(records: list[StreamRecord]) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": failing}]}

    result = router.process(ev["Records"])
    assert [f.index for f in result.failures] == [2]
    assert result.reported == tuple(numbers(ev, 2))


@pytest.mark.parametrize(
    "answer",
    [
        {"batchItemFailures": [{"itemIdentifier": 7}]},
        {"batchItemFailures": "all"},
        {"failures": []},
    ],
)
def test_a_malformed_response_from_a_batch_route_fails_its_records_clearly(answer: Any) -> None:
    router = Router()

    @router.on_batch(Filter.insert())
    def handle(records: list[StreamRecord]) -> Any:
        return answer

    ev = event(3)
    result = router.process(ev["Records"])
    assert result.reported == tuple(numbers(ev))
    assert all(isinstance(f.error, TypeError) for f in result.failures)
    assert "batchItemFailures" in str(result.failures[0].error)


# --- more routes than a mapping has filters ---------------------------------------------------


def test_routes_on_different_key_prefixes_are_merged_to_fit_five_filters() -> None:
    router = Router()
    for name in ("A", "B", "C", "D", "E", "F", "G"):
        router.on(Filter.insert().key("PK", prefix(f"{name}#")), name=name)(lambda r: None)
    router.on(Filter.remove().ttl_deletes_only(), name="expired")(lambda r: None)
    criteria = router.filter_criteria()
    assert len(criteria) == 5  # merged as far as needed, no further
    prefixes = [
        rule["prefix"]
        for pattern in criteria.patterns
        if "dynamodb" in pattern
        for rule in pattern["dynamodb"]["Keys"]["PK"]["S"]
    ]
    assert sorted(prefixes) == [f"{name}#" for name in "ABCDEFG"]


def test_routes_that_cannot_be_merged_are_refused_with_a_clear_error() -> None:
    router = Router()
    shapes = [
        Filter.insert(),
        Filter.modify().key("PK", prefix("A#")),
        Filter.remove().ttl_deletes_only(),
        Filter.where("dynamodb.SizeBytes", numeric(">", 10)),
        Filter.modify().new_image("status", exists(False)),
        Filter.insert().new_image("kind", anything_but("x")).key("SK", prefix("B")),
    ]
    for number, flt in enumerate(shapes):
        router.on(flt, name=f"r{number}")(lambda r: None)
    with pytest.raises(FilterValidationError, match="even with those that differ"):
        router.filter_criteria()
    assert len(router.filter_criteria(max_filters=10)) == 6


ROUTE_SHAPES = st.sampled_from(
    [
        Filter.insert().key("PK", prefix("A#")),
        Filter.insert().key("PK", prefix("B#")),
        Filter.insert().key("PK", "USER#1"),
        Filter.modify().key("PK", prefix("A#")),
        Filter.modify().key("PK", prefix("C#")),
        Filter.events("INSERT", "MODIFY").new_image("kind", "x", "y"),
        Filter.events("INSERT", "MODIFY").new_image("kind", "z"),
        Filter.remove().ttl_deletes_only(),
        Filter.remove().key("SK", suffix("#1")),
        Filter.remove().key("SK", suffix("#2")),
    ]
)
CHANGES = st.tuples(
    st.sampled_from(["A#1", "B#2", "C#1", "USER#1", "X"]),
    st.sampled_from(["S#1", "S#2", "S#3"]),
    st.sampled_from(["x", "y", "z", "w"]),
    st.sampled_from(["insert", "modify", "remove", "ttl"]),
)


@settings(max_examples=80, deadline=None)
@given(
    routes=st.lists(ROUTE_SHAPES, min_size=1, max_size=10, unique=True),
    changes=st.lists(CHANGES, max_size=10),
)
def test_merged_filters_match_exactly_what_the_routes_match(
    routes: list[Filter], changes: list[tuple[str, str, str, str]]
) -> None:
    router = Router()
    for number, flt in enumerate(routes):
        router.on(flt, name=f"r{number}")(lambda r: None)
    try:
        criteria = router.filter_criteria(max_filters=3)
    except FilterValidationError:
        criteria = router.filter_criteria(max_filters=10)
    items = []
    for pk, sk, kind, what in changes:
        item = {"PK": pk, "SK": sk, "kind": kind}
        if what == "insert":
            items.append(testing.insert(item))
        elif what == "modify":
            items.append(testing.modify(item, item))
        else:
            items.append(testing.remove(item, ttl=what == "ttl"))
    for raw in testing.records(*items):
        assert criteria.matches(raw) == any(flt.matches(raw) for flt in routes)


def test_a_handler_wrapped_by_a_decorator_is_read_through_its_wrapper() -> None:
    """Powertools' tracer.capture_method, like any functools.wraps decorator, hides the
    handler's parameters behind (*args, **kwargs): the router reads the wrapped function."""
    import functools

    calls: list[str] = []

    def traced(function: Any) -> Any:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls.append("traced")
            return function(*args, **kwargs)

        return wrapper

    router = Router()
    seen: list[Any] = []

    @router.on(Filter.insert())
    @traced
    def handle(record: StreamRecord, context: Any = None) -> None:
        seen.append((record.keys["PK"], context))

    context = Context(60)
    assert router.lambda_handler(event(1), context) == {"batchItemFailures": []}
    assert calls == ["traced"]
    assert seen == [("K#0", context)]
