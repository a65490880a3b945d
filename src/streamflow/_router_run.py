"""The router's engine: one batch, from raw records to a :class:`BatchResult`.

The order of work, which the Router and Partial failures pages document:

1. Read every record (a record that cannot be read fails at its position).
2. Match each against the routes: the first route that matches, or every one
   (``dispatch="all"``). Records no route matches are counted, or fail
   (``on_unmatched="error"``).
3. Batch and window routes run first, in declaration order, each with its records in stream
   order. Then record routes run record by record in stream order (or per item key
   concurrently, with ``max_concurrency``).
4. In ``failure_mode="stop"`` nothing at or after the lowest failure is started, so nothing
   is applied ahead of an earlier failure. In ``"continue"`` everything runs. Either way the
   lowest failure and every record after it are reported, because that is where Lambda
   resumes the shard.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from streamflow._router_calls import Driver
from streamflow._router_report import BatchResult, RecordFailure, Value, Window
from streamflow.errors import RecordShapeError, UnmatchedRecordError
from streamflow.records import StreamRecord

__all__ = ["Route", "Settings", "run_batch"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, Literal

    from streamflow._router_calls import ArgumentKind

    RouteKind = Literal["record", "batch", "window"]


class Route(Value):
    """One declared route: its filter, its handler, and how to call it."""

    __slots__ = ("arguments", "criteria", "handler", "kind", "matches", "model", "name")
    name: str
    kind: RouteKind
    matches: Callable[[Mapping[str, Any]], bool]
    criteria: Any  # the FilterCriteria the route was declared with
    handler: Callable[..., Any]
    arguments: tuple[ArgumentKind, ...]
    model: type[Any] | None


class Settings(Value):
    """A router's options (validated by the Router)."""

    __slots__ = ("dispatch", "failure_mode", "max_concurrency", "numbers", "on_unmatched")
    dispatch: Literal["first", "all"]
    on_unmatched: Literal["ignore", "error"]
    failure_mode: Literal["stop", "continue"]
    max_concurrency: int
    numbers: Literal["auto", "decimal", "float"]


class _Batch:
    """The mutable state of one invocation."""

    def __init__(self, settings: Settings, context: Any, count: int) -> None:
        import threading  # loaded at the first invocation, not at import

        self.settings = settings
        self.context = context
        self.driver = Driver()
        self.records: list[StreamRecord | None] = [None] * count
        self.sequence_numbers: list[str | None] = [None] * count
        self.failures: dict[int, RecordFailure] = {}
        self.stop_at = count
        self.ran = [0] * count  # handlers completed, per record
        self.matched = [0] * count  # routes matched, per record
        self.lock = threading.Lock()

    def fail(self, index: int, route: str | None, error: BaseException) -> None:
        with self.lock:
            if index not in self.failures:
                self.failures[index] = RecordFailure(
                    index=index,
                    sequence_number=self.sequence_numbers[index],
                    route=route,
                    error=error,
                )
            if self.settings.failure_mode == "stop" and index < self.stop_at:
                self.stop_at = index


def _read(item: object, index: int, numbers: Any) -> StreamRecord:
    if isinstance(item, StreamRecord):
        return item
    source = item.get("eventSource") if isinstance(item, dict) else None
    if source == "aws:kinesis":
        return StreamRecord.from_kinesis(item, index=index, numbers=numbers)  # type: ignore[arg-type]
    if source not in (None, "aws:dynamodb"):
        raise RecordShapeError(
            "eventSource", f"{source!r} is not a DynamoDB stream record", index=index
        )
    return StreamRecord.from_lambda(item, index=index, numbers=numbers)  # type: ignore[arg-type]


def _raw_sequence_number(item: object) -> str | None:
    """The sequence number of a record that could not be read, if it has a usable one."""
    if isinstance(item, dict):
        holder = (
            item.get("kinesis")
            if item.get("eventSource") == "aws:kinesis"
            else item.get("dynamodb")
        )
        key = "sequenceNumber" if item.get("eventSource") == "aws:kinesis" else "SequenceNumber"
        if isinstance(holder, dict):
            number = holder.get(key)
            if isinstance(number, str) and number.isdigit() and number.isascii():
                return number
    return None


