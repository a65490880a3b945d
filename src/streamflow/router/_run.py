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

The module runs past 400 lines: every step reads and writes one invocation's state
(``_Batch``), and keeping the steps beside it keeps the order of work readable in one place.
"""

from __future__ import annotations

import _thread
import time
from collections import Counter  # loaded with collections.abc anyway
from collections.abc import Callable, Iterable, Mapping, Sequence

from streamflow._value import Value
from streamflow.errors import HandlerTimeoutError, RecordShapeError, UnmatchedRecordError
from streamflow.records import StreamRecord
from streamflow.records._read import read_record, sequence_number_of
from streamflow.router._calls import Driver, Overran
from streamflow.router._deadline import Deadline
from streamflow.router._report import BatchResult, RecordFailure, Window

__all__ = ["Route", "Settings", "run_batch"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, Literal

    from streamflow.router._calls import ArgumentKind

    RouteKind = Literal["record", "batch", "window"]
    # A record route ready to call: the route, its handler, and whether it takes the record
    # alone.
    _Call = tuple["Route", Callable[..., Any], bool]


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

    __slots__ = (
        "dispatch",
        "failure_mode",
        "max_concurrency",
        "numbers",
        "on_unmatched",
        "time_margin",
    )
    dispatch: Literal["first", "all"]
    on_unmatched: Literal["ignore", "error"]
    failure_mode: Literal["stop", "continue"]
    max_concurrency: int
    numbers: Literal["auto", "decimal", "float"]
    time_margin: float | Literal["auto"] | None


class _Batch:
    """The mutable state of one invocation."""

    def __init__(self, settings: Settings, context: Any, count: int) -> None:
        self.settings = settings
        self.context = context
        self.driver = Driver()
        self.records: list[StreamRecord | None] = [None] * count
        self.masks = [0] * count  # per record, the routes it matched: bit i for routes[i]
        self.needed: dict[int, int] = {0: 0}  # per mask, how many routes it names
        self.matched = 0  # records that matched a route
        self.unread: dict[int, str | None] = {}  # records that could not be read: raw numbers
        self.failures: dict[int, RecordFailure] = {}
        self.stop_at = count
        self.ran = [0] * count  # handlers completed, per record
        self.runs: dict[int, tuple[_Call, ...]] = {0: ()}  # per mask, the record routes to call
        self.lock = _thread.allocate_lock()  # threading's Lock, without threading.py (1 ms)
        self.deadline = Deadline.of(context, settings.time_margin)
        self.deferred_at = count  # nothing at or after it was started: time ran out
        self.closed = False  # the result is taken: a lane still running changes nothing

    def time_left(self) -> float | None:
        """Seconds a handler may still take, or None without a deadline."""
        return None if self.deadline is None else max(0.0, self.deadline.left())

    def defer(self, index: int) -> None:
        """Start nothing at or after ``index``: the invocation's time is running out."""
        with self.lock:
            if not self.closed:
                self.deferred_at = min(self.deferred_at, index)
                self.stop_at = min(self.stop_at, index)

    def sequence_number(self, index: int) -> str | None:
        """The record's, or the usable one of a record that could not be read, or None."""
        record = self.records[index]
        return record.sequence_number if record is not None else self.unread.get(index)

    def fail(self, index: int, route: str | None, error: BaseException) -> None:
        with self.lock:
            if self.closed:
                return
            if index not in self.failures:
                self.failures[index] = RecordFailure(
                    index=index,
                    sequence_number=self.sequence_number(index),
                    route=route,
                    error=error,
                )
            if self.settings.failure_mode == "stop" and index < self.stop_at:
                self.stop_at = index


def _arguments(route: Route, batch: _Batch, record: StreamRecord) -> list[Any]:
    out: list[Any] = []
    for kind in route.arguments:
        if kind == "record":
            out.append(record)
        elif kind == "model":
            # The item as the change left it (as it was, for REMOVE); the keys when the
            # stream's view type does not carry that image. Never the image from before a
            # MODIFY: on an OLD_IMAGE stream that would hand the handler a stale item.
            image = record.old_image if record.event_name == "REMOVE" else record.new_image
            source = "image"
            if image is None:
                image, source = record.keys, "keys"  # its errors say so
            from streamflow.models import from_item

            out.append(from_item(route.model, image, source=source))  # type: ignore[arg-type]
        else:
            out.append(batch.context)
    return out


_RECORD_ONLY = ("record",)


def _calls(routes: Iterable[Route]) -> tuple[_Call, ...]:
    """The record routes among ``routes``, each with its handler and whether it takes the
    record alone (then it is called with it directly, with no argument list to build)."""
    return tuple(
        (route, route.handler, route.arguments == _RECORD_ONLY)
        for route in routes
        if route.kind == "record"
    )


