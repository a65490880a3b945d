"""The router's dispatcher: one generated function that matches a record against every route.

Each route's verdict must be exactly its criteria's: checked against the reference evaluator
of ``test_filters_properties`` (records with dotted keys, arrays and routes that stop early),
for first-match and dispatch="all". Then the router around it: routes declared after a
batch, criteria that match in their own way, how records are read, and the counts of a batch
that mixes batch and record routes with failures.
"""

from __future__ import annotations

import collections
import types
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamflow import Router, StreamRecord, testing
from streamflow.filters import Filter, FilterCriteria, prefix
from streamflow.filters._codegen import MAX_INLINE_FIELDS
from streamflow.filters._criteria import dispatcher
from tests.test_filters_properties import FAST, any_json, patterns, records, reference


def expected_mask(groups: list[list[dict[str, Any]]], record: Any, *, first: bool) -> int:
    """What the dispatcher must answer, from the reference: a criteria with no filters
    matches every record."""
    mask = 0
    for position, group in enumerate(groups):
        if not group or any(reference(pattern, record) for pattern in group):
            if first:
                return 1 << position
            mask |= 1 << position
    return mask


def criteria_of(groups: list[list[dict[str, Any]]]) -> list[FilterCriteria]:
    return [FilterCriteria(*(Filter.from_pattern(p) for p in group)) for group in groups]


route_groups = st.lists(st.lists(patterns(), max_size=3), min_size=1, max_size=5)


@FAST
@given(groups=route_groups, record=records, first=st.booleans())
def test_the_dispatcher_agrees_with_the_reference(
    groups: list[list[dict[str, Any]]], record: Any, first: bool
) -> None:
    choose = dispatcher(criteria_of(groups), first=first)
    assert choose(record) == expected_mask(groups, record, first=first)


@FAST
@given(groups=route_groups, record=any_json, first=st.booleans())
def test_the_dispatcher_agrees_with_each_criteria_on_any_json(
    groups: list[list[dict[str, Any]]], record: Any, first: bool
) -> None:
    criteria = criteria_of(groups)
    mask = 0
    for position, item in enumerate(criteria):
        if item.matches(record):
            mask |= 1 << position
            if first:
                break
    assert dispatcher(criteria, first=first)(record) == mask


KEY = "dynamodb.Keys.PK.S"
KEY_ROUTES: list[list[dict[str, Any]]] = [
    [{KEY: [{"prefix": "SCORE#"}]}],
    [{"eventName": ["MODIFY"], KEY: [{"prefix": "USER#"}]}],
    [{KEY: [{"exists": False}]}],
    [{KEY: [{"prefix": "X"}, {"exists": False}]}],
    [{KEY: [{"anything-but": ["USER#1"]}]}, {"dynamodb.Keys.SK.S": ["TOTAL"]}],
]
KEY_RECORDS: list[Any] = [
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "USER#1"}}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "USER#2"}}}},
    {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "SCORE#1"}}}},
    {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "X1"}, "SK": {"S": "TOTAL"}}}},
    {"eventName": "MODIFY", "dynamodb.Keys": {"PK": {"S": "USER#3"}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys.PK": {"S": "SCORE#3"}}, "x": 1},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK.S": "USER#4"}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": "USER#5"}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": None}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": [{"S": "USER#6"}]}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": [{"PK": {"S": "SCORE#7"}}]}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": ["USER#8", "SCORE#8"]}}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": 8}}}},
    {"eventName": "MODIFY", "dynamodb": None},
    {"eventName": "MODIFY"},
    # The direct route reaches a value that fails, or nothing, and a dotted key offers another
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "Q"}}}, KEY: "USER#9"},
    {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "Q"}, "PK.S": "SCORE#2"}}},
    {"eventName": "MODIFY", "dynamodb": {"Keys": {"PK": {"S": "Q"}}, "Keys.PK": {"S": "USER#7"}}},
    {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"N": "1"}}}, KEY: "SCORE#1"},
    {"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "Q"}}}, "dynamodb.Keys": {}},
]


@pytest.mark.parametrize("first", [True, False])
@pytest.mark.parametrize("record", KEY_RECORDS, ids=range(len(KEY_RECORDS)))
def test_routes_on_one_key_attribute_share_its_walk(record: Any, first: bool) -> None:
    choose = dispatcher(criteria_of(KEY_ROUTES), first=first)
    assert choose.__source__.count("pk_stop = pk_dotted = None") == 1  # type: ignore[attr-defined]
    assert choose(record) == expected_mask(KEY_ROUTES, record, first=first)
    for position, group in enumerate(KEY_ROUTES):  # each criteria alone, same walk code
        alone = FilterCriteria(*(Filter.from_pattern(p) for p in group))
        wanted = expected_mask([group], record, first=True) == 1
        assert alone.matches(record) is wanted, position


