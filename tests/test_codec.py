"""streamflow.codec: AttributeValues to Python and back, exactly."""

from __future__ import annotations

import base64
import decimal
import enum
import math
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from streamflow.codec import (
    MAX_NESTING_DEPTH,
    deserialize,
    deserialize_item,
    item_size,
    serialize,
    serialize_item,
)
from streamflow.errors import AttributeDecodeError, AttributeEncodeError, StreamflowError
from tests import strategies

# --- every descriptor ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ({"S": "héllo"}, "héllo"),
        ({"S": ""}, ""),
        ({"N": "42"}, 42),
        ({"N": "-7"}, -7),
        ({"N": "0.375"}, Decimal("0.375")),
        ({"N": "-2.50"}, Decimal("-2.50")),
        ({"N": "12.00"}, 12),
        ({"N": "1E+2"}, 100),
        ({"N": "1.5E-3"}, Decimal("0.0015")),
        ({"N": "9" * 38}, int("9" * 38)),
        ({"B": "aGk="}, b"hi"),
        ({"B": b"hi"}, b"hi"),
        ({"B": ""}, b""),
        ({"BOOL": True}, True),
        ({"BOOL": False}, False),
        ({"NULL": True}, None),
        ({"M": {}}, {}),
        ({"M": {"a": {"S": "x"}, "b": {"N": "1"}}}, {"a": "x", "b": 1}),
        ({"L": []}, []),
        ({"L": [{"S": "x"}, {"N": "2"}, {"NULL": True}]}, ["x", 2, None]),
        ({"SS": ["a", "b"]}, {"a", "b"}),
        ({"NS": ["1", "2.5"]}, {1, Decimal("2.5")}),
        ({"BS": ["aGk=", "eA=="]}, {b"hi", b"x"}),
        ({"BS": [b"hi"]}, {b"hi"}),
    ],
)
def test_deserialize_each_descriptor(wire: dict[str, Any], expected: Any) -> None:
    got = deserialize(wire)
    assert got == expected
    assert type(got) is type(expected)


def test_integral_numbers_are_int_and_others_decimal_by_default() -> None:
    assert type(deserialize({"N": "30"})) is int
    assert type(deserialize({"N": "30.5"})) is Decimal


def test_numbers_decimal_policy_matches_boto3() -> None:
    assert deserialize({"N": "30"}, numbers="decimal") == Decimal(30)
    assert type(deserialize({"N": "30"}, numbers="decimal")) is Decimal
    assert deserialize({"NS": ["1", "2"]}, numbers="decimal") == {Decimal(1), Decimal(2)}


def test_numbers_float_policy_is_lossy_by_design() -> None:
    value = deserialize({"N": "0.1"}, numbers="float")
    assert type(value) is float
    assert value == 0.1
    big = deserialize({"N": "12345678901234567890123"}, numbers="float")
    assert big != 12345678901234567890123  # documented: floats lose digits


def test_float_policy_merges_set_members_that_round_alike_but_rejects_real_duplicates() -> None:
    close = ["99999999999999988304076857716743602178", "99999999999999988304076857716743602177"]
    assert deserialize({"NS": close}, numbers="float") == {float(close[0])}
    assert deserialize({"NS": close}, numbers="decimal") == {Decimal(n) for n in close}
    with pytest.raises(AttributeDecodeError, match="duplicate members"):
        deserialize({"NS": ["1", "1.0"]}, numbers="float")


def test_unknown_number_policy_is_rejected() -> None:
    with pytest.raises(ValueError, match="numbers must be"):
        deserialize({"N": "1"}, numbers="int")  # type: ignore[arg-type]