def _arguments(route: Route, batch: _Batch, record: StreamRecord) -> list[Any]:
    if route.arguments == ("record",):
        return [record]
    out: list[Any] = []
    for kind in route.arguments:
        if kind == "record":
            out.append(record)
        elif kind == "model":
            image = record.new_image if record.new_image is not None else record.old_image
            if image is None:
                image = record.keys
            from streamflow.models import from_item

            out.append(from_item(route.model, image))  # type: ignore[arg-type]
        else:
            out.append(batch.context)
    return out


def _run_record(batch: _Batch, index: int, routes: Sequence[Route]) -> None:
    record = batch.records[index]
    assert record is not None
    for route in routes:
        try:
            batch.driver.call(route.handler, _arguments(route, batch, record))
        except Exception as error:
            batch.fail(index, route.name, error)
            return
        batch.ran[index] += 1


def _failed_positions(
    returned: object, indices: list[int], batch: _Batch, route: str
) -> dict[int, BaseException]:
    """Positions named by what a batch handler returned, with their errors.

    A handler returns the records that failed, their sequence numbers, or
    ``(record, exception)`` pairs that say why.
    """
    if returned is None:
        return {}
    if isinstance(returned, (str, StreamRecord, tuple)) or not isinstance(returned, Iterable):
        returned = [returned]
    by_number = {batch.sequence_numbers[i]: i for i in indices}
    failed: dict[int, BaseException] = {}
    for item in returned:
        error: BaseException = RuntimeError(f"reported failed by route {route!r}")
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], BaseException):
            item, error = item
        number = item.sequence_number if isinstance(item, StreamRecord) else item
        if number not in by_number:
            raise TypeError(
                "a batch handler returns the records (or sequence numbers, or (record, "
                f"exception) pairs) that failed; {item!r} is not one of the records it was given"
            )
        failed.setdefault(by_number[number], error)
    return dict(sorted(failed.items()))


def _run_group(
    batch: _Batch,
    route: Route,
    indices: list[int],
    window: Window | None,
    state: dict[str, Any] | None,
) -> None:
    final_call = route.kind == "window" and not indices and window is not None and window.is_final
    indices = [i for i in indices if i < batch.stop_at and i not in batch.failures]
    if not indices and not final_call:
        return  # a window route's state is carried over unchanged
    records = [batch.records[i] for i in indices]
    args: list[Any] = []
    for kind in route.arguments:
        if kind == "records":
            args.append(records)
        elif kind == "state":
            args.append(dict((state or {}).get(route.name) or {}))
        elif kind == "window":
            args.append(window)
        else:
            args.append(batch.context)
    try:
        returned = batch.driver.call(route.handler, args)
        if route.kind == "window":
            if not isinstance(returned, dict):
                raise TypeError(
                    f"window route {route.name!r} must return its new state as a dict, "
                    f"got {type(returned).__name__}"
                )
            assert state is not None
            state[route.name] = returned
            failed: dict[int, BaseException] = {}
        else:
            failed = _failed_positions(returned, indices, batch, route.name)
    except Exception as error:
        for index in indices:
            batch.fail(index, route.name, error)
        return
    for index, reason in failed.items():
        batch.fail(index, route.name, reason)
    for index in indices:
        if index not in failed:
            batch.ran[index] += 1


def _run_concurrently(batch: _Batch, plan: list[list[Route]]) -> None:
    """Record routes per item key: keys in parallel, each key's records in order."""
    groups: dict[Any, list[int]] = {}
    for index, routes in enumerate(plan):
        record = batch.records[index]
        if routes and record is not None and index not in batch.failures:
            key = tuple(sorted(record.keys.items()))
            groups.setdefault(key, []).append(index)

    def work(indices: list[int]) -> None:
        for index in indices:
            if index >= batch.stop_at:
                return
            _run_record(batch, index, plan[index])
            if index in batch.failures:
                return

    from concurrent.futures import ThreadPoolExecutor  # only concurrent routers load it

    with ThreadPoolExecutor(max_workers=batch.settings.max_concurrency) as pool:
        for future in [pool.submit(work, indices) for indices in groups.values()]:
            future.result()