def _run_record(
    batch: _Batch, index: int, calls: tuple[_Call, ...], lane: list[Any] | None = None
) -> bool:
    """Call a record's record routes in order; False when one fails (the rest are skipped)
    or when the invocation's time is up (the record is deferred). ``lane``, for concurrent
    lanes, is kept up to date with the record and route being run."""
    if batch.deadline is not None and batch.deadline.passed():
        batch.defer(index)
        return False
    record = batch.records[index]
    assert record is not None
    for route, handler, plain in calls:
        if lane is not None:
            lane[:] = [index, route.name]
        try:
            result = handler(record) if plain else handler(*_arguments(route, batch, record))
            if result is not None and hasattr(result, "__await__"):
                batch.driver.wait(result, batch.time_left())
        except KeyboardInterrupt:  # an operator's Ctrl-C interrupts; Lambda never raises it
            raise
        except BaseException as error:  # CancelledError, SystemExit...: the record fails
            batch.fail(index, route.name, _as_failure(error, route))
            return False
        batch.ran[index] += 1
    return True


def _as_failure(error: BaseException, route: Route) -> BaseException:
    """What a record's failure says: a handler that overran its time is a timeout."""
    if isinstance(error, Overran):
        return HandlerTimeoutError(route.name, error.seconds)
    return error


def _failed_positions(
    returned: object, indices: list[int], batch: _Batch, route: str
) -> dict[int, BaseException]:
    """Positions named by what a batch handler returned, with their errors.

    A handler returns the records that failed, their sequence numbers, ``(record,
    exception)`` pairs that say why, or Lambda's own ``{"batchItemFailures": [...]}``.
    """
    if returned is None:
        return {}
    if isinstance(returned, Mapping):  # Lambda's own response shape, returned as it is
        returned = _item_identifiers(returned, route)
    if (
        isinstance(returned, (str, StreamRecord))
        or _is_pair(returned)
        or not isinstance(returned, Iterable)
    ):
        items: Iterable[Any] = [returned]  # one failure; a tuple of them is a sequence
    else:
        items = returned
    by_number = {batch.sequence_number(i): i for i in indices}
    failed: dict[int, BaseException] = {}
    for item in items:
        error: BaseException = RuntimeError(f"reported failed by route {route!r}")
        if _is_pair(item):
            item, error = item
        number = item.sequence_number if isinstance(item, StreamRecord) else item
        if number not in by_number:
            raise TypeError(
                "a batch handler returns the records (or sequence numbers, or (record, "
                f"exception) pairs) that failed; {item!r} is not one of the records it was given"
            )
        failed.setdefault(by_number[number], error)
    return dict(sorted(failed.items()))


def _item_identifiers(response: Mapping[Any, Any], route: str) -> list[object]:
    """The sequence numbers of ``{"batchItemFailures": [{"itemIdentifier": ...}]}``."""
    entries = response.get("batchItemFailures")
    if set(response) - {"batchItemFailures"} or not isinstance(entries, list):
        raise TypeError(
            f"batch route {route!r} returned a mapping; the one accepted is Lambda's response "
            '{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}, ...]}'
        )
    numbers: list[object] = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("itemIdentifier"), str):
            raise TypeError(
                f"batch route {route!r} returned a batchItemFailures entry without an "
                f"itemIdentifier string: {entry!r}"
            )
        numbers.append(entry["itemIdentifier"])
    return numbers


def _is_pair(item: object) -> bool:
    """A ``(record or sequence number, exception)`` pair, as opposed to a tuple of failed
    records or sequence numbers."""
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], BaseException)


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
    if indices and batch.deadline is not None and batch.deadline.passed():
        batch.defer(indices[0])
        return
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
        returned = batch.driver.call(route.handler, args, batch.time_left())
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
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the same rule as for record routes (see _run_record)
        error = _as_failure(error, route)
        if not indices:
            # The final invocation of a window, with no record to report: answering success
            # would let Lambda discard the window's state with its final processing undone.
            # Failing the invocation makes Lambda retry it, as it does until it succeeds.
            raise
        for index in indices:
            batch.fail(index, route.name, error)
        return
    for index, reason in failed.items():
        batch.fail(index, route.name, reason)
    for index in indices:
        if index not in failed:
            batch.ran[index] += 1


def _run_in_order(batch: _Batch) -> None:
    """Record routes, record by record in stream order; in stop mode, up to a failure."""
    runs, masks, failures = batch.runs, batch.masks, batch.failures
    for index in range(len(masks)):
        if index >= batch.stop_at:  # stop mode: a failure (or an earlier one) ends the run
            return
        calls = runs[masks[index]]
        if calls and index not in failures:
            _run_record(batch, index, calls)