# --- errors say what and where -------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ({"X": "1"}, "unknown type descriptor 'X'"),
        ({"N": 5}, "N value must be a string of digits, got number"),
        ({"S": 5}, "S value must be a string, got number"),
        ({"BOOL": "true"}, "BOOL value must be a boolean, got string"),
        ({"NULL": False}, "NULL value must be true"),
        ({"M": []}, "M value must be an object, got array"),
        ({"L": {}}, "L value must be an array, got object"),
        ({"S": "a", "N": "1"}, "exactly one type descriptor, got N, S"),
        ({}, "no type descriptor"),
        ({"N": "NaN"}, "malformed number"),
        ({"N": "Infinity"}, "malformed number"),
        ({"N": "1_000"}, "malformed number"),
        ({"N": " 1"}, "malformed number"),
        ({"N": ""}, "malformed number"),
        ({"N": "١٢"}, "malformed number"),
        ({"N": "1" * 39}, "39 significant digits"),
        ({"N": "1E+126"}, "outside DynamoDB's range"),
        ({"N": "1E-131"}, "outside DynamoDB's range"),
        ({"B": "not base64!"}, "invalid base64"),
        ({"B": "aGk"}, "invalid base64"),
        ({"B": 5}, "binary value must be base64 text or bytes"),
        ({"SS": []}, "SS set is empty"),
        ({"SS": ["a", "a"]}, "duplicate members"),
        ({"NS": ["1", "1.0"]}, "duplicate members"),
        ({"SS": ["a", 1]}, "string set member must be a string"),
        ({"NS": "1"}, "NS value must be an array"),
    ],
)
def test_bad_values_raise_a_typed_error_with_the_reason(wire: Any, reason: str) -> None:
    with pytest.raises(AttributeDecodeError) as info:
        deserialize(wire)
    assert reason in info.value.reason
    assert isinstance(info.value, StreamflowError)
    assert isinstance(info.value, ValueError)


def test_error_path_names_the_nested_attribute() -> None:
    image = {"meta": {"M": {"history": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"deep": {"N": 5}}}]}}}}
    with pytest.raises(AttributeDecodeError) as info:
        deserialize_item(image, path="NewImage")
    assert info.value.path == "NewImage.meta.history[2].deep"
    assert str(info.value).endswith("at NewImage.meta.history[2].deep")


def test_error_path_without_prefix() -> None:
    with pytest.raises(AttributeDecodeError) as info:
        deserialize({"M": {"a": {"L": [{"Q": 1}]}}})
    assert info.value.path == "a[0]"


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("", 'NewImage.m[""]'),
        ("a.b", 'NewImage.m["a.b"]'),
        ("x[0]", 'NewImage.m["x[0]"]'),
        ('say "hi"', 'NewImage.m["say \\"hi\\""]'),
        ("tab\there", 'NewImage.m["tab\\there"]'),
        ("first name", "NewImage.m.first name"),
        ("ünïcode", "NewImage.m.ünïcode"),
    ],
)
def test_error_path_quotes_names_that_would_make_it_ambiguous(name: str, path: str) -> None:
    image = {"m": {"M": {name: {"N": "x"}}}}
    with pytest.raises(AttributeDecodeError) as info:
        deserialize_item(image, path="NewImage")
    assert info.value.path == path
    with pytest.raises(AttributeEncodeError) as encoded:
        serialize_item({"m": {name: float("nan")}})
    assert encoded.value.path == path.removeprefix("NewImage.")


def test_error_path_of_an_empty_top_level_name() -> None:
    with pytest.raises(AttributeDecodeError) as info:
        deserialize_item({"": {"N": "x"}})
    assert info.value.path == '[""]'
    with pytest.raises(AttributeDecodeError) as info:
        deserialize_item({"": {"N": "x"}}, path="OldImage")
    assert info.value.path == 'OldImage[""]'


def test_string_subclasses_mappings_and_tuples_decode_as_their_json_kind() -> None:
    class Text(str):
        def __str__(self) -> str:
            return "not this"

    decoded = deserialize(
        {
            "M": {
                "s": {"S": Text("a")},
                "n": {"N": Text("1.5")},
                "ss": {"SS": (Text("x"), "y")},
                "ns": {"NS": [Text("2")]},
                "l": {"L": ({"S": "z"},)},
                "m": {"M": OrderedDict(k={"BOOL": True})},
            }
        }
    )
    assert decoded == {
        "s": "a",
        "n": Decimal("1.5"),
        "ss": {"x", "y"},
        "ns": {2},
        "l": ["z"],
        "m": {"k": True},
    }
    assert type(decoded["s"]) is str
    assert all(type(member) is str for member in decoded["ss"])


@pytest.mark.parametrize(
    ("wire", "reason"),
    [
        ({"S": 5}, "S value must be a string, got number"),
        ({"L": {"a": 1}}, "L value must be an array, got object"),
        ({"M": [1]}, "M value must be an object, got array"),
        ({"SS": "a"}, "SS value must be an array, got string"),
        ({"SS": [1]}, "string set member must be a string, got number"),
    ],
)
def test_type_errors_name_two_different_kinds(wire: dict[str, Any], reason: str) -> None:
    with pytest.raises(AttributeDecodeError) as info:
        deserialize(wire)
    assert info.value.reason == reason