def run_batch(
    items: Sequence[object],
    routes: Sequence[Route],
    settings: Settings,
    *,
    context: Any = None,
    window: Window | None = None,
    state: dict[str, Any] | None = None,
) -> BatchResult:
    """Process one batch; never raises for a record's failure."""
    started = time.perf_counter()
    count = len(items)
    batch = _Batch(settings, context, count)
    for index, item in enumerate(items):
        try:
            read = _read(item, index, settings.numbers)
        except RecordShapeError as error:
            batch.sequence_numbers[index] = _raw_sequence_number(item)
            batch.fail(index, None, error)
            continue
        batch.records[index] = read
        batch.sequence_numbers[index] = read.sequence_number

    per_route = {route.name: 0 for route in routes}
    plan: list[list[Route]] = [[]] * count
    grouped: dict[str, list[int]] = {r.name: [] for r in routes if r.kind != "record"}
    unmatched = 0
    first_only = settings.dispatch == "first"
    for index, record in enumerate(batch.records):
        if record is None:
            continue
        raw = record.raw
        chosen = []
        for route in routes:
            if route.matches(raw):
                chosen.append(route)
                if first_only:
                    break
        if not chosen:
            unmatched += 1
            if settings.on_unmatched == "error":
                batch.fail(index, None, UnmatchedRecordError(record.sequence_number))
            continue
        batch.matched[index] = len(chosen)
        for route in chosen:
            per_route[route.name] += 1
            if route.kind != "record":
                grouped[route.name].append(index)
        plan[index] = chosen if not grouped else [r for r in chosen if r.kind == "record"]

    if state is None and window is not None:
        state = {}
    try:
        for route in routes:
            if route.kind == "window" and window is None and grouped[route.name]:
                no_window = RecordShapeError(
                    "window",
                    f"route {route.name!r} needs a tumbling window; set "
                    "TumblingWindowInSeconds on the event source mapping",
                )
                for index in grouped[route.name]:
                    batch.fail(index, route.name, no_window)
            elif route.kind != "record":
                _run_group(batch, route, grouped[route.name], window, state)
        if settings.max_concurrency > 1:
            _run_concurrently(batch, plan)
        else:
            for index, routes_of in enumerate(plan):
                if index >= batch.stop_at:
                    break
                if routes_of and index not in batch.failures:
                    _run_record(batch, index, routes_of)
    finally:
        batch.driver.close()

    return _result(batch, per_route, unmatched, state, window, started)


def _result(
    batch: _Batch,
    per_route: dict[str, int],
    unmatched: int,
    state: dict[str, Any] | None,
    window: Window | None,
    started: float,
) -> BatchResult:
    count = len(batch.records)
    lowest = min(batch.failures) if batch.failures else count
    succeeded = not_attempted = 0
    for index in range(count):
        if index in batch.failures or not batch.matched[index]:
            continue
        if batch.ran[index] == batch.matched[index]:
            succeeded += 1
        else:
            not_attempted += 1
    return BatchResult(
        received=count,
        per_route=per_route,
        unmatched=unmatched,
        succeeded=succeeded,
        failed=len(batch.failures),
        not_attempted=not_attempted,
        failures=tuple(batch.failures[i] for i in sorted(batch.failures)),
        reported=_reported(batch, lowest),
        iterator_age=_iterator_age(batch.records),
        duration=time.perf_counter() - started,
        state=state,
        window=window,
    )


def _reported(batch: _Batch, lowest: int) -> tuple[str, ...]:
    """The lowest failure and everything after it; if the lowest failure has no sequence
    number, start from the nearest earlier record that has one (it is delivered again, so
    nothing is lost). Empty with failures means: fail the whole batch."""
    numbers = batch.sequence_numbers
    if lowest == len(numbers):
        return ()
    start = lowest
    while start >= 0 and numbers[start] is None:
        start -= 1
    if start < 0:
        return ()
    return tuple(n for n in numbers[start:] if n is not None)


def _iterator_age(records: list[StreamRecord | None]) -> float | None:
    """Seconds since the oldest record was written: a shard's records are in order, so the
    first readable record is the oldest."""
    first = next((r for r in records if r is not None), None)
    if first is None:
        return None
    try:
        created = first.approximate_creation_time.timestamp()
    except RecordShapeError:
        return None
    return max(0.0, time.time() - created)