def _run_concurrently(batch: _Batch) -> None:
    """Record routes per item key: keys in parallel, each key's records in order."""
    runs = batch.runs
    groups: dict[Any, list[int]] = {}
    for index, mask in enumerate(batch.masks):
        record = batch.records[index]
        if runs[mask] and record is not None and index not in batch.failures:
            try:
                key = tuple(sorted(record.keys.items()))
                groups.setdefault(key, []).append(index)
            except Exception as error:  # keys that cannot be decoded (or hashed): unreadable
                batch.fail(index, None, error)

    lanes: list[list[Any]] = []  # per lane: the record and route it is running

    def work(indices: list[int], lane: list[Any]) -> None:
        for index in indices:
            if index >= batch.stop_at:
                return
            if not _run_record(batch, index, runs[batch.masks[index]], lane):
                return
        lane.clear()

    from concurrent.futures import ThreadPoolExecutor, wait  # only concurrent routers load it

    pool = ThreadPoolExecutor(max_workers=batch.settings.max_concurrency)
    overran = False
    try:
        futures = []
        for indices in groups.values():
            lanes.append([])
            futures.append(pool.submit(work, indices, lanes[-1]))
        done, pending = wait(futures, timeout=batch.time_left())
        for future in done:
            future.result()
        if pending:  # a handler still running at the deadline: its record fails
            overran = True
            seconds = batch.deadline.margin if batch.deadline is not None else 0.0
            for lane in lanes:
                if lane:
                    index, route = lane
                    batch.fail(index, route, HandlerTimeoutError(route, seconds))
                    batch.defer(index + 1)
            with batch.lock:
                batch.closed = True
    finally:
        # A lane that overran keeps its thread until its handler returns; nothing waits.
        pool.shutdown(wait=not overran, cancel_futures=True)


def run_batch(
    items: Sequence[object],
    routes: Sequence[Route],
    settings: Settings,
    *,
    choose: Callable[[Any], int],
    context: Any = None,
    window: Window | None = None,
    state: dict[str, Any] | None = None,
) -> BatchResult:
    """Process one batch; never raises for a record's failure.

    ``choose(raw)`` names the routes a raw record matches as a bit mask, bit ``i`` for
    ``routes[i]``: the first alone with ``dispatch="first"``, every one with ``"all"``.
    """
    started = time.perf_counter()
    count = len(items)
    batch = _Batch(settings, context, count)
    records, masks = batch.records, batch.masks
    numbers = settings.numbers
    # Read and match each record. Matching is pure, so matching each record as soon as it is
    # read is the same as reading them all first.
    for index, item in enumerate(items):
        try:
            record = read_record(item, index, numbers)
        except RecordShapeError as error:
            batch.unread[index] = sequence_number_of(item)
            batch.fail(index, None, error)
            continue
        records[index] = record
        masks[index] = choose(record.change)  # a Kinesis record: the change it carries

    # Records matching the same routes share a mask: count and plan per mask, not per record.
    bits = [(1 << position, route) for position, route in enumerate(routes)]
    per_route = {route.name: 0 for route in routes}
    runs = batch.runs  # per mask, its record routes to call
    unmatched = 0
    for mask, hits in Counter(masks).items():
        if not mask:
            unmatched = hits - len(batch.unread)  # unread records have mask 0 too
            continue
        batch.matched += hits
        chosen = [route for bit, route in bits if mask & bit]
        for route in chosen:
            per_route[route.name] += hits
        batch.needed[mask] = len(chosen)
        runs[mask] = _calls(chosen)
    if unmatched and settings.on_unmatched == "error":
        for index, (mask, read) in enumerate(zip(masks, records, strict=True)):
            if not mask and read is not None:
                batch.fail(index, None, UnmatchedRecordError(read.sequence_number))
    grouped = {
        route.name: [index for index, mask in enumerate(masks) if mask & bit]
        for bit, route in bits
        if route.kind != "record"
    }

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
            _run_concurrently(batch)
        else:
            _run_in_order(batch)
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
    with batch.lock:
        batch.closed = True  # a lane that overran its deadline changes nothing from here
    lowest = min(min(batch.failures, default=count), batch.deferred_at)
    # A record that matched a route and did not fail succeeded if all of its handlers
    # completed; else it was deferred (at or after the point where time ran out) or not
    # attempted (skipped after an earlier failure, in stop mode). Only a failure or the
    # deadline skips work, so without either every matched record succeeded: the usual
    # batch is not counted record by record.
    succeeded = batch.matched
    not_attempted = deferred = 0
    if batch.failures or batch.deferred_at < count:
        succeeded = 0
        needed = batch.needed
        for index, (mask, ran) in enumerate(zip(batch.masks, batch.ran, strict=True)):
            if mask and index not in batch.failures:
                if ran == needed[mask]:
                    succeeded += 1
                elif index >= batch.deferred_at:
                    deferred += 1
                else:
                    not_attempted += 1
    return BatchResult(
        received=count,
        per_route=per_route,
        unmatched=unmatched,
        succeeded=succeeded,
        failed=len(batch.failures),
        not_attempted=not_attempted,
        deferred=deferred,
        deferred_reason=batch.deadline.reason() if deferred and batch.deadline else None,
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
    count = len(batch.records)
    if lowest == count:
        return ()
    start = lowest
    while start >= 0 and batch.sequence_number(start) is None:
        start -= 1
    if start < 0:
        return ()
    numbers = (batch.sequence_number(index) for index in range(start, count))
    return tuple(number for number in numbers if number is not None)


def _iterator_age(records: list[StreamRecord | None]) -> float | None:
    """Seconds since the oldest record was written: a shard's records are in order, so the
    first readable record is the oldest."""
    first = next((r for r in records if r is not None), None)
    if first is None:
        return None
    try:
        created = first.approximate_creation_epoch
    except RecordShapeError:
        return None
    return max(0.0, time.time() - created)