def test_non_object_attribute_value_is_a_typed_error() -> None:
    with pytest.raises(AttributeDecodeError, match="expected an AttributeValue object"):
        deserialize_item({"a": "plain"})
    with pytest.raises(AttributeDecodeError, match="expected an AttributeValue object"):
        deserialize(["S", "x"])  # type: ignore[arg-type]
    with pytest.raises(AttributeDecodeError, match="an item must be an object"):
        deserialize_item([])  # type: ignore[arg-type]


def _nest(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for level in range(levels):
        value = {"M": {"x": value}} if level % 2 else {"L": [value]}
    return value


def test_nesting_up_to_32_levels_decodes() -> None:
    assert deserialize(_nest(MAX_NESTING_DEPTH)) is not None


def test_nesting_deeper_than_32_levels_raises_not_recursion_error() -> None:
    with pytest.raises(AttributeDecodeError, match="deeper than DynamoDB's 32 levels"):
        deserialize(_nest(MAX_NESTING_DEPTH + 1))
    with pytest.raises(AttributeDecodeError, match="deeper"):
        deserialize(_nest(5000))


# --- serialize -----------------------------------------------------------------------------


def test_serialize_each_type() -> None:
    assert serialize("x") == {"S": "x"}
    assert serialize(True) == {"BOOL": True}
    assert serialize(7) == {"N": "7"}
    assert serialize(Decimal("0.375")) == {"N": "0.375"}
    assert serialize(0.1) == {"N": "0.1"}
    assert serialize(Decimal("-0")) == {"N": "0"}
    assert serialize(None) == {"NULL": True}
    assert serialize(b"hi") == {"B": b"hi"}
    assert serialize(b"hi", binary="base64") == {"B": "aGk="}
    assert serialize({"a": [1, "x"]}) == {"M": {"a": {"L": [{"N": "1"}, {"S": "x"}]}}}
    assert serialize((1,)) == {"L": [{"N": "1"}]}
    assert serialize({"b", "a"}) == {"SS": ["a", "b"]}
    assert serialize(frozenset({3, 1})) == {"NS": ["1", "3"]}
    assert serialize({b"y", b"x"}, binary="base64") == {"BS": ["eA==", "eQ=="]}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        (Decimal("1.5E2"), "150"),
        (1e20, "100000000000000000000"),
        (Decimal("-0.000100"), "-0.0001"),
        (
            Decimal("1.00000000000000007629769841092E+50"),
            "1000000000000000076297698410920" + "0" * 20,
        ),
        (
            Decimal("1234567890123456789012345678901234567.8"),
            "1234567890123456789012345678901234567.8",
        ),
        (Decimal("1E-130"), "0." + "0" * 129 + "1"),
        (frozenset({Decimal("2.0"), Decimal("1E1")}), None),
    ],
)
def test_numbers_are_written_as_dynamodb_stores_and_streams_them(value: Any, text: Any) -> None:
    """No exponent, no trailing zeros, every digit: so events built by streamflow.testing
    carry the text a real stream record carries, which is what filters match."""
    if text is None:
        assert serialize(value) == {"NS": ["2", "10"]}
    else:
        assert serialize(value) == {"N": text}


@given(strategies.numbers)
def test_number_text_is_canonical_and_exact(value: Any) -> None:
    text = serialize(value)["N"]
    digits = text.removeprefix("-")
    assert set(digits) <= set("0123456789."), text  # no exponent
    assert not ("." in digits and digits.endswith(("0", "."))), text  # no trailing zeros
    assert digits == "0" or not digits.startswith("0") or digits.startswith("0."), text
    assert text != "-0"
    assert Decimal(text) == Decimal(value)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (set(), "empty set"),
        ({1, "a"}, "set mixes types"),
        ({0.1, Decimal("0.1")}, "duplicate members"),
        (math.nan, "numbers must be finite"),
        (math.inf, "numbers must be finite"),
        (Decimal("NaN"), "not a finite number"),
        (10**40 + 1, "significant digits"),
        pytest.param(10**5000, "(16610-bit integer) is outside", id="int-of-5001-digits"),
        (Decimal("1E+126"), "outside DynamoDB's range"),
        (object(), "object has no DynamoDB form"),
        ({1: "x"}, "map keys must be strings"),
        ({None}, "is not a string, number or bytes"),
    ],
)
def test_serialize_rejects_values_with_no_dynamodb_form(value: Any, reason: str) -> None:
    with pytest.raises(AttributeEncodeError) as info:
        serialize(value)
    assert reason in info.value.reason


