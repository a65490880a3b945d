"""streamflow.models with pydantic v2 models: from_item, the record helpers and the Router."""

from __future__ import annotations

import dataclasses
import pickle
import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Optional

import pytest

pydantic = pytest.importorskip("pydantic", minversion="2")

from pydantic import (  # noqa: E402 (after the skip: pydantic is optional)
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from streamflow import Router, StreamRecord, parse_event, testing  # noqa: E402
from streamflow.errors import ModelError  # noqa: E402
from streamflow.filters import Filter  # noqa: E402
from streamflow.models import from_item  # noqa: E402

# --- models used below ----------------------------------------------------------------------


class Owner(BaseModel):
    name: str
    level: int = 0


class Play(BaseModel):
    at: str
    points: int


class Profile(BaseModel):
    pk: str = Field(alias="PK")
    sk: str = Field(alias="SK")
    points: int
    ratio: Decimal
    speed: float
    nickname: Optional[str] = None  # noqa: UP045 (Optional[...] is what the docs name)
    active: bool
    avatar: bytes
    tags: set[str] = set()
    scores: frozenset[int] = frozenset()
    history: list[Play] = []
    owner: Owner


ITEM: dict[str, Any] = {
    "PK": "USER#7",
    "SK": "PROFILE",
    "entity": "profile",  # read by no field: ignored
    "points": 30,
    "ratio": Decimal("0.37500000000000000000000000000000000001"),  # 38 digits
    "speed": Decimal("2.5"),
    "active": True,
    "avatar": b"\x89PNG",
    "tags": {"daily", "ranked"},
    "scores": {3, Decimal("4")},
    "history": [{"at": "2025-11-26", "points": 10}],
    "owner": {"name": "ada"},
}


def problems_of(model: type[Any], item: dict[str, Any], **kwargs: Any) -> list[tuple[str, str]]:
    with pytest.raises(ModelError) as caught:
        from_item(model, item, **kwargs)
    return list(caught.value.problems)


# --- valid items ------------------------------------------------------------------------------


def test_a_valid_item_reaches_the_model_with_its_types() -> None:
    profile = from_item(Profile, ITEM)
    assert type(profile) is Profile
    assert (profile.pk, profile.sk) == ("USER#7", "PROFILE")  # by alias
    assert type(profile.points) is int
    assert profile.points == 30
    assert type(profile.ratio) is Decimal
    assert str(profile.ratio) == "0.37500000000000000000000000000000000001"  # exact
    assert type(profile.speed) is float
    assert profile.speed == 2.5
    assert profile.nickname is None
    assert profile.active is True
    assert profile.avatar == b"\x89PNG"
    assert type(profile.avatar) is bytes
    assert profile.tags == {"daily", "ranked"}
    assert type(profile.tags) is set
    assert profile.scores == frozenset({3, 4})
    assert type(profile.scores) is frozenset
    assert profile.history == [Play(at="2025-11-26", points=10)]
    assert profile.owner == Owner(name="ada", level=0)


def test_optional_takes_null_and_a_value() -> None:
    assert from_item(Profile, {**ITEM, "nickname": None}).nickname is None
    assert from_item(Profile, {**ITEM, "nickname": "Ada"}).nickname == "Ada"


def test_numbers_reach_the_model_exactly() -> None:
    class Numbers(BaseModel):
        count: int
        price: Decimal
        ratio: float

    big = 10**37 + 1  # past float's 16 digits
    numbers = from_item(Numbers, {"count": big, "price": 3, "ratio": Decimal("0.1")})
    assert numbers.count == big
    assert type(numbers.count) is int
    assert numbers.price == Decimal(3)
    assert type(numbers.price) is Decimal
    assert numbers.ratio == 0.1


def test_an_int_field_takes_an_integral_decimal_but_not_a_fraction() -> None:
    """pydantic's lax mode, the default: ``numbers="decimal"`` decodes 3 as Decimal("3")."""

    class Count(BaseModel):
        count: int

    assert from_item(Count, {"count": Decimal("3")}).count == 3
    assert problems_of(Count, {"count": Decimal("1.5")}) == [
        (
            "count",
            "Input should be a valid integer, got a number with a fractional part "
            "(got Decimal('1.5'))",
        )
    ]


def test_the_models_own_strictness_decides() -> None:
    class Lax(BaseModel):
        count: int

    class Strictly(BaseModel):
        count: StrictInt

    class StrictModel(BaseModel):
        model_config = ConfigDict(strict=True)
        price: Decimal
        tags: frozenset[str] = frozenset()

    assert from_item(Lax, {"count": True}).count == 1  # pydantic's lax rule, not ours
    assert problems_of(Strictly, {"count": True}) == [
        ("count", "Input should be a valid integer (got True)")
    ]
    # A strict model refuses what the codec gives for ordinary items: an integral N is an
    # int, and a string set a set (not a frozenset). The docs say so.
    assert problems_of(StrictModel, {"price": 3}) == [
        ("price", "Input should be an instance of Decimal (got 3)")
    ]
    assert problems_of(StrictModel, {"price": Decimal(1), "tags": {"a"}})[0][0] == "tags"


REFUSED = object()

# docs/models.md, "Lax or strict": (field, decoded value, lax result, strict result)
LAX_OR_STRICT = [
    (int, 3, 3, 3),
    (int, Decimal("3"), 3, REFUSED),
    (int, Decimal("1.5"), REFUSED, REFUSED),
    (int, True, 1, REFUSED),
    (Decimal, 3, Decimal(3), REFUSED),
    (float, Decimal("0.1"), 0.1, 0.1),
    (bool, 1, True, REFUSED),
    (str, 5, REFUSED, REFUSED),
    (set[str], {"a"}, {"a"}, {"a"}),
    (set[str], ["a"], {"a"}, REFUSED),
    (frozenset[str], {"a"}, frozenset({"a"}), REFUSED),
    (list[int], {1}, [1], REFUSED),
    (datetime, "2025-11-26T09:20:00Z", datetime(2025, 11, 26, 9, 20, tzinfo=timezone.utc),
     REFUSED),
    (datetime, 1764148800, datetime(2025, 11, 26, 9, 20, tzinfo=timezone.utc), REFUSED),
]  # fmt: skip


@pytest.mark.parametrize(("annotation", "value", "lax", "strict"), LAX_OR_STRICT)
def test_lax_or_strict_as_the_docs_table_says(
    annotation: Any, value: Any, lax: Any, strict: Any
) -> None:
    for strictness, expected in ((False, lax), (True, strict)):
        model = pydantic.create_model(
            "One", __config__=ConfigDict(strict=strictness), v=(annotation, ...)
        )
        if expected is REFUSED:
            assert [path for path, _ in problems_of(model, {"v": value})] == ["v"]
        else:
            got = from_item(model, {"v": value}).v
            assert got == expected
            assert type(got) is type(expected)


def test_a_list_fills_a_set_field() -> None:
    """Other SDKs write string sets as L: pydantic's lax mode takes a list for a set."""
    assert from_item(Profile, {**ITEM, "tags": ["a", "a", "b"]}).tags == {"a", "b"}


def test_aliases_are_pydantics_own() -> None:
    class ByName(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        pk: str = Field(alias="PK")

    assert from_item(ByName, {"PK": "A"}).pk == "A"
    assert from_item(ByName, {"pk": "B"}).pk == "B"  # the model allows names too
    assert problems_of(Profile, {**ITEM, "PK": None})[0] == (
        "PK",
        "Input should be a valid string (got None)",
    )


def test_a_pydantic_model_nests_in_a_dataclass() -> None:
    @dataclasses.dataclass
    class Envelope:
        PK: str
        owner: Owner

    assert from_item(Envelope, {"PK": "A", "owner": {"name": "ada", "level": 2}}) == Envelope(
        "A", Owner(name="ada", level=2)
    )
    assert problems_of(Envelope, {"PK": "A", "owner": {"level": "x"}}) == [
        ("owner.name", "required attribute is missing"),
        (
            "owner.level",
            "Input should be a valid integer, unable to parse string as an integer (got 'x')",
        ),
    ]


# --- errors -----------------------------------------------------------------------------------


def test_every_problem_at_once_with_its_path() -> None:
    bad = {
        **ITEM,
        "PK": 5,
        "points": "many",
        "history": [{"at": "a", "points": 1}, {"at": 3}],
        "owner": {"level": 1},
        "scores": {1, "x"},
    }
    del bad["ratio"]
    with pytest.raises(ModelError) as caught:
        from_item(Profile, bad)
    error = caught.value
    assert error.model == "Profile"
    assert isinstance(error, ValueError)
    assert error.problems == (
        ("PK", "Input should be a valid string (got 5)"),
        (
            "points",
            "Input should be a valid integer, unable to parse string as an integer (got 'many')",
        ),
        ("ratio", "required attribute is missing"),
        (
            "scores",
            "member 'x': Input should be a valid integer, unable to parse string as "
            "an integer (got 'x')",
        ),
        ("history[1].at", "Input should be a valid string (got 3)"),
        ("history[1].points", "required attribute is missing"),
        ("owner.name", "required attribute is missing"),
    )
    assert str(error).startswith("item does not fit Profile (7 problems):\n  PK: ")
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems


def test_odd_names_union_members_and_whole_item_checks() -> None:
    class Odd(BaseModel):
        dotted: int = Field(alias="a.b")
        either: int | str = 0
        nested: dict[str, list[int]] = {}

        @model_validator(mode="after")
        def positive(self) -> Odd:
            if self.dotted < 0:
                raise ValueError("dotted must not be negative")
            return self

    assert problems_of(Odd, {"a.b": "z", "either": [1], "nested": {"k": [1, "y"]}}) == [
        (
            '["a.b"]',
            "Input should be a valid integer, unable to parse string as an integer (got 'z')",
        ),
        ("either", "as int: Input should be a valid integer (got list)"),
        ("either", "as str: Input should be a valid string (got list)"),
        (
            "nested.k[1]",
            "Input should be a valid integer, unable to parse string as an integer (got 'y')",
        ),
    ]
    assert problems_of(Odd, {"a.b": -1}) == [
        ("", "Value error, dotted must not be negative (got dict)")
    ]


def test_a_field_validators_message_is_the_reason() -> None:
    class Code(BaseModel):
        code: str

        @field_validator("code")
        @classmethod
        def upper(cls, value: str) -> str:
            if value != value.upper():
                raise ValueError("must be upper case")
            return value

    assert problems_of(Code, {"code": "abc"}) == [
        ("code", "Value error, must be upper case (got 'abc')")
    ]


def test_keys_only_says_the_record_carries_keys_only() -> None:
    problems = problems_of(Profile, {"PK": "USER#7", "SK": "PROFILE"}, source="keys")
    assert [path for path, _ in problems] == [
        "points",
        "ratio",
        "speed",
        "active",
        "avatar",
        "owner",
    ]
    assert all("this record carries only the item's keys" in reason for _, reason in problems)


def test_what_is_not_a_model_is_a_type_error() -> None:
    with pytest.raises(
        TypeError, match="dataclass or TypedDict type, or a pydantic \\(v2\\) model"
    ):
        from_item(int, ITEM)
    with pytest.raises(TypeError, match="needs a mapping item"):
        from_item(Owner, ["ada"])  # type: ignore[arg-type]


def test_a_pydantic_v1_model_is_refused() -> None:
    try:
        from pydantic import v1
    except Exception:  # pragma: no cover (pydantic.v1 may not import on newer Pythons)
        pytest.skip("pydantic.v1 does not import here")

    class Old(v1.BaseModel):
        name: str

    with pytest.raises(TypeError, match="pydantic \\(v2\\)"):
        from_item(Old, {"name": "a"})


# --- records and routes -----------------------------------------------------------------------


def _record(*changes: testing.Change, **kwargs: Any) -> StreamRecord:
    return parse_event(testing.event(*changes, **kwargs))[0]


def test_record_helpers_map_images_and_keys() -> None:
    class Key(BaseModel):
        pk: str = Field(alias="PK")
        sk: str = Field(alias="SK")

    old = {**ITEM, "points": 10}
    record = _record(testing.modify(old, ITEM))
    new = record.new_image_as(Profile)
    assert new.points == 30
    assert new.ratio == ITEM["ratio"]
    assert new.avatar == b"\x89PNG"
    assert record.old_image_as(Profile).points == 10
    assert record.keys_as(Key) == Key(PK="USER#7", SK="PROFILE")
    with pytest.raises(ModelError, match="points: Input should be a valid integer"):
        _record(testing.insert({**ITEM, "points": "x"})).new_image_as(Profile)


class Score(BaseModel):
    pk: str = Field(alias="PK")
    points: int


def test_router_maps_onto_a_model_given_or_annotated() -> None:
    router = Router()
    got: list[Any] = []

    @router.on(Filter.insert())
    def inserted(score: Score, record: StreamRecord) -> None:  # by annotation
        got.append((score, record.event_name.value))

    @router.on(Filter.events("REMOVE"), model=Score)
    def removed(score: Any) -> None:
        got.append(score)

    assert router.declared_routes[0].model is Score
    event = testing.event(
        testing.insert({"PK": "SCORE#1", "SK": "U", "points": 3}),
        testing.remove({"PK": "SCORE#2", "SK": "U", "points": 4}),
    )
    assert router.lambda_handler(event, None) == {"batchItemFailures": []}
    assert got == [(Score(PK="SCORE#1", points=3), "INSERT"), Score(PK="SCORE#2", points=4)]


def test_a_record_that_does_not_fit_fails_alone_with_a_model_error() -> None:
    router = Router(failure_mode="continue")
    seen: list[int] = []

    @router.on(Filter.insert())
    def inserted(score: Score) -> None:
        seen.append(score.points)

    event = testing.event(
        testing.insert({"PK": "S#1", "SK": "U", "points": 1}),
        testing.insert({"PK": "S#2", "SK": "U", "points": "many"}),
        testing.insert({"PK": "S#3", "SK": "U", "points": 3}),
    )
    result = router.process(event["Records"])
    assert seen == [1, 3]
    [failure] = result.failures
    assert failure.index == 1
    assert isinstance(failure.error, ModelError)
    assert failure.error.problems[0][0] == "points"


def test_a_keys_only_stream_says_so() -> None:
    router = Router()

    @router.on(Filter.insert())
    def inserted(score: Score) -> None: ...

    event = testing.event(
        testing.insert({"PK": "S#1", "SK": "U", "points": 1}), view_type="KEYS_ONLY"
    )
    [failure] = router.process(event["Records"]).failures
    assert isinstance(failure.error, ModelError)
    assert failure.error.problems[0][0] == "points"
    assert "this record carries only the item's keys" in failure.error.problems[0][1]


# --- pydantic stays optional ------------------------------------------------------------------


def test_a_dataclass_router_never_imports_pydantic() -> None:
    code = """
import sys
from dataclasses import dataclass
from streamflow import Router, testing
from streamflow.filters import Filter
from streamflow.models import from_item

@dataclass
class Score:
    PK: str
    points: int

router = Router()
seen = []

@router.on(Filter.insert())
def inserted(score: Score) -> None:
    seen.append(score)

event = testing.event(testing.insert({"PK": "S#1", "SK": "U", "points": 1}))
assert router.lambda_handler(event, None) == {"batchItemFailures": []}
assert seen == [Score("S#1", 1)]
assert from_item(Score, {"PK": "a", "points": 2}) == Score("a", 2)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core")))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
