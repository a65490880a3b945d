"""The decoder's fast path against its validating path.

The fast path may turn anything down (the validating path then decides), but whatever it
accepts, the validating path must accept too, with the same value. The public functions
must answer exactly as the validating path does: same value, or the same error and path.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamflow.codec import MAX_NESTING_DEPTH, _decode, deserialize, deserialize_item, serialize
from streamflow.codec._decode import _DECODERS, _FAST_FAILURES, _slow_container, _slow_value
from streamflow.codec._wire import Fail
from streamflow.errors import AttributeDecodeError
from tests import strategies

MODES = ("auto", "decimal", "float")

# --- wire values, valid and not --------------------------------------------------------------

_number_texts = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    strategies.decimals().map(str),
    st.from_regex(r"-?[0-9]{0,4}\.?[0-9]{0,4}", fullmatch=True),
    st.text(alphabet="0123456789.-+eE_ ", max_size=8),
    st.sampled_from(
        [
            "NaN",
            "Infinity",
            "-Infinity",
            " 1",
            "1 ",
            "1_0",
            "\u0661\u0662",  # Arabic-Indic digits: isdigit() but not ASCII
            "\u00b2",  # superscript two: isdigit() too
            "+1",
            "-0",
            "1e5",
            "1E126",
            "1E-131",
            "0.0",
            "5.",
            ".5",
            "-1.50",
            "0" * 40 + "1",
            "1" + "0" * 40,
            "9" * 38,
            "9" * 39,
            "0." + "0" * 37 + "1",
            "",
            "-",
            ".",
            "1.2.3",
        ]
    ),
)
_base64_texts = st.one_of(
    st.binary(max_size=12).map(lambda data: base64.b64encode(data).decode()),
    st.text(alphabet="ABCab01+/=", max_size=9),
    st.sampled_from(["", "====", "AA==", "AA=", "A", "AAA\n", " AAA", "AA==AA=="]),
)
_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.just([]),
    st.just({}),
)


def _scalar_avs() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(lambda v: {"S": v}, st.one_of(st.text(max_size=5), _junk)),
        st.builds(lambda v: {"N": v}, st.one_of(_number_texts, _junk)),
        st.builds(lambda v: {"BOOL": v}, st.one_of(st.booleans(), _junk)),
        st.builds(lambda v: {"NULL": v}, st.one_of(st.just(True), _junk)),
        st.builds(lambda v: {"B": v}, st.one_of(_base64_texts, st.binary(max_size=4), _junk)),
        st.builds(lambda v: {"SS": v}, st.lists(st.one_of(st.text(max_size=3), _junk))),
        st.builds(lambda v: {"NS": v}, st.lists(st.one_of(_number_texts, _junk), max_size=4)),
        st.builds(lambda v: {"BS": v}, st.lists(st.one_of(_base64_texts, _junk), max_size=3)),
        st.builds(lambda v: {"SS": v, "S": "x"}, st.just(["a"])),  # two descriptors
        st.sampled_from([{}, {"X": "1"}, {"s": "x"}, {1: "x"}, "S", ["S"], None, 5]),
        st.builds(MappingProxyType, st.just({"S": "a mapping, not a dict"})),
        _junk,
    )


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    maps = st.dictionaries(st.text(max_size=4), children, max_size=4)
    lists = st.lists(children, max_size=4)
    return st.one_of(
        maps.map(lambda inner: {"M": inner}),
        lists.map(lambda inner: {"L": inner}),
        lists.map(lambda inner: {"M": inner}),  # each container given the other's JSON type
        maps.map(lambda inner: {"L": inner}),
    )


def _nested(av: Any, levels: int, tag: str) -> Any:
    for level in range(levels):
        av = {"M": {"k": av}} if tag == "M" or level % 2 else {"L": [av]}
    return av


_deep = st.builds(
    _nested,
    _scalar_avs(),
    st.integers(MAX_NESTING_DEPTH - 2, MAX_NESTING_DEPTH + 2),
    st.sampled_from(["M", "L"]),
)
attribute_values = st.one_of(st.recursive(_scalar_avs(), _containers, max_leaves=10), _deep)
valid_attribute_values = st.one_of(strategies.values, strategies.sets).map(
    lambda value: serialize(value, binary="base64")
)


# --- comparing outcomes ----------------------------------------------------------------------


def _shape(value: Any) -> Any:
    """Equal shapes for equal values of equal types (``1``, ``True``, ``Decimal(1)`` differ)."""
    if isinstance(value, dict):
        return ("dict", [(key, _shape(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_shape(item) for item in value])
    if isinstance(value, set):
        return ("set", frozenset(_shape(item) for item in value))
    return (type(value).__name__, repr(value))


def _validating(av: Any, numbers: str) -> Any:
    try:
        return ("value", _shape(_slow_value(av, _DECODERS[numbers].number, 0)))
    except Fail as fail:
        return ("error", fail.path(""), fail.reason)


def _validating_item(image: dict[str, Any], numbers: str) -> Any:
    try:
        return ("value", _shape(_slow_container(image.items(), _DECODERS[numbers].number, 0)))
    except Fail as fail:
        return ("error", fail.path(""), fail.reason)


def _public(decode: Callable[[], Any]) -> Any:
    try:
        return ("value", _shape(decode()))
    except AttributeDecodeError as error:
        return ("error", error.path, error.reason)


def _fast(av: Any, numbers: str) -> Any:
    return _DECODERS[numbers].fast(((0, av),), 0)[0]


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(attribute_values, st.sampled_from(MODES))
def test_whatever_the_fast_path_accepts_the_validating_path_accepts_alike(
    av: Any, numbers: str
) -> None:
    expected = _validating(av, numbers)
    try:
        value = _fast(av, numbers)
    except _FAST_FAILURES:
        return  # turned down: the validating path decides
    assert expected == ("value", _shape(value))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(attribute_values, st.sampled_from(MODES))
def test_public_decoding_answers_as_the_validating_path(av: Any, numbers: str) -> None:
    expected = _validating(av, numbers)
    assert _public(lambda: deserialize(av, numbers=numbers)) == expected  # type: ignore[arg-type]
    image = {"a": av, "b": {"S": "after"}}
    item = _public(lambda: deserialize_item(image, numbers=numbers))  # type: ignore[arg-type]
    assert item == _validating_item(image, numbers)


@given(valid_attribute_values, st.sampled_from(MODES))
def test_the_fast_path_never_turns_down_a_valid_value(av: Any, numbers: str) -> None:
    assert _shape(_fast(av, numbers)) == _validating(av, numbers)[1]


def test_common_values_take_the_fast_path_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("handed to the validating path")

    monkeypatch.setattr(_decode, "_slow_value", refuse)
    item = serialize(
        {
            "s": "text",
            "n": 42,
            "d": Decimal("0.375"),
            "yes": True,
            "none": None,
            "map": {"list": [1, "x", {"deep": False}]},
            "tags": {"a", "b"},
            "levels": {1, 2, 3},
            "blob": b"\x00\x01",
        },
        binary="base64",
    )
    expected = {
        "s": "text",
        "n": 42,
        "d": Decimal("0.375"),
        "yes": True,
        "none": None,
        "map": {"list": [1, "x", {"deep": False}]},
        "tags": {"a", "b"},
        "levels": {1, 2, 3},
        "blob": b"\x00\x01",
    }
    assert _DECODERS["auto"].fast(item["M"].items(), 0) == expected


@pytest.mark.parametrize(
    ("av", "path", "reason"),
    [
        ({"M": {"a": {"L": [{"N": "1"}, {"N": "\u0661"}]}}}, "a[1]", "malformed number"),
        ({"M": {"a": {"NS": ["1", "1_0"]}}}, "a[1]", "malformed number"),
        ({"M": {"a": {"NS": ["1", "01"]}}}, "a", "duplicate members"),
        ({"M": {"a": {"B": "AAA"}}}, "a", "invalid base64"),
        ({"M": {"a": {"S": "x", "N": "1"}}}, "a", "exactly one type descriptor"),
        ({"M": {"a": {"SS": []}}}, "a", "set is empty"),
        ({"M": {"a": {"N": "1" * 39}}}, "a", "significant digits"),
    ],
)
def test_errors_found_past_the_fast_path_keep_their_path(av: Any, path: str, reason: str) -> None:
    with pytest.raises(AttributeDecodeError) as info:
        deserialize(av)
    assert info.value.path == path
    assert reason in info.value.reason