def test_serialize_error_path_and_datetime_hint() -> None:
    import datetime

    with pytest.raises(AttributeEncodeError) as info:
        serialize_item({"meta": {"when": [1, datetime.date(2026, 1, 1)]}})
    assert info.value.path == "meta.when[1]"
    assert "ISO-8601" in info.value.reason


def test_serialize_nesting_limit() -> None:
    value: Any = "leaf"
    for _ in range(MAX_NESTING_DEPTH + 1):
        value = [value]
    with pytest.raises(AttributeEncodeError, match="deeper"):
        serialize(value)


class _Color(str, enum.Enum):  # the pre-3.11 StrEnum idiom: its str() is "_Color.RED"
    RED = "red"
    BLUE = "blue"


def test_serialize_writes_str_enum_members_as_their_text() -> None:
    encoded = serialize({_Color.RED: _Color.BLUE, "tags": {_Color.RED, _Color.BLUE}})
    assert encoded == {"M": {"red": {"S": "blue"}, "tags": {"SS": ["blue", "red"]}}}
    assert [type(key) for key in encoded["M"]] == [str, str]
    assert [type(text) for text in encoded["M"]["tags"]["SS"]] == [str, str]
    item = serialize_item({_Color.RED: _Color.RED})
    assert item == {"red": {"S": "red"}}
    assert [type(key) for key in item] == [str]


def test_serialize_binary_set_mixing_bytes_and_memoryview() -> None:
    blobs = {b"z", memoryview(b"a")}
    assert serialize(blobs) == {"BS": [b"a", b"z"]}
    assert serialize(blobs, binary="base64") == {"BS": ["YQ==", "eg=="]}


def test_serialize_rejects_bad_binary_mode() -> None:
    with pytest.raises(ValueError, match="binary must be"):
        serialize(b"x", binary="hex")  # type: ignore[arg-type]


# --- properties ----------------------------------------------------------------------------


@given(strategies.values)
@settings(max_examples=300)
def test_round_trip(value: Any) -> None:
    assert deserialize(serialize(value)) == value
    assert deserialize(serialize(value, binary="base64")) == value


@given(strategies.items)
@settings(max_examples=150)
def test_item_round_trip(item: dict[str, Any]) -> None:
    assert deserialize_item(serialize_item(item)) == item


