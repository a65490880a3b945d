"""Hostile input (issue 11): events that are valid JSON but that no AWS service would send
(exponents past what ``Decimal`` holds, nesting past the stack, sequence numbers of thousands
of digits, Kinesis records wrapping garbage, every field of the wrong type) and Python-built
items to match. Whatever comes in, only streamflow's typed errors come out, and in the Router
each bad record fails alone: exactly the ``batchItemFailures`` docs/partial-failures.md
promises, and nothing started after the first failure in stop mode."""

from __future__ import annotations

import functools
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Optional, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamflow import Router, StreamRecord, parse_event
from streamflow.errors import StreamflowError
from streamflow.filters import Filter, FilterCriteria
from streamflow.models import from_item
from streamflow.recipes._scores_changes import change_of, checked_points, task_types_needed
from streamflow.records._read import sequence_number_of
from tests import strategies

HOSTILE = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Score:
    PK: str
    userId: str
    n: int = 0
    taskType: Optional[Literal["easy", "medium", "hard"]] = None  # noqa: UP045 (3.10 runs it)
    points: Decimal | None = None


class Keys(TypedDict):
    PK: str
    SK: str


@dataclass
class Tree:
    n: int = 0
    x: Optional[Tree] = None  # noqa: UP045


class Everything(TypedDict, total=False):
    n: float
    userId: str
    x: list[dict[str, set[int]]]
    points: datetime
    taskType: frozenset[bytes]
    PK: Tree


def _typed(read: Callable[[], object]) -> str | None:
    """Run ``read``: the name of the StreamflowError it raised, or None; anything else raises."""
    try:
        read()
    except StreamflowError as error:
        return type(error).__name__
    return None


def _every_accessor(record: StreamRecord) -> list[Callable[[], object]]:
    names = ["n", "userId", "missing"]
    return [
        lambda: record.keys,
        lambda: record.new_image,
        lambda: record.old_image,
        *(lambda name=name: record.new_value(name) for name in names),
        *(lambda name=name: record.old_value(name, 0) for name in names),
        record.changed_attributes,
        lambda: record.new_image_as(Score),
        lambda: record.old_image_as(Everything),
        lambda: record.keys_as(Keys),
        lambda: record.sequence_number_int,
        lambda: record.approximate_creation_time,
        lambda: record.table_name,
        lambda: record.stream_view_type,
        lambda: record.event_version,
        lambda: record.event_source,
        lambda: record.aws_region,
        lambda: record.event_source_arn,
        lambda: record.size_bytes,
        lambda: repr(record),
        lambda: hash(record),
        lambda: pickle.loads(pickle.dumps(record)).sequence_number,
        lambda: change_of(record, {"easy": 5, "hard": LookupError("no mapping")}),
        lambda: task_types_needed([record]),
    ]


# --- records: parse_event and every accessor --------------------------------------------------


@given(strategies.hostile_events, st.sampled_from(["auto", "decimal", "float"]))
@HOSTILE
def test_parse_event_and_every_accessor_raise_only_typed_errors(
    event: dict[str, Any], numbers: Any
) -> None:
    _typed(lambda: parse_event(event, numbers=numbers))
    for raw in event["Records"]:
        try:
            [record] = parse_event({"Records": [raw]}, numbers=numbers)
        except StreamflowError:
            continue
        assert record.is_ttl_delete in (True, False)  # never raises at all
        for read in _every_accessor(record):
            _typed(read)


@given(strategies.hostile_attributes, strategies.hostile_attributes)
@HOSTILE
def test_get_records_images_raise_only_typed_errors(new: Any, old: Any) -> None:
    record = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": {"PK": {"S": "a"}, **{k: v for k, v in new.items() if k == "x"}},
            "NewImage": new,
            "OldImage": old,
            "SequenceNumber": "1" * 21,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    read = StreamRecord.from_get_records(record, stream_arn="arn:aws:dynamodb:r:1:table/t/s/1")
    for accessor in _every_accessor(read):
        _typed(accessor)


# --- models: decoded and Python-built items ---------------------------------------------------


def _python_values() -> st.SearchStrategy[Any]:
    """What a Python caller may hand from_item: huge ints, deep and self-similar nests."""
    deep_tuple = strategies.deep_tuple(5000)
    deep_dict: Any = {"n": 1}
    for _ in range(5000):
        deep_dict = {"n": 1, "x": deep_dict}
    return st.one_of(
        strategies.json_values,
        strategies.values,
        st.sampled_from(
            [
                10**5000,
                Decimal("1E+999999999999999999"),
                Decimal("-1E-999999999999999999"),
                Decimal("NaN"),
                deep_tuple,
                [deep_tuple],
                {deep_tuple: 1},
                {10**5000: 1},
                {10**5000},
                deep_dict,
            ]
        ),
    )


