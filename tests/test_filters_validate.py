"""Validation: every pattern AWS rejects at CreateEventSourceMapping raises, with a path."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamflow.errors import FilterValidationError, StreamflowError
from streamflow.filters import Filter, numeric


def rejected(pattern: Any) -> FilterValidationError:
    with pytest.raises(FilterValidationError) as caught:
        Filter.from_pattern(pattern)
    return caught.value


def test_the_error_is_a_value_error_with_path_and_reason() -> None:
    error = rejected({"dynamodb": {"NewImage": {"Score": {"N": [{"numeric": [">"]}]}}}})
    assert isinstance(error, ValueError)
    assert isinstance(error, StreamflowError)
    assert error.path == "dynamodb.NewImage.Score.N[0].numeric"
    assert "got 1 element" in error.reason
    assert str(error) == f"{error.reason} at {error.path}"


@pytest.mark.parametrize(
    "pattern",
    ['["a"]', '"text"', "null", "12", "true", "[]"],
)
def test_the_pattern_must_be_a_json_object(pattern: str) -> None:
    assert rejected(pattern).path == ""


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "{",
        '{"a": ["x"]',
        "{'a': ['x']}",
        '{"a": ["x"]} trailing',
        '{"a": [NaN]}',
        '{"a": [Infinity]}',
        '{"a": [-Infinity]}',
    ],
)
def test_invalid_json_text_is_rejected(text: str) -> None:
    assert rejected(text).path == ""


def test_patterns_are_accepted_as_text_bytes_or_mappings() -> None:
    from types import MappingProxyType

    expected = {"eventName": ["INSERT"]}
    assert Filter.from_pattern('{"eventName": ["INSERT"]}').pattern == expected
    assert Filter.from_pattern(b'{"eventName": ["INSERT"]}').pattern == expected
    assert Filter.from_pattern(MappingProxyType(expected)).pattern == expected
    assert rejected(b"\xff\xfe").path == ""
    assert rejected(42).path == ""


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({}, ""),
        ({"a": {}}, "a"),
        ({"a": []}, "a"),
        ({"a": {"b": {}}}, "a.b"),
        ({"a": [{}]}, "a[0]"),
        ({"a": [{"anything-but": []}]}, "a[0].anything-but"),
        ({"a": [{"anything-but": {"prefix": []}}]}, "a[0].anything-but.prefix"),
    ],
)
def test_empty_objects_and_arrays_are_rejected_anywhere(pattern: Any, path: str) -> None:
    assert rejected(pattern).path == path


@pytest.mark.parametrize("value", ["INSERT", 1, 1.5, True, None])
def test_a_bare_value_is_rejected(value: Any) -> None:
    error = rejected({"eventName": value})
    assert error.path == "eventName"
    assert "bare" in error.reason


@pytest.mark.parametrize(
    ("element", "path"),
    [
        ([["a"]], "f[0]"),
        (["ok", ["nested"]], "f[1]"),
        ([{"exists": True, "prefix": "a"}], "f[0]"),
        ([{"prefix": "a", "extra": []}], "f[0]"),
        ([{"contains": "a"}], "f[0].contains"),
        ([{"exactly": "a"}], "f[0].exactly"),
        ([{"NUMERIC": [">", 1]}], "f[0].NUMERIC"),
        ([{"Exists": True}], "f[0].Exists"),
        ([{"Prefix": "a"}], "f[0].Prefix"),
        ([{"anything_but": "a"}], "f[0].anything_but"),
    ],
)
def test_array_elements_are_values_or_one_key_operator_objects(element: Any, path: str) -> None:
    assert rejected({"f": element}).path == path


def test_mis_cased_operators_get_a_hint() -> None:
    assert '"numeric"' in rejected({"f": [{"Numeric": [">", 1]}]}).reason


@pytest.mark.parametrize(
    "operand",
    [
        ["=", True],
        ["=", "5"],
        ["="],
        [">"],
        [">", 1, "<"],
        [">", 1, "<", 2, "x"],
        ["==", 1],
        ["<>", 1],
        ["!=", 1],
        ["=", 1, "<", 2],
        ["<", 2, ">", 1],
        ["<=", 2, ">=", 1],
        [">", 1, ">", 2],
        [">", 1, "=", 2],
        [">", 2, "<", 1],
        [">", 1, "<", 1],
        [">=", 1, "<=", 1],
        [">", "1", "<", 2],
        [">", 1, "<", None],
        [">", 1, "<", 2, False],
        ">",
        5,
        {">": 5},
        [1, ">"],
    ],
)
def test_malformed_numeric_is_rejected(operand: Any) -> None:
    error = rejected({"n": [{"numeric": operand}]})
    assert error.path.startswith("n[0].numeric")


@pytest.mark.parametrize(
    "operand",
    [["=", 0], ["<", -1.5], ["<=", 1e300], [">", 0], [">=", 0, "<", 1], [">", -5, "<=", 5]],
)
def test_well_formed_numeric_is_accepted(operand: Any) -> None:
    Filter.from_pattern({"n": [{"numeric": operand}]})


def test_numbers_beyond_a_double_are_rejected() -> None:
    assert rejected({"n": [{"numeric": [">", 10**400]}]}).path == "n[0].numeric[1]"
    assert rejected({"n": [10**400]}).path == "n[0]"
    assert rejected({"n": [float("nan")]}).path == "n[0]"
    assert rejected({"n": [float("inf")]}).path == "n[0]"
    # Even when Python would refuse to write the number out as text.
    assert rejected({"n": [10**5000]}).path == "n[0]"
    assert rejected({"n": [{"anything-but": [1, -(10**5000)]}]}).path == "n[0].anything-but[1]"
    with pytest.raises(FilterValidationError):
        numeric(">", 10**5000)


@pytest.mark.parametrize("value", ["true", 1, None, [True], {"a": True}])
def test_exists_takes_a_boolean(value: Any) -> None:
    assert rejected({"f": [{"exists": value}]}).path == "f[0].exists"


@pytest.mark.parametrize("operator", ["prefix", "suffix", "equals-ignore-case", "wildcard", "cidr"])
@pytest.mark.parametrize("operand", [1, ["a"], None, True])
def test_string_operators_take_a_string(operator: str, operand: Any) -> None:
    assert rejected({"f": [{operator: operand}]}).path == f"f[0].{operator}"


@pytest.mark.parametrize(
    "operand",
    [
        {"equals-ignore-case": 1},
        {"equals-ignore-case": ["a"]},
        {"equals-ignore-case": "a", "x": "b"},
        {"ignore-case": "a"},
        {"prefix": "a"},
    ],
)
def test_prefix_and_suffix_objects_hold_only_equals_ignore_case(operand: Any) -> None:
    for operator in ("prefix", "suffix"):
        assert rejected({"f": [{operator: operand}]}).path.startswith(f"f[0].{operator}")
    Filter.from_pattern({"f": [{"prefix": {"equals-ignore-case": "a"}}]})


@pytest.mark.parametrize(
    "operand",
    [
        None,
        True,
        ["a", 1],
        [None],
        [True],
        [["a"]],
        [{"prefix": "a"}],
        {"prefix": ""},
        {"suffix": ""},
        {"prefix": ["a", ""]},
        {"prefix": 5},
        {"suffix": [1]},
        {"equals-ignore-case": [1]},
        {"equals-ignore-case": 1},
        {"wildcard": 5},
        {"wildcard": "a**b"},
        {"wildcard": ["ok", "a**"]},
        {"prefix": {"equals-ignore-case": "a"}},
        {"numeric": [">", 1]},
        {"exists": True},
        {"prefix": "a", "suffix": "b"},
    ],
)
def test_malformed_anything_but_is_rejected(operand: Any) -> None:
    assert rejected({"f": [{"anything-but": operand}]}).path.startswith("f[0].anything-but")


@pytest.mark.parametrize(
    "operand",
    [
        "a",
        "",
        5,
        -1.5,
        ["a", "b"],
        [1, 2.5],
        {"prefix": "a"},
        {"prefix": ["a", "b"]},
        {"suffix": "a"},
        {"equals-ignore-case": ""},
        {"equals-ignore-case": ["a", "B"]},
        {"wildcard": ""},
        {"wildcard": ["a*", "*b"]},
    ],
)
def test_well_formed_anything_but_is_accepted(operand: Any) -> None:
    Filter.from_pattern({"f": [{"anything-but": operand}]})


@pytest.mark.parametrize("text", ["a**b", "**", "a\\b", "a\\", "\\n", "\\***"])
def test_bad_wildcards_are_rejected(text: str) -> None:
    assert rejected({"f": [{"wildcard": text}]}).path == "f[0].wildcard"


@pytest.mark.parametrize("text", ["", "*", "a*b*c", "\\*", "\\\\", "\\\\*", "\\**"])
def test_good_wildcards_are_accepted(text: str) -> None:
    Filter.from_pattern({"f": [{"wildcard": text}]})


@pytest.mark.parametrize(
    "block",
    [
        "10.0.0.0",
        "10.0.0.0/",
        "10.0.0.0/x",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "10.0.0.0/33",
        "10.0.0.0/32",
        "10.0.0/8",
        "10.0.0.256/8",
        "host/8",
        "2001:db8::/129",
        "2001:db8::/128",
        "2001:zz8::/32",
        "10.0.0.0/8/8",
        "",
    ],
)
def test_bad_cidr_blocks_are_rejected(block: str) -> None:
    assert rejected({"ip": [{"cidr": block}]}).path == "ip[0].cidr"


@pytest.mark.parametrize("block", ["10.0.0.0/8", "10.0.0.9/8", "0.0.0.0/0", "10.0.0.0/31", "::/0"])
def test_good_cidr_blocks_are_accepted(block: str) -> None:
    Filter.from_pattern({"ip": [{"cidr": block}]})


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({"$or": [{"a": ["1"]}]}, "$or"),
        ({"$or": []}, "$or"),
        ({"$or": {"a": ["1"]}}, "$or"),
        ({"$or": "a"}, "$or"),
        ({"$or": [{"a": ["1"]}, "b"]}, "$or[1]"),
        ({"$or": [{"a": ["1"]}, [{"b": ["2"]}]]}, "$or[1]"),
        ({"$or": [{"a": ["1"]}, {}]}, "$or[1]"),
        ({"x": {"$or": [{"a": ["1"]}, {"prefix": ["2"]}]}}, "x.$or[1].prefix"),
        ({"$or": [{"a": ["1"]}, {"b": {"numeric": ["2"]}}]}, "$or[1].b.numeric"),
        ({"$or": [{"a": ["1"]}, {"=": ["2"]}]}, "$or[1].="),
        ({"$or": [{"a": ["1"]}, {"regex": ["2"]}]}, "$or[1].regex"),
    ],
)
def test_or_misuse_is_rejected(pattern: Any, path: str) -> None:
    assert rejected(pattern).path == path


def test_operator_names_are_ordinary_field_names_outside_or() -> None:
    Filter.from_pattern({"numeric": ["x"], "prefix": {"exists": ["y"]}})


def test_duplicate_keys_inside_an_operator_object_are_rejected() -> None:
    assert rejected('{"a": [{"prefix": "x", "prefix": "y"}]}').path == "a[0]"
    assert rejected('{"a": [{"anything-but": {"prefix": "x", "prefix": "y"}}]}').path.startswith(
        "a[0].anything-but"
    )


def test_the_4096_character_limit_counts_compact_json_for_mappings() -> None:
    overhead = len('{"k":[""]}')
    Filter.from_pattern({"k": ["x" * (4096 - overhead)]})
    error = rejected({"k": ["x" * (4097 - overhead)]})
    assert error.path == ""
    assert "4097" in error.reason


def test_the_4096_character_limit_counts_the_text_as_given() -> None:
    compact = json.dumps({"k": ["x" * 4000]}, separators=(",", ":"))
    padded = compact[:-1] + " " * (4096 - len(compact)) + "}"
    assert len(padded) == 4096
    Filter.from_pattern(padded)
    assert rejected(padded[:-1] + " }").path == ""


def test_the_limit_counts_utf16_units_like_java() -> None:
    overhead = len('{"k":[""]}')
    Filter.from_pattern({"k": ["é" * (4096 - overhead)]})
    rejected({"k": ["🎲" * ((4096 - overhead) // 2 + 1)]})


def test_keys_must_be_strings_and_values_json() -> None:
    assert rejected({1: ["a"]}).path == ""
    assert rejected({"a": [b"bytes"]}).path == "a[0]"
    assert rejected({"a": [{1, 2}]}).path == "a[0]"
    assert rejected({"a": ("x",)}).path == "a"


def test_errors_are_reported_in_document_order() -> None:
    error = rejected({"first": [{"numeric": ["?", 1]}], "second": []})
    assert error.path == "first[0].numeric[0]"


def test_very_deep_patterns_are_refused_without_crashing() -> None:
    deep: Any = ["x"]
    for _ in range(5000):
        deep = {"a": deep}
    assert rejected(deep).path == ""
    assert rejected('{"a":' * 3000 + '["x"]' + "}" * 3000).path == ""


def test_too_many_or_combinations_are_refused() -> None:
    pattern = {f"f{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(11)}
    error = rejected(pattern)
    assert error.path.endswith("$or")
    assert "1024" in error.reason


def test_the_callers_dict_is_copied() -> None:
    pattern = {"eventName": ["INSERT"]}
    flt = Filter.from_pattern(pattern)
    pattern["eventName"].append("MODIFY")
    assert flt.pattern == {"eventName": ["INSERT"]}
    assert not flt.matches({"eventName": "MODIFY"})
