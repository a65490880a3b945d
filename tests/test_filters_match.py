"""Matching semantics: each operator, each trap, as AWS's engine decides.

Every case is checked three ways: the generated fast matcher (``Filter.matches``), the
general matcher alone (``generic``), and through a ``FilterCriteria`` holding the filter.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from streamflow.filters import Filter, FilterCriteria

# A DynamoDB stream record as Lambda delivers it (NEW_AND_OLD_IMAGES, MODIFY).
RECORD: dict[str, Any] = {
    "eventID": "e1",
    "eventName": "MODIFY",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "eu-west-1",
    "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/Games/stream/2026",
    "dynamodb": {
        "ApproximateCreationDateTime": 1764148800,
        "Keys": {"PK": {"S": "USER#7"}, "SK": {"S": "PROFILE"}},
        "NewImage": {
            "PK": {"S": "USER#7"},
            "SK": {"S": "PROFILE"},
            "status": {"S": "ACTIVE"},
            "Score": {"N": "42"},
            "verified": {"BOOL": True},
            "nickname": {"NULL": True},
            "tags": {"SS": ["daily", "bonus"]},
            "levels": {"NS": ["1", "2.5"]},
            "avatar": {"B": "AAH+/w=="},
            "meta": {"M": {"client": {"S": "ios"}, "build": {"N": "1042"}}},
            "history": {
                "L": [
                    {"M": {"game": {"S": "chess"}, "result": {"S": "win"}}},
                    {"M": {"game": {"S": "go"}, "result": {"S": "loss"}}},
                ]
            },
        },
        "OldImage": {"PK": {"S": "USER#7"}, "status": {"S": "PENDING"}},
        "SequenceNumber": "4300000000012345678901",
        "SizeBytes": 321,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}


def verdict(pattern: dict[str, Any] | str, record: Any) -> bool:
    """The verdict, after checking that all three ways of matching agree."""
    flt = Filter.from_pattern(pattern)
    fast = flt.matches(record)
    general = flt._compiled.generic(record)
    grouped = FilterCriteria(Filter.from_pattern({"never": ["x-never"]}), flt).matches(record)
    assert fast is general is grouped, (fast, general, grouped)
    return fast


def image(**attributes: Any) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": attributes}}


# --- evaluation model ---------------------------------------------------------------------------


def test_every_field_must_match_and_any_alternative_will_do() -> None:
    assert verdict({"eventName": ["INSERT", "MODIFY"], "awsRegion": ["eu-west-1"]}, RECORD)
    assert not verdict({"eventName": ["INSERT", "MODIFY"], "awsRegion": ["us-east-1"]}, RECORD)


def test_fields_not_named_are_ignored_and_missing_named_fields_fail() -> None:
    assert verdict({"eventSource": ["aws:dynamodb"]}, RECORD)
    assert not verdict({"userIdentity": {"type": ["Service"]}}, RECORD)


def test_nesting_and_dotted_keys_are_the_same_path_on_both_sides() -> None:
    nested = {"dynamodb": {"Keys": {"PK": {"S": ["USER#7"]}}}}
    dotted = {"dynamodb.Keys.PK.S": ["USER#7"]}
    half = {"dynamodb.Keys": {"PK.S": ["USER#7"]}}
    for pattern in (nested, dotted, half):
        assert verdict(pattern, RECORD)
    flattened_record = {"dynamodb.Keys.PK": {"S": "USER#7"}}
    for pattern in (nested, dotted, half):
        assert verdict(pattern, flattened_record)


def test_a_dotted_key_in_the_record_is_found_when_the_nested_route_fails() -> None:
    record = {"a": {"b": "wrong"}, "a.b": "right"}
    assert verdict({"a": {"b": ["right"]}}, record)
    assert verdict({"a": {"b": ["wrong"]}}, record)
    assert not verdict({"a": {"b": ["neither"]}}, record)
    assert not verdict({"a": {"b": [{"exists": False}]}}, record)


def test_a_dotted_pattern_key_must_still_end_on_a_leaf() -> None:
    record = {"state": {"status": "running"}}
    assert not verdict({"state.status": {"status": ["running"]}}, record)
    assert verdict({"state.status": ["running"]}, record)


def test_only_leaves_match_values() -> None:
    # The attribute holds {"S": "ACTIVE"}: an object, not the string.
    assert not verdict(image(status=["ACTIVE"]), RECORD)
    assert verdict(image(status={"S": ["ACTIVE"]}), RECORD)


def test_a_json_string_is_not_parsed() -> None:
    record = {"detail": '{"kind": "x"}'}
    assert not verdict({"detail": {"kind": ["x"]}}, record)


def test_equality_is_type_strict_and_case_sensitive() -> None:
    record = {"s": "true", "b": True, "n": 300, "t": "300", "z": None, "e": "", "c": "Ab"}
    assert not verdict({"s": [True]}, record)
    assert not verdict({"b": ["true"]}, record)
    assert not verdict({"n": ["300"]}, record)
    assert not verdict({"t": [300]}, record)
    assert not verdict({"z": ["null"]}, record)
    assert not verdict({"z": [""]}, record)
    assert not verdict({"e": [None]}, record)
    assert not verdict({"c": ["ab"]}, record)
    assert verdict({"s": ["true"], "b": [True], "n": [300], "t": ["300"], "z": [None]}, record)
    assert verdict({"e": [""], "c": ["Ab"]}, record)


def test_a_boolean_never_equals_a_number() -> None:
    assert not verdict({"flag": [1]}, {"flag": True})
    assert not verdict({"flag": [0]}, {"flag": False})
    assert not verdict({"count": [True]}, {"count": 1})


def test_number_literals_compare_by_value() -> None:
    assert verdict({"price": [300]}, {"price": 300.0})
    assert verdict({"price": [2.5e2]}, {"price": 250})
    assert not verdict({"price": [300]}, {"price": 300.5})
    big = 123456789012345678901234567890
    assert verdict({"id": [big]}, {"id": big})
    assert not verdict({"id": [big]}, {"id": big + 1})


def test_unicode_and_whitespace_are_significant() -> None:
    assert verdict({"w": ["naïve 🎲"]}, {"w": "naïve 🎲"})
    assert not verdict({"w": ["naïve"]}, {"w": "naïve "})
    assert not verdict({"w": ["naïve"]}, {"w": "naive"})


# --- arrays -------------------------------------------------------------------------------------


def test_an_array_matches_when_any_element_does() -> None:
    assert verdict(image(tags={"SS": ["bonus"]}), RECORD)
    assert not verdict(image(tags={"SS": ["weekly"]}), RECORD)
    assert verdict({"ids": [7, 8]}, {"ids": [1, 2, 8]})


def test_an_empty_array_is_no_value() -> None:
    record: dict[str, Any] = {"list": []}
    assert not verdict({"list": [{"exists": True}]}, record)
    assert verdict({"list": [{"exists": False}]}, record)
    assert not verdict({"list": [None]}, record)
    assert not verdict({"list": [{"anything-but": "x"}]}, record)


def test_nested_arrays_are_flattened() -> None:
    record = {"grid": [[1, 2], [3, [4, 5]]], "rows": [[{"v": "a"}], [{"v": "b"}]]}
    assert verdict({"grid": [5]}, record)
    assert not verdict({"grid": [6]}, record)
    assert verdict({"rows": {"v": ["b"]}}, record)


def test_fields_in_one_array_of_objects_must_match_in_the_same_element() -> None:
    games = {"dynamodb.NewImage.history.L.M": {"game": {"S": ["chess"]}, "result": {"S": ["win"]}}}
    assert verdict(games, RECORD)
    crossed = {
        "dynamodb.NewImage.history.L.M": {"game": {"S": ["chess"]}, "result": {"S": ["loss"]}}
    }
    assert not verdict(crossed, RECORD)


def test_array_consistency_holds_in_nested_arrays_and_across_dotted_routes() -> None:
    record: dict[str, Any] = {
        "teams": [[{"name": "red", "size": 3}, {"name": "blue", "size": 5}], []]
    }
    assert verdict({"teams": {"name": ["blue"], "size": [5]}}, record)
    assert not verdict({"teams": {"name": ["blue"], "size": [3]}}, record)
    # Leaves in different arrays are free to come from anywhere.
    record = {"a": [{"x": 1}, {"x": 2}], "b": [{"y": 1}, {"y": 2}]}
    assert verdict({"a": {"x": [1]}, "b": {"y": [2]}}, record)


def test_a_leaf_and_an_object_in_one_array_are_different_elements() -> None:
    record = {"mix": ["tag", {"k": "v"}]}
    assert verdict({"mix": ["tag"]}, record)
    assert verdict({"mix": {"k": ["v"]}}, record)
    assert not verdict({"mix": ["tag"], "mix.k": ["v"]}, record)


def test_exists_false_next_to_a_field_in_the_same_array_element() -> None:
    record = {"items": [{"sku": "A", "gift": True}, {"sku": "B"}]}
    # "gift" sorts before "sku": the engine checks it before "sku" picked an element.
    assert not verdict({"items": {"sku": ["B"], "gift": [{"exists": False}]}}, record)
    # "note" sorts after "id": anchored to the element where id matched.
    record = {"items": [{"id": "A", "note": "x"}, {"id": "B"}]}
    assert verdict({"items": {"id": ["B"], "note": [{"exists": False}]}}, record)
    assert not verdict({"items": {"id": ["A"], "note": [{"exists": False}]}}, record)


# --- operators ------------------------------------------------------------------------------


def test_prefix_and_suffix_match_strings_only() -> None:
    assert verdict({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "USER#"}]}}}}, RECORD)
    assert not verdict({"dynamodb": {"Keys": {"PK": {"S": [{"prefix": "user#"}]}}}}, RECORD)
    assert verdict({"file": [{"suffix": ".png"}]}, {"file": "cat.png"})
    assert not verdict({"file": [{"suffix": ".PNG"}]}, {"file": "cat.png"})
    assert not verdict({"code": [{"prefix": "1"}]}, {"code": 123})
    assert not verdict({"code": [{"suffix": "3"}]}, {"code": 123})


def test_empty_prefix_and_suffix_match_every_string_but_no_number() -> None:
    for operator in ("prefix", "suffix"):
        assert verdict({"v": [{operator: ""}]}, {"v": ""})
        assert verdict({"v": [{operator: ""}]}, {"v": "anything"})
        assert not verdict({"v": [{operator: ""}]}, {"v": 0})
        assert not verdict({"v": [{operator: ""}]}, {"v": None})


def test_prefix_and_suffix_ignoring_case() -> None:
    assert verdict({"v": [{"prefix": {"equals-ignore-case": "user#"}}]}, {"v": "USER#7"})
    assert verdict({"v": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"v": "cat.png"})
    assert not verdict({"v": [{"suffix": {"equals-ignore-case": ".PNG"}}]}, {"v": "cat.gif"})


def test_equals_ignore_case_maps_one_character_at_a_time() -> None:
    assert verdict({"v": [{"equals-ignore-case": "active"}]}, {"v": "AcTiVe"})
    assert verdict({"v": [{"equals-ignore-case": "ÄÖÜ"}]}, {"v": "äöü"})
    assert not verdict({"v": [{"equals-ignore-case": "straße"}]}, {"v": "STRASSE"})
    assert not verdict({"v": [{"equals-ignore-case": "STRASSE"}]}, {"v": "straße"})
    assert verdict({"v": [{"equals-ignore-case": ""}]}, {"v": ""})
    assert not verdict({"v": [{"equals-ignore-case": ""}]}, {"v": "x"})
    assert not verdict({"v": [{"equals-ignore-case": "1"}]}, {"v": 1})


def test_anything_but_a_value() -> None:
    assert verdict(image(status={"S": [{"anything-but": "DELETED"}]}), RECORD)
    assert not verdict(image(status={"S": [{"anything-but": "ACTIVE"}]}), RECORD)
    assert not verdict(image(status={"S": [{"anything-but": ["ACTIVE", "X"]}]}), RECORD)


def test_anything_but_needs_a_present_leaf_but_accepts_null_and_other_types() -> None:
    rule = [{"anything-but": "x"}]
    assert not verdict({"v": rule}, {})
    assert not verdict({"v": rule}, {"v": {"nested": "object"}})
    assert verdict({"v": rule}, {"v": None})
    assert verdict({"v": rule}, {"v": 5})
    assert verdict({"v": rule}, {"v": False})
    assert verdict({"v": [{"anything-but": [1, 2]}]}, {"v": "1"})


def test_anything_but_numbers_compare_by_value_and_arrays_need_one_survivor() -> None:
    assert not verdict({"v": [{"anything-but": 100}]}, {"v": 100.0})
    assert verdict({"v": [{"anything-but": [100]}]}, {"v": [100, 101]})
    assert not verdict({"v": [{"anything-but": [100, 101]}]}, {"v": [100, 101]})


def test_anything_but_prefix_suffix_ignore_case_and_wildcard() -> None:
    assert verdict({"v": [{"anything-but": {"prefix": "tmp/"}}]}, {"v": "data/x"})
    assert not verdict({"v": [{"anything-but": {"prefix": "tmp/"}}]}, {"v": "tmp/x"})
    assert verdict({"v": [{"anything-but": {"prefix": ["a", "b"]}}]}, {"v": "cat"})
    assert not verdict({"v": [{"anything-but": {"suffix": [".tmp", ".bak"]}}]}, {"v": "x.bak"})
    assert verdict({"v": [{"anything-but": {"prefix": "1"}}]}, {"v": 123})
    assert not verdict({"v": [{"anything-but": {"equals-ignore-case": "Draft"}}]}, {"v": "DRAFT"})
    assert verdict({"v": [{"anything-but": {"equals-ignore-case": ["a", "b"]}}]}, {"v": "c"})
    assert not verdict({"v": [{"anything-but": {"wildcard": "*-test"}}]}, {"v": "api-test"})
    assert verdict({"v": [{"anything-but": {"wildcard": ""}}]}, {"v": "x"})
    assert not verdict({"v": [{"anything-but": {"wildcard": ""}}]}, {"v": ""})


def test_numeric_matches_json_numbers_only() -> None:
    rule = {"dynamodb": {"SizeBytes": [{"numeric": [">", 300]}]}}
    assert verdict(rule, RECORD)
    assert not verdict({"dynamodb": {"SizeBytes": [{"numeric": ["<", 300]}]}}, RECORD)
    assert not verdict({"v": [{"numeric": [">", 0]}]}, {"v": "5"})
    assert not verdict({"v": [{"numeric": [">", 0]}]}, {"v": True})
    assert not verdict({"v": [{"numeric": ["=", 1]}]}, {"v": True})
    assert not verdict({"v": [{"numeric": [">", 0]}]}, {"v": None})


def test_numeric_operators_and_ranges() -> None:
    cases = [
        (["=", 5], 5.0, True),
        (["<", 5], 4.999, True),
        (["<", 5], 5, False),
        (["<=", 5], 5, True),
        ([">", -1.5], -1.4, True),
        ([">=", 0], -0.0, True),
        ([">", 0, "<", 10], 10, False),
        ([">", 0, "<=", 10], 10, True),
        ([">=", 0.5, "<", 1], 0.5, True),
        ([">=", 0.5, "<", 1], 0.4999999, False),
        ([">", 1e300, "<", 1.7e308], 1e301, True),
    ]
    for operands, value, expected in cases:
        assert verdict({"v": [{"numeric": operands}]}, {"v": value}) is expected, operands
    assert verdict({"v": [{"numeric": [">", 100]}]}, {"v": [1, 2, 101]})


def test_exists_counts_leaves_and_null_only() -> None:
    assert verdict({"v": [{"exists": True}]}, {"v": None})
    assert verdict({"v": [{"exists": True}]}, {"v": ""})
    assert not verdict({"v": [{"exists": True}]}, {"v": {"inner": 1}})
    assert not verdict({"v": [{"exists": True}]}, {})
    assert not verdict({"v": [{"exists": False}]}, {"v": 0})
    assert verdict({"v": [{"exists": False}]}, {"v": {"inner": 1}})
    assert verdict({"v": [{"exists": False}]}, {"other": 1})
    assert verdict({"a": {"b": [{"exists": False}]}}, {"a": "leaf"})
    assert verdict({"a": {"b": [{"exists": False}]}}, {})


def test_exists_can_be_combined_with_values_in_one_field() -> None:
    either = {"v": [{"exists": False}, "x"]}
    assert verdict(either, {})
    assert verdict(either, {"v": "x"})
    assert not verdict(either, {"v": "y"})
    assert verdict({"v": [{"exists": True}, {"prefix": "never"}]}, {"v": "y"})


def test_wildcard_stars_match_any_run_including_none() -> None:
    rule = {"arn": [{"wildcard": "arn:aws:dynamodb:*:table/Games*"}]}
    assert verdict(rule, {"arn": "arn:aws:dynamodb:eu-west-1:1:table/Games/stream/x"})
    assert verdict(rule, {"arn": "arn:aws:dynamodb::table/Games"})
    assert not verdict(rule, {"arn": "arn:aws:dynamodb:eu-west-1:1:table/Other"})
    assert verdict({"v": [{"wildcard": "*"}]}, {"v": ""})
    assert verdict({"v": [{"wildcard": "a*a*a"}]}, {"v": "aaa"})
    assert not verdict({"v": [{"wildcard": "a*a*a"}]}, {"v": "aa"})
    assert verdict({"v": [{"wildcard": ""}]}, {"v": ""})
    assert not verdict({"v": [{"wildcard": ""}]}, {"v": "x"})
    assert not verdict({"v": [{"wildcard": "*"}]}, {"v": 1})


def test_wildcard_escapes() -> None:
    assert verdict({"v": [{"wildcard": "5\\*"}]}, {"v": "5*"})
    assert not verdict({"v": [{"wildcard": "5\\*"}]}, {"v": "55"})
    assert verdict({"v": [{"wildcard": "c:\\\\*"}]}, {"v": "c:\\temp"})
    assert verdict({"v": [{"wildcard": "\\**"}]}, {"v": "*star"})


def test_wildcard_is_linear_on_long_inputs() -> None:
    text = "a" * 200_000
    assert not verdict({"v": [{"wildcard": "*a*a*a*a*b"}]}, {"v": text})


def test_cidr_matches_addresses_in_the_block() -> None:
    rule = {"ip": [{"cidr": "10.1.0.0/16"}]}
    assert verdict(rule, {"ip": "10.1.200.3"})
    assert not verdict(rule, {"ip": "10.2.0.1"})
    assert not verdict(rule, {"ip": "10.1.0.256"})
    assert not verdict(rule, {"ip": "not an ip"})
    assert not verdict(rule, {"ip": 167837955})
    host_bits = {"ip": [{"cidr": "192.168.1.77/24"}]}
    assert verdict(host_bits, {"ip": "192.168.1.1"})
    v6 = {"ip": [{"cidr": "2001:db8::/32"}]}
    assert verdict(v6, {"ip": "2001:0db8:0000:0000:0000:0000:0000:0001"})
    assert verdict(v6, {"ip": "2001:DB8::FFFF"})
    assert not verdict(v6, {"ip": "2001:db9::1"})
    assert not verdict(v6, {"ip": "10.1.0.1"})


def test_an_ipv6_literal_matches_every_spelling_of_the_address() -> None:
    assert verdict({"ip": ["2001:db8::1"]}, {"ip": "2001:0DB8:0:0:0:0:0:1"})
    assert not verdict({"ip": ["2001:db8::1"]}, {"ip": "2001:db8::2"})
    assert verdict({"ip": ["10.0.0.1"]}, {"ip": "10.0.0.1"})


def test_or_alternatives_are_anded_with_the_siblings() -> None:
    pattern: dict[str, Any] = {
        "eventName": ["MODIFY"],
        "$or": [
            {"dynamodb": {"NewImage": {"status": {"S": ["BANNED"]}}}},
            {"dynamodb": {"SizeBytes": [{"numeric": [">", 100]}]}},
        ],
    }
    assert verdict(pattern, RECORD)
    assert not verdict({**pattern, "eventName": ["INSERT"]}, RECORD)
    pattern["$or"][1] = {"dynamodb": {"SizeBytes": [{"numeric": [">", 1000]}]}}
    assert not verdict(pattern, RECORD)


def test_or_can_nest_and_live_below_the_top() -> None:
    pattern: dict[str, Any] = {
        "dynamodb": {
            "NewImage": {
                "$or": [
                    {"status": {"S": ["GONE"]}},
                    {
                        "verified": {"BOOL": [True]},
                        "$or": [{"Score": {"N": ["1"]}}, {"Score": {"N": ["42"]}}],
                    },
                ]
            }
        }
    }
    assert verdict(pattern, RECORD)
    pattern["dynamodb"]["NewImage"]["$or"][1]["$or"][1] = {"Score": {"N": ["43"]}}
    assert not verdict(pattern, RECORD)


def test_a_field_repeated_inside_or_replaces_the_outer_one() -> None:
    # The engine builds each alternative from the fields seen so far; a later key wins.
    pattern = {"k": ["outer"], "$or": [{"k": ["inner"]}, {"other": ["x"]}]}
    assert verdict(pattern, {"k": "inner"})
    assert verdict(pattern, {"k": "outer", "other": "x"})
    assert not verdict(pattern, {"k": "outer"})


def test_a_later_duplicate_path_replaces_an_earlier_one() -> None:
    assert verdict('{"a": {"b": ["1"]}, "a.b": ["2"]}', {"a": {"b": "2"}})
    assert not verdict('{"a": {"b": ["1"]}, "a.b": ["2"]}', {"a": {"b": "1"}})
    assert verdict('{"a": ["1"], "a": ["2"]}', {"a": "2"})


# --- DynamoDB traps -----------------------------------------------------------------------------


def test_n_values_are_text() -> None:
    assert verdict(image(Score={"N": ["42"]}), RECORD)
    assert not verdict(image(Score={"N": [42]}), RECORD)
    assert not verdict(image(Score={"N": [{"numeric": [">", 0]}]}), RECORD)
    assert not verdict(image(Score={"N": ["42.0"]}), RECORD)
    # anything-but with a number always matches the text
    assert verdict(image(Score={"N": [{"anything-but": 42}]}), RECORD)


def test_real_json_numbers_of_the_record_work_with_numeric() -> None:
    pattern = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}
    assert verdict(pattern, RECORD)


def test_exists_false_without_a_descriptor_always_matches() -> None:
    assert verdict(image(status=[{"exists": False}]), RECORD)  # the trap: status is present
    assert not verdict(image(status={"S": [{"exists": False}]}), RECORD)
    assert not verdict(image(status=[{"exists": True}]), RECORD)
    assert verdict(image(status={"S": [{"exists": True}]}), RECORD)


def test_bool_null_sets_binary_and_maps() -> None:
    assert verdict(image(verified={"BOOL": [True]}), RECORD)
    assert not verdict(image(verified={"BOOL": ["true"]}), RECORD)
    assert verdict(image(nickname={"NULL": [True]}), RECORD)
    assert verdict(image(levels={"NS": ["2.5"]}), RECORD)
    assert verdict(image(avatar={"B": ["AAH+/w=="]}), RECORD)
    assert verdict(image(meta={"M": {"client": {"S": ["ios"]}}}), RECORD)
    assert not verdict(image(meta={"M": [{"exists": True}]}), RECORD)


def test_missing_images_fail_values_and_pass_exists_false() -> None:
    insert = copy.deepcopy(RECORD)
    insert["eventName"] = "INSERT"
    del insert["dynamodb"]["OldImage"]
    assert not verdict({"dynamodb": {"OldImage": {"status": {"S": ["PENDING"]}}}}, insert)
    assert verdict({"dynamodb": {"OldImage": {"status": {"S": [{"exists": False}]}}}}, insert)


def test_ttl_deletes_are_told_apart_by_user_identity() -> None:
    removed = {"eventName": "REMOVE", "dynamodb": {"Keys": {"PK": {"S": "A"}}}}
    by_ttl = {
        **removed,
        "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"},
    }
    only_ttl = Filter.remove().ttl_deletes_only()
    no_ttl = Filter.remove().exclude_ttl_deletes()
    assert only_ttl.matches(by_ttl)
    assert not only_ttl.matches(removed)
    assert no_ttl.matches(removed)
    assert not no_ttl.matches(by_ttl)


# --- robustness ---------------------------------------------------------------------------------


@pytest.mark.parametrize("record", [None, 0, 1.5, "text", True, [], [1, 2], [{"a": "x"}], {}])
def test_any_json_value_is_a_record(record: Any) -> None:
    # Only the list holding {"a": "x"} has a leaf at "a".
    assert verdict({"a": [{"exists": False}]}, record) is (record != [{"a": "x"}])
    assert not verdict({"a": ["y"]}, record)


def test_a_top_level_array_is_treated_like_any_array() -> None:
    assert verdict({"a": ["x"]}, [{"a": "y"}, {"a": "x"}])


def test_values_of_unknown_types_are_ignored() -> None:
    from decimal import Decimal

    record = {"n": Decimal("1"), "t": (1, 2), "s": {1, 2}}
    assert not verdict({"n": [1]}, record)
    assert verdict({"n": [{"exists": False}]}, record)
    assert not verdict({"t": [1]}, record)
    assert not verdict({"s": [{"exists": True}]}, record)


def test_dict_subclasses_are_objects() -> None:
    from collections import OrderedDict

    record = OrderedDict(a=OrderedDict(b="x"))
    assert verdict({"a": {"b": ["x"]}}, record)
    assert verdict({"a": {"b": ["x"]}}, {"a": OrderedDict(b="x")})


def test_deep_and_wide_records_never_raise() -> None:
    deep: Any = "leaf"
    for _ in range(3000):
        deep = {"a": deep}
    assert not verdict({"a": {"a": ["leaf"]}}, deep)
    deep_list: Any = ["leaf"]
    for _ in range(3000):
        deep_list = [deep_list]
    assert verdict({"a": ["leaf"]}, {"a": deep_list})
    wide = {"items": [{"k": i, "v": str(i)} for i in range(20_000)]}
    assert verdict({"items": {"k": [19_999], "v": ["19999"]}}, wide)
    assert not verdict({"items": {"k": [19_999], "v": ["0"]}}, wide)


def test_a_deep_pattern_path_never_raises() -> None:
    path = ".".join(["a"] * 1500)
    record: Any = "x"
    for _ in range(1500):
        record = [{"a": record}]
    assert verdict({path: ["x"]}, record)
    assert not verdict({path: ["y"]}, record)


def test_pattern_text_never_reaches_the_generated_code() -> None:
    sneaky = 'a\nraise SystemExit("injected")\n#'
    flt = Filter.from_pattern({sneaky: ["x"], "b.c": ["y"]})
    assert flt.matches({sneaky: "x", "b": {"c": "y"}})
    assert not flt.matches({"b": {"c": "y"}})
    source: str = flt._match.__source__  # type: ignore[attr-defined]
    assert "injected" not in source
    assert "b.c" not in source


def test_huge_or_expansions_use_the_general_matcher() -> None:
    # 2**9 combinations of 9 fields each: too much to generate code for.
    pattern = {f"f{i}": {"$or": [{"a": ["1"]}, {"b": ["2"]}]} for i in range(9)}
    everything = {f"f{i}": {"a": "1"} for i in range(9)}
    assert verdict(pattern, everything)
    assert verdict(pattern, {**everything, "f8": {"b": "2"}})
    assert not verdict(pattern, {**everything, "f8": {"a": "2"}})
    flt = Filter.from_pattern(pattern)
    flt.matches({})
    assert not hasattr(flt._match, "__source__")


def test_dotted_keys_offering_two_routes_per_field_stay_fast() -> None:
    # Each of 20 fields is reachable through "m" and through a dotted key "m.f<i>"; one more
    # field fails on both routes. Trying every combination of routes would take 2**21 steps
    # (minutes); a route where a field fails on its own is never combined with others.
    count = 20
    pattern: dict[str, Any] = {"m": {f"f{i}": ["x"] for i in range(count)}}
    pattern["m"]["zz"] = ["never"]
    nested: dict[str, Any] = {f"f{i}": "x" for i in range(count)}
    record: dict[str, Any] = {"m": {**nested, "zz": "y"}}
    record.update({f"m.f{i}": "x" for i in range(count)})
    record["m.zz"] = "y"
    started = time.perf_counter()
    assert not verdict(pattern, record)
    record["m.zz"] = "never"
    assert verdict(pattern, record)
    record["m"]["zz"], record["m.zz"] = "never", "y"
    assert verdict(pattern, record)
    assert time.perf_counter() - started < 5


def test_fields_sharing_two_dotted_routes_but_no_array_element_stay_fast() -> None:
    # 22 fields "a.b.f<i>", each reachable through key "a" and through key "a.b"; both hold an
    # array whose element i holds f<i> alone. Every field matches on its own on either route,
    # but no two can share an element, and 22 fields on 2 routes must put two on one. Trying
    # each way to give fields routes takes 2**22 steps (minutes); the search over the array
    # elements the fields share takes a few milliseconds.
    count = 22
    pattern: dict[str, Any] = {"a": {"b": {f"f{i}": ["x"] for i in range(count)}}}
    alone = [{f"f{i}": "x"} for i in range(count)]
    record: dict[str, Any] = {"a": {"b": alone}, "a.b": copy.deepcopy(alone)}
    started = time.perf_counter()
    assert not verdict(pattern, record)
    # An element of "a.b" holding all fields but f0, which takes route "a": a match.
    record["a.b"].append({f"f{i}": "x" for i in range(1, count)})
    assert verdict(pattern, record)
    # The same with an exists: false field that both routes hold in every element.
    pattern["a"]["b"]["zz"] = [{"exists": False}]
    assert verdict(pattern, record)
    for element in [*record["a"]["b"], *record["a.b"]]:
        element["zz"] = 0
    assert not verdict(pattern, record)
    assert time.perf_counter() - started < 2


def test_a_stream_record_is_matched_as_the_record_lambda_delivers() -> None:
    from streamflow import testing
    from streamflow.filters import prefix
    from streamflow.records import StreamRecord

    raw = testing.event(testing.insert({"PK": "SCORE#1", "SK": "A", "points": 5}))["Records"][0]
    record = StreamRecord.from_lambda(raw)
    scores = Filter.insert().key("PK", prefix("SCORE#"))
    others = Filter.modify()
    assert scores.matches(record) is scores.matches(raw) is True
    assert others.matches(record) is others.matches(raw) is False
    assert (others | scores).matches(record) is True
    assert (others | Filter.remove()).matches(record) is False
    assert [str(m) for m in others.explain(record)] == [str(m) for m in others.explain(raw)]
    assert others.explain(record) != []