@given(
    st.dictionaries(st.sampled_from([*Everything.__annotations__, "x"]), _python_values()),
    st.sampled_from([Score, Keys, Tree, Everything]),
)
@HOSTILE
def test_from_item_raises_only_model_errors(item: dict[str, Any], model: Any) -> None:
    _typed(lambda: from_item(model, item))


@given(_python_values())
@HOSTILE
def test_checked_points_raises_only_its_value_error(value: Any) -> None:
    try:
        points = checked_points(value, "the new image")
    except ValueError as error:  # its contract: the callers turn it into a ScoreRecordError
        points, message = 0, str(error)
    else:
        message = ""
    assert points >= 0
    assert len(message) < 200


# --- the Router: each bad record fails alone ---------------------------------------------------

_INSERTS = Filter.events("INSERT")
_EVERYTHING = FilterCriteria()


def _read_inserted(record: StreamRecord) -> None:
    _ = record.keys, record.new_value("n"), record.sequence_number_int
    record.new_image_as(Score)


def _read_any(record: StreamRecord) -> None:
    _ = record.old_image, record.table_name, record.approximate_creation_time
    record.changed_attributes()


_ROUTES: tuple[tuple[Filter | FilterCriteria, Callable[[StreamRecord], None]], ...] = (
    (_INSERTS, _read_inserted),
    (_EVERYTHING, _read_any),
)


class _Counting:
    """A Router whose handlers read the record (what _ROUTES says) and count their starts."""

    def __init__(self, failure_mode: Any) -> None:
        self.started: dict[int, int] = {}
        self.untyped: list[BaseException] = []
        self.router = Router(failure_mode=failure_mode)
        for number, (criteria, read) in enumerate(_ROUTES):
            self.router.on(criteria, name=f"route{number}")(self._handler(read))

    def _handler(self, read: Callable[[StreamRecord], None]) -> Callable[[StreamRecord], None]:
        def handle(record: StreamRecord) -> None:
            assert record.index is not None
            self.started[record.index] = self.started.get(record.index, 0) + 1
            try:
                read(record)
            except StreamflowError:
                raise
            except BaseException as error:  # the test reports it below
                self.untyped.append(error)
                raise

        return handle


_COUNTING = {mode: _Counting(mode) for mode in ("stop", "continue")}


def _expected_outcome(raw: Any) -> tuple[bool, bool]:
    """(handled, failed) of one raw record, found outside the router: it fails if it cannot be
    read, or if the first route whose filter matches it fails to read it."""
    try:
        [record] = parse_event({"Records": [raw]})
    except StreamflowError:
        return False, True
    for criteria, read in _ROUTES:
        if criteria.matches(raw):
            return True, _typed(functools.partial(read, record)) is not None
    return False, False


@given(strategies.hostile_events, st.sampled_from(["stop", "continue"]))
@HOSTILE
def test_the_router_fails_each_bad_record_alone(event: dict[str, Any], mode: str) -> None:
    counting = _COUNTING[mode]
    counting.started.clear()
    records = event["Records"]
    outcomes = [_expected_outcome(raw) for raw in records]
    failed = [index for index, (_, fails) in enumerate(outcomes) if fails]
    lowest = failed[0] if failed else len(records)
    numbers = [sequence_number_of(raw) for raw in records]
    start = lowest  # a failure without a number is reported from the nearest number before it
    while failed and start >= 0 and numbers[start] is None:
        start -= 1

    if failed and start < 0:  # nothing to report: Lambda must retry the whole batch
        with pytest.raises(StreamflowError):
            counting.router.lambda_handler(event, None)
    else:
        response = counting.router.lambda_handler(event, None)
        reported = [n for n in numbers[start:] if n is not None] if failed else []
        assert response == {"batchItemFailures": [{"itemIdentifier": n} for n in reported]}
    assert not counting.untyped, counting.untyped
    for index, (handled, _) in enumerate(outcomes):
        ran = counting.started.get(index, 0)
        if mode == "stop" and index > lowest:
            assert ran == 0, f"record {index} started after the failure at {lowest}"
        else:
            assert ran == int(handled), f"record {index} handled {ran} times"