def _to_boto3(value: Any) -> Any:
    """boto3's serializer rejects float and takes Decimal; its sets need Python sets."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: _to_boto3(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_boto3(v) for v in value]
    if isinstance(value, set) and value and all(isinstance(v, int) for v in value):
        return {Decimal(v) for v in value}
    return value


def _from_boto3(value: Any) -> Any:
    if isinstance(value, Binary):
        # boto3-stubs type Binary.__bytes__ as returning str; at run time it returns bytes
        return bytes(value)  # type: ignore[call-overload]
    if isinstance(value, dict):
        return {k: _from_boto3(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_boto3(v) for v in value]
    if isinstance(value, set):
        return {_from_boto3(v) for v in value}
    return value


@given(strategies.values)
@settings(max_examples=300)
def test_differential_against_boto3(value: Any) -> None:
    """On every value both accept, both sides agree in both directions."""
    theirs = TypeSerializer().serialize(_to_boto3(value))
    ours: Any = serialize(value)  # a plain dict: boto3's stubs take only their own TypedDict
    assert _canonical(ours) == _canonical(theirs)
    try:
        decoded_theirs = _from_boto3(TypeDeserializer().deserialize(ours))
    except decimal.Rounded:
        # boto3 cannot read some numbers in the form DynamoDB returns them: over 38 digits
        # of text whose trailing zeros are not significant (boto/boto3#4693). Read its own.
        decoded_theirs = _from_boto3(TypeDeserializer().deserialize(theirs))
    assert deserialize(theirs, numbers="decimal") == decoded_theirs
    assert deserialize(theirs) == decoded_theirs


def _canonical(av: Any) -> Any:
    """Set members in a fixed order, numbers as Decimal, binary as bytes, for comparison."""
    ((tag, inner),) = av.items()
    if tag in ("SS", "BS"):
        # bytes(Binary): as in _from_boto3
        return tag, sorted(bytes(v) if isinstance(v, Binary) else v for v in inner)  # type: ignore[call-overload]
    if tag == "NS":
        return tag, sorted(Decimal(v) for v in inner)
    if tag == "N":
        return tag, Decimal(inner)
    if tag == "B":
        return tag, bytes(inner)
    if tag == "M":
        return tag, {k: _canonical(v) for k, v in inner.items()}
    if tag == "L":
        return tag, [_canonical(v) for v in inner]
    return tag, inner


@given(st.text(alphabet="0123456789.-+eE", max_size=12))
def test_number_text_never_escapes_as_a_bare_error(text: str) -> None:
    try:
        value = deserialize({"N": text})
    except AttributeDecodeError:
        return
    assert Decimal(text) == value


@given(st.binary(max_size=64))
def test_base64_text_and_bytes_decode_alike(data: bytes) -> None:
    text = base64.b64encode(data).decode()
    assert deserialize({"B": text}) == deserialize({"B": data}) == data


# --- sizes ---------------------------------------------------------------------------------


def test_item_size_follows_dynamodb_rules() -> None:
    assert item_size({"PK": "USER#7"}) == 2 + 6
    assert item_size({"n": 12345}) == 1 + (5 + 1) // 2 + 1
    assert item_size({"b": b"abc", "t": True, "z": None}) == (1 + 3) + (1 + 1) + (1 + 1)
    assert item_size({"m": {"a": "x"}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"l": [1, 2]}) == 1 + 3 + 2 * (2 + 1)
    assert item_size({"s": {"ab", "c"}}) == 1 + 3
    with pytest.raises(AttributeEncodeError):
        item_size({"x": object()})


def test_item_size_counts_every_significant_digit_whatever_the_decimal_context() -> None:
    # 38 significant digits: 20 bytes, not the 28 digits the default context would round to
    assert item_size({"n": 10**37 + 1}) == 1 + (38 + 1) // 2 + 1
    assert item_size({"n": Decimal("-0.00012300")}) == 1 + (3 + 1) // 2 + 1
    assert item_size({"z": 0}) == 1 + (1 + 1) // 2 + 1
    with decimal.localcontext() as context:
        context.traps[decimal.Inexact] = context.traps[decimal.Rounded] = True
        assert item_size({"n": 10**37 + 1}) == 21


@pytest.mark.parametrize(
    ("item", "path", "reason"),
    [
        ({"a": {"b": [1, object()]}}, "a.b[1]", "object has no DynamoDB form"),
        ({"a": {"b": Decimal("1E+999999999999999999")}}, "a.b", "outside DynamoDB's range"),
        ({"a": {1: "x"}}, "a", "map keys must be strings"),
        ({"a": {"s": {1, "x"}}}, "a.s", "set mixes types"),
        ({"a": ["\ud800"]}, "a[0]", "lone surrogate"),
        ({"\ud800": 1}, "\ud800", "lone surrogate"),
    ],
)
def test_item_size_errors_name_the_attribute_path(item: Any, path: str, reason: str) -> None:
    with pytest.raises(AttributeEncodeError) as info:
        item_size(item)
    assert info.value.path == path
    assert reason in info.value.reason


def test_item_size_refuses_what_serialize_refuses_nesting_included() -> None:
    deep: Any = 1
    for _ in range(1000):
        deep = {"a": deep}
    for measure in (item_size, serialize_item):
        with pytest.raises(AttributeEncodeError) as info:
            measure({"d": deep})
        assert info.value.path == "d" + ".a" * MAX_NESTING_DEPTH
        assert "deeper than DynamoDB's 32 levels" in info.value.reason
    for bad in (None, [("a", 1)]):
        with pytest.raises(AttributeEncodeError, match="must be a mapping"):
            item_size(bad)  # type: ignore[arg-type]
    with pytest.raises(AttributeEncodeError, match="attribute names must be strings"):
        item_size({7: 1})  # type: ignore[dict-item]


# --- hostile numbers: exponents past what Decimal holds (issue 11, item 1) ------------------

HUGE_EXPONENTS = ["1e99999999999999999999", "-2.5E+99999999999999999999", "1e-99999999999999999999"]


@pytest.mark.parametrize("numbers", ["auto", "decimal", "float"])
@pytest.mark.parametrize("text", HUGE_EXPONENTS)
def test_a_huge_exponent_is_outside_dynamodbs_range_on_every_path(text: str, numbers: Any) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: deserialize({"N": text}, numbers=numbers), ""),
        (lambda: deserialize({"NS": ["1", text]}, numbers=numbers), "[1]"),
        (lambda: deserialize({"L": [{"M": {"n": {"N": text}}}]}, numbers=numbers), "[0].n"),
        (
            lambda: deserialize_item({"a": {"N": text}}, numbers=numbers, path="NewImage"),
            "NewImage.a",
        ),
    ]
    for decode, path in cases:
        with pytest.raises(AttributeDecodeError) as info:
            decode()
        assert info.value.path == path
        assert "outside DynamoDB's range 1E-130 to 9.99E+125" in info.value.reason
        assert text in info.value.reason


@pytest.mark.parametrize(
    "text", ["-0e-9999999999999999999", "0E+99999999999999999999", "000.000e-99999999999999999999"]
)
def test_zero_is_zero_whatever_its_exponent_as_0e_200_is(text: str) -> None:
    # DynamoDB trims a number's zeros: the range 1E-130..9.99E+125 bounds numbers that are not 0
    for other in (text, "0e-200"):
        assert deserialize({"N": other}) == 0
        assert type(deserialize({"N": other})) is int
        assert deserialize({"N": other}, numbers="decimal") == Decimal(0)
        assert deserialize({"N": other}, numbers="float") == 0.0
        assert deserialize({"NS": [other, "1"]}) == {0, 1}


def test_a_huge_exponent_under_a_context_that_does_not_trap_it() -> None:
    with decimal.localcontext() as context:
        context.traps[decimal.InvalidOperation] = False
        with pytest.raises(AttributeDecodeError, match="outside DynamoDB's range"):
            deserialize({"N": "1e99999999999999999999"})
        assert deserialize({"N": "-0e-9999999999999999999"}) == 0


@pytest.mark.parametrize(
    "value",
    [
        Decimal("1E+999999999999999999"),
        Decimal("-1E-999999999999999999"),
        {"a": [Decimal("9.5E+999999999999999999")]},
        {Decimal("1E+999999999999999999"), Decimal(1)},
    ],
)
def test_serialize_and_item_size_refuse_a_decimal_with_a_huge_exponent(value: Any) -> None:
    for encode, path in (
        (lambda: serialize(value), ""),
        (lambda: serialize_item({"x": value}), "x"),
        (lambda: item_size({"x": value}), "x"),
    ):
        with pytest.raises(AttributeEncodeError) as info:
            encode()
        assert info.value.path.startswith(path)
        assert "outside DynamoDB's range" in info.value.reason
    assert serialize(Decimal("-0E-999999999999999999")) == {"N": "0"}


# --- error messages built from hostile Python values (issue 11, item 6c) --------------------


@pytest.mark.parametrize(
    ("value", "path", "reason"),
    [
        ({strategies.deep_tuple(100_000): 1}, "", "map keys must be strings, got tuple <tuple>"),
        ({10**5000: 1}, "", "map keys must be strings, got int (16610-bit integer)"),
        ({"a": {strategies.deep_tuple(100_000)}}, "a", "set member <tuple> is not a string"),
        (
            {"a": {"b": [{"c": "x" * 10_000, "d": {"x" * 1000}}, {object()}]}},
            "a.b[1]",
            "set member",
        ),
        ({"m": {"NULL": [strategies.deep_tuple(100_000)]}}, "m.NULL" + "[0]" * 30, "nested deeper"),
    ],
)
def test_encode_errors_are_built_safely_from_hostile_values(
    value: Any, path: str, reason: str
) -> None:
    with pytest.raises(AttributeEncodeError) as info:
        serialize(value)
    assert info.value.path == path
    assert info.value.reason.startswith(reason)
    assert len(str(info.value)) < 200


def test_decode_errors_are_built_safely_from_hostile_python_values() -> None:
    cases: list[tuple[Any, str, str]] = [
        ({"NULL": strategies.deep_tuple(100_000)}, "", "NULL value must be true, got <tuple>"),
        ({"NULL": 10**5000}, "", "NULL value must be true, got (16610-bit integer)"),
        ({10**5000: "x"}, "", "unknown type descriptor (16610-bit integer)"),
        ({strategies.deep_tuple(100_000): "x", "S": "y"}, "", "exactly one type descriptor, got"),
        ({"M": {10**5000: {"S": 5}}}, "[(16610-bit integer)]", "S value must be a string"),
        ({"M": {"k": {"N": "9" * 100_000}}}, "k", "100000 significant digits"),
        ({"N": "x" * 100_000}, "", "malformed number 'xxxx"),
    ]
    for wire, path, reason in cases:
        with pytest.raises(AttributeDecodeError) as info:
            deserialize(wire)
        assert info.value.path == path
        assert info.value.reason.startswith(reason) or reason in info.value.reason
        assert len(str(info.value)) < 200