def test_too_many_fields_ask_each_route_in_turn() -> None:
    wide = {f"f{i}": ["x"] for i in range(MAX_INLINE_FIELDS // 2 + 1)}
    groups = [[wide], [{"f0": ["x"]}], [wide]]
    criteria = criteria_of(groups)
    every = {f"f{i}": "x" for i in range(MAX_INLINE_FIELDS)}
    for first in (True, False):
        choose = dispatcher(criteria, first=first)
        assert not hasattr(choose, "__source__")
        for record in (every, {"f0": "x"}, {}, None):
            assert choose(record) == expected_mask(groups, record, first=first)


def test_no_routes_match_nothing() -> None:
    assert dispatcher([], first=True)({"eventName": "INSERT"}) == 0
    assert dispatcher([], first=False)({"eventName": "INSERT"}) == 0


def test_route_values_never_reach_the_generated_code() -> None:
    sneaky = 'a\nraise SystemExit("injected")\n#'
    choose = dispatcher([FilterCriteria(Filter.from_pattern({sneaky: ["x"]}))], first=True)
    assert choose({sneaky: "x"}) == 1
    assert "injected" not in choose.__source__  # type: ignore[attr-defined]


# --- the router around it ------------------------------------------------------------------


def insert(pk: str, points: int = 0) -> testing.Change:
    return testing.insert({"PK": pk, "SK": "S", "points": points})


def test_a_route_declared_after_a_batch_gets_the_next_batch() -> None:
    router = Router()
    seen: list[str] = []

    @router.on(Filter.insert().key("PK", prefix("A")))
    def a(record: StreamRecord) -> None:
        seen.append("a:" + record.keys["PK"])

    event = testing.event(insert("A1"), insert("B1"))
    assert router.process(event["Records"]).unmatched == 1

    @router.on(Filter.insert())
    def rest(record: StreamRecord) -> None:
        seen.append("rest:" + record.keys["PK"])

    result = router.process(event["Records"])
    assert (result.unmatched, result.per_route) == (0, {"a": 1, "rest": 1})
    assert seen == ["a:A1", "a:A1", "rest:B1"]


@pytest.mark.parametrize("dispatch", ["first", "all"])
def test_criteria_that_match_in_their_own_way_are_asked(dispatch: str) -> None:
    class EveryOther(FilterCriteria):
        def matches(self, record: Any) -> bool:
            return int(record["dynamodb"]["Keys"]["PK"]["S"][1:]) % 2 == 0

    router = Router(dispatch=dispatch)  # type: ignore[arg-type]
    seen: list[tuple[str, str]] = []

    @router.on(EveryOther(Filter.remove()), name="even")
    def even(record: StreamRecord) -> None:
        seen.append(("even", record.keys["PK"]))

    @router.on(Filter.insert(), name="all")
    def every(record: StreamRecord) -> None:
        seen.append(("all", record.keys["PK"]))

    router.process(testing.event(insert("A1"), insert("A2"))["Records"])
    expected = [("even", "A2"), ("all", "A2")] if dispatch == "all" else [("even", "A2")]
    assert seen == [("all", "A1"), *expected]


def test_every_shape_of_record_is_read_and_matched() -> None:
    raws = testing.event(insert("A1"), insert("A2"), insert("A3"), insert("A4"))["Records"]
    items: list[Any] = [
        raws[0],
        collections.OrderedDict(raws[1]),
        types.MappingProxyType(raws[2]),
        StreamRecord.from_lambda(raws[3]),
    ]
    router = Router()
    seen: list[tuple[str, type]] = []

    @router.on(Filter.insert())
    def handle(record: StreamRecord) -> None:
        seen.append((record.keys["PK"], type(record.raw)))

    result = router.process(items)
    assert (result.succeeded, result.failed, result.unmatched) == (4, 0, 0)
    assert seen == [("A1", dict), ("A2", dict), ("A3", dict), ("A4", dict)]


@pytest.mark.parametrize("mode", ["stop", "continue"])
def test_counts_with_batch_and_record_routes_and_a_failure(mode: str) -> None:
    router = Router(dispatch="all", failure_mode=mode)  # type: ignore[arg-type]
    ran: list[int] = []

    @router.on_batch(Filter.insert())
    def batch(records: list[StreamRecord]) -> list[StreamRecord]:
        return [r for r in records if r.new_value("points") == 2]

    @router.on(Filter.insert())
    def each(record: StreamRecord) -> None:
        ran.append(record.new_value("points"))

    @router.on(Filter.insert().key("PK", prefix("B")))
    def some(record: StreamRecord) -> None:
        if record.new_value("points") == 5:
            raise ValueError("boom")

    event = testing.event(*(insert("B" if i % 2 else "A", i) for i in range(6)), insert("C", 9))
    result = router.process(event["Records"])
    numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert result.per_route == {"batch": 7, "each": 7, "some": 3}
    assert result.reported == tuple(numbers[2:])
    if mode == "stop":
        # 2 fails in the batch route: 0 and 1 finish, the rest is not started.
        assert ran == [0, 1]
        assert (result.succeeded, result.failed, result.not_attempted) == (2, 1, 4)
    else:
        # Everything but 2 runs; 5 fails in "some", after "each".
        assert ran == [0, 1, 3, 4, 5, 9]
        assert (result.succeeded, result.failed, result.not_attempted) == (5, 2, 0)
        assert [f.route for f in result.failures] == ["batch", "some"]
