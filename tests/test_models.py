"""Tests for streamflow.models: from_item, Attr and KeyTemplate."""

from __future__ import annotations

import ast
import collections.abc
import dataclasses
import enum
import pickle
import re
import subprocess
import sys
import typing
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Literal, NewType, Optional, TypedDict, Union

import pytest
import typing_extensions

import streamflow.models
from streamflow.errors import KeyTemplateError, ModelError, StreamflowError
from streamflow.models import Attr, KeyTemplate, from_item
from streamflow.models._compile import MAX_NESTING_DEPTH as MAX_DEPTH
from tests import strategies

SRC = Path(__file__).resolve().parents[1] / "src" / "streamflow"


def problems_of(model: type[Any], item: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (path, reason) pairs of the ModelError that mapping ``item`` raises."""
    with pytest.raises(ModelError) as caught:
        from_item(model, item)
    return list(caught.value.problems)


def convert(annotation: Any, value: Any) -> Any:
    """Map ``{"v": value}`` onto a one-field dataclass annotated ``annotation``."""
    return from_item(_one_field(annotation), {"v": value}).v


def rejection(annotation: Any, value: Any) -> list[tuple[str, str]]:
    return problems_of(_one_field(annotation), {"v": value})


_MODELS: dict[Any, type[Any]] = {}


def _one_field(annotation: Any) -> type[Any]:
    key = repr(annotation)
    if key not in _MODELS:
        _MODELS[key] = dataclasses.make_dataclass("One", [("v", annotation)])
    return _MODELS[key]


# --- models used below ----------------------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Loose(enum.Enum):
    ON = "on"

    @classmethod
    def _missing_(cls, value: object) -> Loose | None:
        return cls.ON if isinstance(value, str) and value.lower() == "on" else None


UserId = NewType("UserId", str)


@dataclass
class Owner:
    name: str
    age: int


@dataclass
class Event:
    at: datetime
    note: str


@dataclass
class Meta:
    history: list[Event]
    labels: dict[str, int]


@dataclass
class Profile:
    pk: Annotated[str, Attr("PK")]
    sk: Annotated[str, Attr("SK")]
    owner: Owner
    meta: Meta
    tags: set[str]
    score: int = 0
    nickname: str | None = None
    friends: list[str] = field(default_factory=list)


class OwnerDict(TypedDict):
    name: str
    age: int


class Partial(TypedDict, total=False):
    name: str
    age: int


class Mixed(TypedDict):
    name: str
    age: typing_extensions.NotRequired[int]
    nick: Annotated[typing_extensions.NotRequired[str], Attr("Nick")]


class Opposite(typing_extensions.TypedDict, total=False):
    name: typing_extensions.Required[str]
    age: int
    frozen: typing_extensions.ReadOnly[typing_extensions.Required[int]]


@dataclass
class Holder:
    owner: OwnerDict
    owners: list[Owner]


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


# --- scalars ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "value", "expected"),
    [
        (str, "abc", "abc"),
        (str, "", ""),
        (int, 3, 3),
        (int, -7, -7),
        (int, Decimal("2"), 2),
        (int, Decimal("2.000"), 2),
        (int, Decimal("1E+2"), 100),
        (int, 4.0, 4),
        (float, 1.5, 1.5),
        (float, 2, 2.0),
        (float, Decimal("1.25"), 1.25),
        (Decimal, Decimal("1.5"), Decimal("1.5")),
        (Decimal, 2, Decimal(2)),
        (Decimal, 0.1, Decimal("0.1")),
        (bytes, b"\x00\x01", b"\x00\x01"),
        (bool, True, True),
        (bool, False, False),
        (None, None, None),
        (type(None), None, None),
        (UserId, "u-1", "u-1"),
    ],
)
def test_scalar_accepted(annotation: Any, value: Any, expected: Any) -> None:
    result = convert(annotation, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("annotation", "value", "reason"),
    [
        (str, 5, "expected str, got int"),
        (str, b"x", "expected str, got bytes"),
        (int, True, "expected int, got bool"),
        (int, "3", "expected int, got str"),
        (int, Decimal("1.5"), "expected int, got non-integral number 1.5"),
        (int, 1.5, "expected int, got non-integral number 1.5"),
        (int, Decimal("NaN"), "expected int, got non-integral number NaN"),
        (int, Decimal("Infinity"), "expected int, got non-integral number Infinity"),
        (float, True, "expected float, got bool"),
        (float, "1.5", "expected float, got str"),
        (float, Decimal("1E+400"), "number Decimal('1E+400') does not fit a float"),
        (float, 10**400, "number 1" + "0" * 36 + "... does not fit a float"),
        (Decimal, False, "expected Decimal, got bool"),
        (Decimal, "1.5", "expected Decimal, got str"),
        (bytes, "x", "expected bytes, got str"),
        (bytes, bytearray(b"x"), "expected bytes, got bytearray"),
        (bool, 1, "expected bool, got int"),
        (bool, "true", "expected bool, got str"),
        (None, 0, "expected None, got int"),
        (UserId, 7, "expected str, got int"),
    ],
)
def test_scalar_rejected(annotation: Any, value: Any, reason: str) -> None:
    assert rejection(annotation, value) == [("v", reason)]


@pytest.mark.parametrize("annotation", [str, int, float, Decimal, bytes, bool, list[int], Owner])
def test_none_needs_optional(annotation: Any) -> None:
    [(path, reason)] = rejection(annotation, None)
    assert path == "v"
    assert reason.endswith("got None (use Optional[...] to allow it)")


@pytest.mark.parametrize("annotation", [Any, object])
@pytest.mark.parametrize("value", [None, 1, "x", [1, {"a": b"b"}], {"s"}])
def test_any_and_object_pass_through(annotation: Any, value: Any) -> None:
    assert convert(annotation, value) is value


def test_str_subclass_is_kept() -> None:
    class Text(str):
        pass

    value = Text("x")
    assert convert(str, value) is value


# --- Optional, Union, Literal, Enum -----------------------------------------------------------


@pytest.mark.parametrize(
    "annotation",
    [Optional[int], int | None, Union[None, int]],  # noqa: UP007, UP045 (the old spellings too)
)
def test_optional(annotation: Any) -> None:
    assert convert(annotation, None) is None
    assert convert(annotation, 3) == 3
    assert convert(annotation, Decimal("3")) == 3
    assert rejection(annotation, "3") == [("v", "expected int, got str")]


def test_union_exact_type_wins() -> None:
    assert convert(int | str, 5) == 5
    assert convert(int | str, "5") == "5"
    assert type(convert(float | int, 2)) is int
    assert convert(int | bool, True) is True


def test_union_otherwise_left_to_right() -> None:
    assert convert(Decimal | float, 5) == Decimal(5)
    assert type(convert(float | Decimal, 5)) is float
    assert convert(int | float, Decimal("1.5")) == 1.5


def test_union_rejected_names_every_member() -> None:
    assert rejection(int | str, b"x") == [("v", "expected int | str, got bytes")]
    # typing caches unions by equality, so the members' order here can be that of an equal
    # union built earlier in the process: compare the members, not their order.
    [(path, reason)] = rejection(Optional[Union[int, str]], True)  # noqa: UP007, UP045
    expected, got = reason.removeprefix("expected ").split(", got ")
    assert (path, set(expected.split(" | ")), got) == ("v", {"int", "str", "None"}, "bool")


def test_union_reports_the_member_that_got_furthest() -> None:
    problems = rejection(Owner | str, {"name": "ada", "age": "old"})
    assert problems == [("v.age", "expected int, got str")]


def test_literal() -> None:
    choice = Literal["a", "b"]
    assert convert(choice, "a") == "a"
    assert rejection(choice, "c") == [("v", "expected one of 'a', 'b', got 'c'")]
    assert rejection(choice, ["a"]) == [("v", "expected one of 'a', 'b', got ['a']")]


def test_literal_keeps_bool_and_int_apart() -> None:
    assert convert(Literal[1, 2], Decimal("2")) == 2
    assert rejection(Literal[1], True) == [("v", "expected one of 1, got True")]
    assert convert(Literal[True], True) is True
    assert rejection(Literal[True], 1) == [("v", "expected one of True, got 1")]


def test_literal_of_enum_members() -> None:
    assert convert(Literal[Color.RED], "red") is Color.RED
    assert rejection(Literal[Color.RED], "green")[0][0] == "v"


def test_enum_by_value() -> None:
    assert convert(Color, "green") is Color.GREEN
    assert convert(Level, 2) is Level.HIGH
    assert convert(Level, Decimal("1")) is Level.LOW
    assert convert(Loose, "ON") is Loose.ON  # the enum's own _missing_ hook


@pytest.mark.parametrize(
    ("annotation", "value", "reason"),
    [
        (Color, "blue", "expected a value of Color ('red', 'green'), got 'blue'"),
        (Color, "RED", "expected a value of Color ('red', 'green'), got 'RED'"),
        (Level, True, "expected a value of Level (1, 2), got True"),
        (Level, Decimal("1.5"), "expected a value of Level (1, 2), got Decimal('1.5')"),
        (Level, "1", "expected a value of Level (1, 2), got '1'"),
    ],
)
def test_enum_rejected(annotation: Any, value: Any, reason: str) -> None:
    assert rejection(annotation, value) == [("v", reason)]


# --- containers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "annotation",
    [list[int], Sequence[int], MutableSequence[int], typing.List[int]],  # noqa: UP006
)
def test_list_forms(annotation: Any) -> None:
    value = [1, Decimal("2")]
    result = convert(annotation, value)
    assert result == [1, 2]
    assert type(result) is list
    assert result is not value


def test_list_is_a_copy_even_when_nothing_converts() -> None:
    value = ["a", "b"]
    result = convert(list[str], value)
    assert result == value
    assert result is not value
    assert convert(list, value) == value


def test_list_problems_have_indexes() -> None:
    assert rejection(list[int], [1, "x", 3, True]) == [
        ("v[1]", "expected int, got str"),
        ("v[3]", "expected int, got bool"),
    ]


def test_list_rejects_a_set_with_a_hint() -> None:
    [(path, reason)] = rejection(list[str], {"a"})
    assert path == "v"
    assert reason == (
        "expected list[str], got set (use set[...] or frozenset[...] for a DynamoDB set)"
    )
    assert rejection(list[str], "ab") == [("v", "expected list[str], got str")]


def test_tuple_forms() -> None:
    assert convert(tuple[int, ...], [1, Decimal("2")]) == (1, 2)
    assert convert(tuple, [1, "a"]) == (1, "a")
    assert convert(tuple[int, str], [1, "a"]) == (1, "a")
    assert rejection(tuple[int, str], [1]) == [
        ("v", "expected tuple[int, str] with 2 items, got 1")
    ]
    assert rejection(tuple[int, str], ["a", 1]) == [
        ("v[0]", "expected int, got str"),
        ("v[1]", "expected str, got int"),
    ]


@pytest.mark.parametrize(
    "annotation", [set[str], collections.abc.Set[str], typing.AbstractSet[str]]
)
def test_set_from_set_or_list(annotation: Any) -> None:
    value = {"a", "b"}
    copied = convert(annotation, value)
    assert copied == value
    assert copied is not value
    result = convert(annotation, ["a", "b", "a"])  # a DynamoDB L: duplicates collapse
    assert result == {"a", "b"}
    assert type(result) is set


def test_frozenset() -> None:
    result = convert(frozenset[int], {1, Decimal("2")})
    assert result == frozenset({1, 2})
    assert type(result) is frozenset


def test_set_problems() -> None:
    assert rejection(set[int], {"x", 1, "a"}) == [
        ("v", "member 'a': expected int, got str"),
        ("v", "member 'x': expected int, got str"),
    ]
    assert rejection(set[int], [1, "x"]) == [("v[1]", "expected int, got str")]
    assert rejection(set[str], "abc") == [
        ("v", "expected set[str] (a DynamoDB set or list), got str")
    ]
    [(path, reason)] = rejection(set[Any], [[1]])
    assert path == "v"
    assert reason.startswith("members must be hashable")


@pytest.mark.parametrize(
    "annotation",
    [dict[str, int], Mapping[str, int], MutableMapping[str, int], typing.Dict[str, int]],  # noqa: UP006
)
def test_mapping_forms(annotation: Any) -> None:
    value = {"a": 1, "b": Decimal("2")}
    result = convert(annotation, value)
    assert result == {"a": 1, "b": 2}
    assert type(result) is dict
    assert result is not value


def test_mapping_problems() -> None:
    assert rejection(dict[str, int], {"a": "x", "b": 2, "c d": True}) == [
        ("v.a", "expected int, got str"),
        ("v.c d", "expected int, got bool"),
    ]
    assert rejection(dict[str, int], [1]) == [("v", "expected dict[str, int], got list")]
    assert rejection(dict, {1: "x"}) == [("v", "key 1 is not a str")]


def test_mapping_accepts_any_mapping() -> None:
    assert convert(dict[str, Any], MappingProxyType({"a": 1})) == {"a": 1}


# --- datetime and date ------------------------------------------------------------------------

UTC = timezone.utc


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-06T07:08:09Z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06T07:08:09z", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06T07:08:09.123Z", datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)),
        ("2024-05-06T07:08:09.12Z", datetime(2024, 5, 6, 7, 8, 9, 120000, tzinfo=UTC)),
        ("2024-05-06T07:08:09.123456789Z", datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)),
        ("2024-05-06T07:08:09+00:00", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06T07:08:09+0000", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),
        ("2024-05-06 07:08Z", datetime(2024, 5, 6, 7, 8, tzinfo=UTC)),
        ("2024-05-06T07:08:09", datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)),  # naive: UTC
        ("2024-05-06", datetime(2024, 5, 6, tzinfo=UTC)),
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1_700_000_000, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        (-86_400, datetime(1969, 12, 31, tzinfo=UTC)),
        (Decimal("1700000000.123456"), datetime(2023, 11, 14, 22, 13, 20, 123456, tzinfo=UTC)),
        (Decimal("1.5"), datetime(1970, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)),
        (2.25, datetime(1970, 1, 1, 0, 0, 2, 250000, tzinfo=UTC)),
    ],
)
def test_datetime_accepted(value: Any, expected: datetime) -> None:
    result = convert(datetime, value)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


def test_datetime_keeps_its_offset() -> None:
    result = convert(datetime, "2024-05-06T07:08:09+02:00")
    assert result.utcoffset() == timedelta(hours=2)
    assert result == datetime(2024, 5, 6, 5, 8, 9, tzinfo=UTC)
    assert convert(datetime, "2024-05-06T07:08:09.5-0530").utcoffset() == -timedelta(
        hours=5, minutes=30
    )


def test_datetime_instance_passes_and_naive_becomes_utc() -> None:
    aware = datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    assert convert(datetime, aware) is aware
    assert convert(datetime, datetime(2024, 1, 1)) == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("yesterday", "expected an ISO-8601 datetime, got 'yesterday'"),
        ("2024-13-01T00:00:00Z", "expected an ISO-8601 datetime, got '2024-13-01T00:00:00Z'"),
        ("", "expected an ISO-8601 datetime, got ''"),
        (True, "expected ISO-8601 text or epoch seconds, got bool"),
        (b"2024", "expected ISO-8601 text or epoch seconds, got bytes"),
        (10**12, "epoch seconds 1000000000000 are out of range for a datetime"),
        (Decimal("NaN"), "epoch seconds Decimal('NaN') are out of range for a datetime"),
    ],
)
def test_datetime_rejected(value: Any, reason: str) -> None:
    assert rejection(datetime, value) == [("v", reason)]


def test_date() -> None:
    assert convert(date, "2024-02-29") == date(2024, 2, 29)
    assert convert(date, date(2024, 1, 1)) == date(2024, 1, 1)
    assert rejection(date, "2024-02-30") == [("v", "expected an ISO-8601 date, got '2024-02-30'")]
    assert rejection(date, "2024-02-01T00:00:00Z")[0][0] == "v"
    assert rejection(date, 19_000) == [("v", "expected ISO-8601 date text, got int")]
    assert rejection(date, datetime(2024, 1, 1)) == [
        ("v", "expected ISO-8601 date text, got datetime")
    ]


# --- dataclasses ------------------------------------------------------------------------------

PROFILE_ITEM: dict[str, Any] = {
    "PK": "USER#7",
    "SK": "PROFILE",
    "owner": {"name": "ada", "age": Decimal("36")},
    "meta": {
        "history": [{"at": "2024-01-01T00:00:00Z", "note": "joined"}],
        "labels": {"gold": 1},
    },
    "tags": {"a", "b"},
    "score": 10,
    "GSI1PK": "ignored",
    "entity": "profile",
}


def test_nested_dataclass_item() -> None:
    profile = from_item(Profile, PROFILE_ITEM)
    assert profile == Profile(
        pk="USER#7",
        sk="PROFILE",
        owner=Owner("ada", 36),
        meta=Meta([Event(datetime(2024, 1, 1, tzinfo=UTC), "joined")], {"gold": 1}),
        tags={"a", "b"},
        score=10,
    )


def test_every_problem_is_listed_with_its_path() -> None:
    item = {
        "PK": 7,
        "owner": {"name": None, "age": True},
        "meta": {
            "history": [
                {"at": "2024-01-01T00:00:00Z", "note": "ok"},
                {"at": "2024-01-01T00:00:00Z", "note": "ok"},
                {"at": "later"},
            ],
            "labels": {"gold": "1"},
        },
        "tags": ["a", 2],
        "nickname": 5,
    }
    with pytest.raises(ModelError) as caught:
        from_item(Profile, item)
    error = caught.value
    assert error.model == "Profile"
    assert error.problems == (
        ("PK", "expected str, got int"),
        ("SK", "required attribute is missing"),
        ("owner.name", "expected str, got None (use Optional[...] to allow it)"),
        ("owner.age", "expected int, got bool"),
        ("meta.history[2].at", "expected an ISO-8601 datetime, got 'later'"),
        ("meta.history[2].note", "required attribute is missing"),
        ("meta.labels.gold", "expected int, got str"),
        ("tags[1]", "expected str, got int"),
        ("nickname", "expected str, got int"),
    )
    assert str(error).splitlines()[0] == "item does not fit Profile (9 problems):"
    assert "  meta.history[2].at: expected an ISO-8601 datetime, got 'later'" in str(error)


def test_model_error_is_a_value_error_and_pickles() -> None:
    with pytest.raises(ValueError, match="item does not fit Owner") as caught:
        from_item(Owner, {})
    error = caught.value
    assert isinstance(error, StreamflowError)
    assert isinstance(error, ModelError)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ModelError)
    missing = "required attribute is missing"
    assert copy.problems == error.problems == (("name", missing), ("age", missing))


def test_defaults_and_default_factory() -> None:
    first = from_item(Profile, {**PROFILE_ITEM, "score": 3} | {"friends": ["x"]})
    assert first.score == 3
    assert first.friends == ["x"]
    item = {key: value for key, value in PROFILE_ITEM.items() if key != "score"}
    one, two = from_item(Profile, item), from_item(Profile, item)
    assert (one.score, one.nickname, one.friends) == (0, None, [])
    assert one.friends is not two.friends


def test_explicit_none_for_a_defaulted_optional() -> None:
    assert from_item(Profile, {**PROFILE_ITEM, "nickname": None}).nickname is None


def test_init_false_classvar_and_initvar() -> None:
    @dataclass
    class Counted:
        kind: ClassVar[str] = "counted"
        name: str
        seed: InitVar[int]
        total: int = field(init=False, default=0)

        def __post_init__(self, seed: int) -> None:
            self.total = seed * 2

    counted = from_item(Counted, {"name": "n", "seed": Decimal("4"), "total": 99, "kind": 1})
    assert (counted.name, counted.total) == ("n", 8)
    assert problems_of(Counted, {"name": "n"}) == [("seed", "required attribute is missing")]


def test_frozen_slotted_and_kw_only_dataclasses() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Point:
        x: int
        y: int = 0

    assert from_item(Point, {"x": 1}) == Point(x=1)


def test_final_fields() -> None:
    @dataclass
    class Constant:
        kind: Final[str] = "score"

    assert from_item(Constant, {"kind": "other"}).kind == "other"
    assert from_item(Constant, {}).kind == "score"


def test_post_init_rejection_becomes_a_problem() -> None:
    @dataclass
    class Positive:
        n: int

        def __post_init__(self) -> None:
            if self.n <= 0:
                raise ValueError("n must be positive")

    assert problems_of(Positive, {"n": -1}) == [
        ("", "Positive() rejected the values: ValueError: n must be positive")
    ]
    with pytest.raises(ModelError, match="<item>: Positive"):
        from_item(Positive, {"n": 0})


def test_nested_model_that_is_not_a_map() -> None:
    assert problems_of(Holder, {"owner": "ada", "owners": [1]}) == [
        ("owner", "expected a map for OwnerDict, got str"),
        ("owners[0]", "expected a map for Owner, got int"),
    ]


def test_recursive_model() -> None:
    tree = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    assert from_item(Node, tree) == Node("root", [Node("a", [Node("b")])])
    bad = {"name": "root", "children": [{"name": "a", "children": [{"name": 1}]}]}
    assert problems_of(Node, bad) == [("children[0].children[0].name", "expected str, got int")]


def test_a_recursive_model_refuses_items_nested_past_dynamodbs_limit() -> None:
    # an item built in Python, nested far past the stack: a ModelError, never RecursionError
    for levels in (MAX_DEPTH + 1, 1000, 100_000):
        item: dict[str, Any] = {"name": "leaf"}
        for _ in range(levels):
            item = {"name": "n", "children": [item]}
        [(path, reason)] = problems_of(Node, item)
        assert path == ".".join(["children[0]"] * (MAX_DEPTH + 1))  # 32 levels below the top
        assert reason == "nested deeper than DynamoDB's 32 levels"
    item = {"name": "leaf"}
    for _ in range(MAX_DEPTH):  # as deep as a stored item can be
        item = {"name": "n", "children": [item]}
    assert from_item(Node, item).name == "n"


def test_the_nesting_limit_of_recursive_models_is_counted_per_thread() -> None:
    from concurrent.futures import ThreadPoolExecutor

    item: dict[str, Any] = {"name": "leaf"}
    for _ in range(MAX_DEPTH):  # as deep as allowed: a depth shared by threads would trip
        item = {"name": "n", "children": [item]}

    def convert_many(_: int) -> int:
        return sum(from_item(Node, item).name == "n" for _ in range(50))

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(convert_many, range(16))) == [50] * 16


@pytest.mark.parametrize(
    ("annotation", "value", "reason"),
    [
        (float, 10**5000, "number (16610-bit integer) does not fit a float"),
        (Literal[1, 2], 10**5000, "expected one of 1, 2, got (16610-bit integer)"),
        (Literal[1, 2], strategies.deep_tuple(100_000), "expected one of 1, 2, got <tuple>"),
        (Literal[1, 2], Decimal("1E+999999999999999999"), "expected one of 1, 2, got Decimal("),
        (datetime, 10**5000, "epoch seconds (16610-bit integer) are out of range"),
        (datetime, Decimal("1E+999999999999999999"), "epoch seconds Decimal('1E+99999"),
        (int, Decimal("1E+999999999999999999"), "expected int, got number 1E+999999999999999999"),
        (int, Decimal("1" * 5000 + ".5"), "expected int, got non-integral number 1111"),
        (
            frozenset[int],
            {strategies.deep_tuple(100_000)},
            "member <tuple>: expected int, got tuple",
        ),
        (dict[str, int], {10**5000: 1}, "key (16610-bit integer) is not a str"),
        (dict[str, int], {strategies.deep_tuple(100_000): 1}, "key <tuple> is not a str"),
    ],
    ids=lambda value: "huge-int" if isinstance(value, int) and value > 10**4000 else None,
)
def test_problems_are_built_safely_from_hostile_python_values(
    annotation: Any, value: Any, reason: str
) -> None:
    [(path, problem)] = rejection(annotation, value)
    assert path == "v"
    assert problem.startswith(reason)
    assert len(problem) < 120


def test_key_templates_refuse_hostile_values_with_their_error() -> None:
    template = KeyTemplate("SCORE#{score_id}")
    with pytest.raises(KeyTemplateError, match="score_id is a 16610-bit int: too long"):
        template.format(score_id=10**5000)
    with pytest.raises(KeyTemplateError, match=r"key \(16610-bit integer\) does not fit"):
        template.parse(10**5000)  # type: ignore[arg-type]
    with pytest.raises(KeyTemplateError, match="key <tuple> does not fit"):
        template.parse(strategies.deep_tuple(100_000))


def test_item_may_be_any_mapping() -> None:
    assert from_item(Owner, MappingProxyType({"name": "a", "age": 1})) == Owner("a", 1)


def test_inherited_fields() -> None:
    @dataclass
    class Base:
        pk: Annotated[str, Attr("PK")]

    @dataclass
    class Child(Base):
        n: int = 1

    assert from_item(Child, {"PK": "X"}) == Child("X")


# --- TypedDict --------------------------------------------------------------------------------


def test_typeddict_total() -> None:
    result = from_item(OwnerDict, {"name": "ada", "age": Decimal("3"), "other": 1})
    assert result == {"name": "ada", "age": 3}
    assert type(result) is dict
    assert problems_of(OwnerDict, {"age": "x"}) == [
        ("name", "required attribute is missing"),
        ("age", "expected int, got str"),
    ]


def test_typeddict_total_false_leaves_absent_keys_out() -> None:
    assert from_item(Partial, {}) == {}
    assert from_item(Partial, {"age": 2}) == {"age": 2}


def test_typeddict_not_required_and_attr() -> None:
    assert from_item(Mixed, {"name": "a"}) == {"name": "a"}
    assert from_item(Mixed, {"name": "a", "Nick": "n", "nick": 1}) == {"name": "a", "nick": "n"}
    assert problems_of(Mixed, {"age": 1}) == [("name", "required attribute is missing")]


def test_typing_extensions_typeddict_required_and_readonly() -> None:
    assert from_item(Opposite, {"name": "a", "frozen": 1}) == Opposite(name="a", frozen=1)
    assert problems_of(Opposite, {"age": 1}) == [
        ("name", "required attribute is missing"),
        ("frozen", "required attribute is missing"),
    ]


def test_typeddict_nested_in_dataclass() -> None:
    holder = from_item(Holder, {"owner": {"name": "a", "age": 1}, "owners": []})
    assert holder.owner == {"name": "a", "age": 1}
    assert problems_of(Holder, {"owner": {"name": "a"}, "owners": [{"name": "b", "age": 1.5}]}) == [
        ("owner.age", "required attribute is missing"),
        ("owners[0].age", "expected int, got non-integral number 1.5"),
    ]


# --- Attr -------------------------------------------------------------------------------------


def test_attr_maps_and_paths_use_the_attribute_name() -> None:
    @dataclass
    class Score:
        user: Annotated[str, Attr("PK"), "other metadata is ignored"]
        points: Annotated[int, Attr("Points")] = 0

    assert from_item(Score, {"PK": "USER#1", "user": "no"}) == Score("USER#1")
    assert problems_of(Score, {"Points": "x"}) == [
        ("PK", "required attribute is missing"),
        ("Points", "expected int, got str"),
    ]


def test_paths_quote_attribute_names_with_dots() -> None:
    @dataclass
    class Odd:
        dotted: Annotated[int, Attr("a.b")]
        nested: dict[str, int]

    assert problems_of(Odd, {"a.b": "x", "nested": {"": "y", "c.d": 1}}) == [
        ('["a.b"]', "expected int, got str"),
        ('nested[""]', "expected int, got str"),
    ]


def test_attr_is_a_value_object() -> None:
    assert Attr("PK") == Attr("PK")
    assert hash(Attr("PK")) == hash(Attr("PK"))
    assert repr(Attr("PK")) == "Attr(name='PK')"
    assert Attr.__module__ == "streamflow.models"
    assert pickle.loads(pickle.dumps(Attr("PK"))) == Attr("PK")
    with pytest.raises(dataclasses.FrozenInstanceError):
        Attr("PK").name = "SK"  # type: ignore[misc]


def test_attr_rejects_bad_names() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        Attr("")
    with pytest.raises(TypeError, match="must be a str, got int"):
        Attr(1)  # type: ignore[arg-type]


def test_two_fields_reading_one_attribute_is_an_error() -> None:
    @dataclass
    class Twice:
        a: Annotated[str, Attr("PK")]
        PK: str

    with pytest.raises(TypeError, match=r"Twice.PK and Twice.a both read attribute 'PK'"):
        from_item(Twice, {})


def test_two_attr_names_on_one_field_is_an_error() -> None:
    @dataclass
    class Confused:
        a: Annotated[str, Attr("PK"), Attr("SK")]

    with pytest.raises(TypeError, match="two Attr names"):
        from_item(Confused, {})


# --- API misuse -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [int, dict, list[int], Owner("a", 1), "Owner", None, [Owner]])
def test_model_must_be_a_dataclass_or_typeddict(model: Any) -> None:
    with pytest.raises(TypeError, match="maps onto a dataclass or TypedDict type"):
        from_item(model, {})


def test_item_must_be_a_mapping() -> None:
    with pytest.raises(TypeError, match="needs a mapping item, got list"):
        from_item(Owner, [("name", "a")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (complex, "does not support complex"),
        (dict[int, str], "DynamoDB map keys are str, not dict[int, str]"),
        (list[complex], "does not support complex"),
        (typing.TypeVar("T"), "does not support"),
    ],
)
def test_unsupported_annotations(annotation: Any, message: str) -> None:
    model = dataclasses.make_dataclass("Odd", [("v", annotation)])
    with pytest.raises(TypeError, match=rf"cannot map Odd\.v: .*{re.escape(message)}"):
        from_item(model, {"v": 1})


def test_unresolvable_annotation() -> None:
    @dataclass
    class Dangling:
        v: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the annotations of Dangling"):
        from_item(Dangling, {"v": 1})


# --- compile once ---------------------------------------------------------------------------


def test_models_are_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from_item(Owner, {"name": "a", "age": 1})  # compiled and cached before counting
    calls: list[object] = []
    real = typing.get_type_hints

    def counting(obj: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(obj)
        return real(obj, *args, **kwargs)

    monkeypatch.setattr(typing, "get_type_hints", counting)

    @dataclass
    class Fresh:
        owner: Owner
        n: int

    for n in range(3):
        assert from_item(Fresh, {"owner": {"name": "a", "age": n}, "n": n}).n == n
    assert calls == [Fresh]
    from_item(Owner, {"name": "a", "age": 1})
    assert calls == [Fresh]


def test_a_failed_compile_is_not_cached() -> None:
    @dataclass
    class Later:
        v: Later2  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError):
        from_item(Later, {"v": {}})
    globals()["Later2"] = Owner
    try:
        assert from_item(Later, {"v": {"name": "a", "age": 1}}).v == Owner("a", 1)
    finally:
        del globals()["Later2"]


# --- KeyTemplate ------------------------------------------------------------------------------

SCORE = KeyTemplate("SCORE#{score_id}")
USER_SCORE = KeyTemplate("USER#{user_id}#SCORE#{score_id}")


def test_key_template_single_placeholder() -> None:
    assert SCORE.format(score_id="01JD8X") == "SCORE#01JD8X"
    assert SCORE.format(score_id=42) == "SCORE#42"
    assert SCORE.parse("SCORE#01JD8X") == {"score_id": "01JD8X"}
    assert SCORE.parse("SCORE#a#b") == {"score_id": "a#b"}  # the last one takes the rest
    assert SCORE.prefix == "SCORE#"
    assert SCORE.fields == ("score_id",)
    assert SCORE.template == "SCORE#{score_id}"


def test_key_template_several_placeholders() -> None:
    assert USER_SCORE.format(user_id="u#1", score_id="s") == "USER#u#1#SCORE#s"
    assert USER_SCORE.parse("USER#u#1#SCORE#s#2") == {"user_id": "u#1", "score_id": "s#2"}
    assert USER_SCORE.prefix == "USER#"
    assert USER_SCORE.fields == ("user_id", "score_id")
    assert list(USER_SCORE.parse("USER#a#SCORE#b")) == ["user_id", "score_id"]


def test_key_template_non_greedy_up_to_the_next_literal() -> None:
    pair = KeyTemplate("{a}#{b}")
    assert pair.prefix == ""
    assert pair.parse("x#y#z") == {"a": "x", "b": "y#z"}
    with pytest.raises(KeyTemplateError, match="runs into the '#'"):
        pair.format(a="x#y", b="z")


def test_key_template_separator_overlap() -> None:
    doubled = KeyTemplate("{a}##{b}")
    assert doubled.format(a="x", b="#y") == "x###y"
    assert doubled.parse("x###y") == {"a": "x", "b": "#y"}
    with pytest.raises(KeyTemplateError, match="runs into the '##'"):
        doubled.format(a="x#", b="y")  # "x###y" would parse as a="x"
    with pytest.raises(KeyTemplateError, match="runs into"):
        doubled.format(a="##x", b="y")
    assert not doubled.matches("##x##y")


def test_key_template_trailing_literal() -> None:
    boxed = KeyTemplate("[{a}]")
    assert boxed.prefix == "["
    assert boxed.format(a="x]") == "[x]]"
    assert boxed.parse("[x]]") == {"a": "x]"}
    assert not boxed.matches("[]")
    assert not boxed.matches("[x")


def test_key_template_without_placeholders() -> None:
    profile = KeyTemplate("PROFILE")
    assert profile.fields == ()
    assert profile.prefix == "PROFILE"
    assert profile.format() == "PROFILE"
    assert profile.parse("PROFILE") == {}
    assert not profile.matches("PROFILE#1")


def test_key_template_escaped_braces() -> None:
    braces = KeyTemplate("{{x}}#{y}")
    assert braces.fields == ("y",)
    assert braces.prefix == "{x}#"
    assert braces.format(y="1") == "{x}#1"
    assert braces.parse("{x}#1") == {"y": "1"}


@pytest.mark.parametrize(
    "key", ["SCORE#", "SCORE", "score#1", "USER#1", "", " SCORE#1", None, 5, b"SCORE#1"]
)
def test_key_template_mismatches(key: Any) -> None:
    assert not SCORE.matches(key)
    with pytest.raises(KeyTemplateError, match="does not fit the template") as caught:
        SCORE.parse(key)
    assert caught.value.template == "SCORE#{score_id}"
    assert repr(key) in caught.value.reason


@pytest.mark.parametrize(
    "key", ["USER##SCORE#1", "USER#1#SCORE#", "USER#1#SCORE", "USER#1#score#2", "USER#1"]
)
def test_key_template_mismatches_with_several_placeholders(key: str) -> None:
    assert not USER_SCORE.matches(key)
    with pytest.raises(KeyTemplateError):
        USER_SCORE.parse(key)


def test_key_template_error_message() -> None:
    with pytest.raises(KeyTemplateError) as caught:
        SCORE.parse("USER#1")
    assert str(caught.value) == (
        "key 'USER#1' does not fit the template (template 'SCORE#{score_id}')"
    )
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "missing user_id, score_id"),
        ({"user_id": "u"}, "missing score_id"),
        ({"user_id": "u", "score_id": "s", "x": "y"}, "unexpected x"),
        ({"user_id": "u", "x": "y"}, "missing score_id; unexpected x"),
        ({"user_id": "", "score_id": "s"}, "user_id must not be empty"),
        ({"user_id": "u", "score_id": ""}, "score_id must not be empty"),
        ({"user_id": True, "score_id": "s"}, "user_id must be str or int, got bool"),
        ({"user_id": 1.5, "score_id": "s"}, "user_id must be str or int, got float"),
        ({"user_id": None, "score_id": "s"}, "user_id must be str or int, got NoneType"),
        ({"user_id": "a#SCORE#b", "score_id": "s"}, "runs into the '#SCORE#'"),
    ],
)
def test_key_template_format_rejects(values: dict[str, Any], message: str) -> None:
    with pytest.raises(KeyTemplateError, match=message) as caught:
        USER_SCORE.format(**values)
    assert caught.value.template == USER_SCORE.template


def test_key_template_placeholder_named_self() -> None:
    assert KeyTemplate("S#{self}").format(self="x") == "S#x"


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("", "the template is empty"),
        ("SCORE#{score_id", "'{' at 6 is not closed"),
        ("SCORE#{a{b}", "'{' at 6 is not closed"),
        ("SCORE#score_id}", "'}' at 14 has no '{' (write '}}')"),
        ("SCORE#{}", "placeholder {} needs an identifier"),
        ("SCORE#{score id}", "placeholder {score id} needs an identifier"),
        ("SCORE#{x:>5}", "placeholder {x:>5} needs an identifier"),
        ("{a}#{a}", "placeholder {a} appears twice"),
        ("{a}{b}", "{a}{b} need literal text between them"),
    ],
)
def test_bad_templates(template: str, reason: str) -> None:
    with pytest.raises(KeyTemplateError) as caught:
        KeyTemplate(template)
    assert caught.value.reason == reason
    assert caught.value.template == template


def test_key_template_needs_text() -> None:
    with pytest.raises(TypeError, match="needs str text, got int"):
        KeyTemplate(5)  # type: ignore[arg-type]


def test_key_template_is_an_immutable_value() -> None:
    assert KeyTemplate("SCORE#{score_id}") == SCORE
    assert hash(KeyTemplate("SCORE#{score_id}")) == hash(SCORE)
    assert SCORE != USER_SCORE
    assert len({SCORE, KeyTemplate("SCORE#{score_id}"), USER_SCORE}) == 2
    assert repr(SCORE) == "KeyTemplate('SCORE#{score_id}')"
    assert str(SCORE) == "SCORE#{score_id}"
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCORE.template = "X"  # type: ignore[misc]
    copy = pickle.loads(pickle.dumps(USER_SCORE))
    assert copy == USER_SCORE
    assert copy.parse("USER#1#SCORE#2") == {"user_id": "1", "score_id": "2"}


# --- module hygiene ---------------------------------------------------------------------------

CHEAP_IMPORTS = {
    "__future__",
    "collections",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "sys",
    "types",
    "typing",
}


@pytest.mark.parametrize("module", sorted(p.name for p in (SRC / "models").glob("*.py")))
def test_top_level_imports_are_cheap(module: str) -> None:
    tree = ast.parse((SRC / "models" / module).read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name in CHEAP_IMPORTS or name.startswith("streamflow."), name
            assert name not in {"streamflow.records", "streamflow.codec"}, name


def test_import_does_not_load_boto3_or_asyncio() -> None:
    code = (
        "import sys, streamflow.models; "
        "print(sorted({'boto3', 'botocore', 'asyncio'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    assert streamflow.models.__all__ == ["Attr", "KeyTemplate", "from_item"]
    assert sorted(streamflow.models.__all__) == streamflow.models.__all__
    for name in streamflow.models.__all__:
        public = getattr(streamflow.models, name)
        assert public.__doc__
        assert public.__module__ == "streamflow.models"


def test_a_model_built_from_the_keys_alone_says_the_stream_carries_keys_only() -> None:
    """A Router builds a route's model from the keys when the stream has no image for the
    change (KEYS_ONLY): the error must say so, not only that ``amount`` is missing."""

    @dataclass
    class Order:
        PK: str
        amount: int
        note: str = ""

    keys = {"PK": "ORDER#1"}
    with pytest.raises(ModelError) as plain:
        from_item(Order, keys)
    assert plain.value.problems == (("amount", "required attribute is missing"),)
    with pytest.raises(ModelError) as error:
        from_item(Order, keys, source="keys")
    ((path, reason),) = error.value.problems
    assert path == "amount"
    assert reason.startswith("required attribute is missing: ")
    assert "only the item's keys" in reason
    assert "KEYS_ONLY" in str(error.value)
    # Other problems of the keys are what they are.
    with pytest.raises(ModelError) as wrong:
        from_item(Order, {"PK": 7, "amount": 1}, source="keys")
    assert wrong.value.problems == (("PK", "expected str, got int"),)
    assert from_item(Order, {"PK": "ORDER#1", "amount": 3}, source="keys") == Order("ORDER#1", 3)
    assert from_item(Order, {"PK": "ORDER#1", "amount": 3}, source="image").amount == 3
    with pytest.raises(ValueError, match="source must be 'image' or 'keys'"):
        from_item(Order, keys, source="new")  # type: ignore[arg-type]
