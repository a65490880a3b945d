"""The typed builder: rule factories, Filter builders, DynamoDB shortcuts, FilterCriteria."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from streamflow.errors import FilterValidationError
from streamflow.filters import (
    Filter,
    FilterCriteria,
    any_of,
    anything_but,
    between,
    cidr,
    equals_ignore_case,
    exists,
    numeric,
    prefix,
    suffix,
    wildcard,
)

# --- rule factories -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "text", "element"),
    [
        (prefix("A#"), "prefix('A#')", {"prefix": "A#"}),
        (
            prefix("a#", ignore_case=True),
            "prefix('a#', ignore_case=True)",
            {"prefix": {"equals-ignore-case": "a#"}},
        ),
        (suffix(".png"), "suffix('.png')", {"suffix": ".png"}),
        (
            suffix(".PNG", ignore_case=True),
            "suffix('.PNG', ignore_case=True)",
            {"suffix": {"equals-ignore-case": ".PNG"}},
        ),
        (equals_ignore_case("x"), "equals_ignore_case('x')", {"equals-ignore-case": "x"}),
        (wildcard("a*b"), "wildcard('a*b')", {"wildcard": "a*b"}),
        (cidr("10.0.0.0/8"), "cidr('10.0.0.0/8')", {"cidr": "10.0.0.0/8"}),
        (exists(), "exists(True)", {"exists": True}),
        (exists(False), "exists(False)", {"exists": False}),
        (numeric(">", 5), "numeric('>', 5)", {"numeric": [">", 5]}),
        (
            numeric(">=", 0, "<", 1.5),
            "numeric('>=', 0, '<', 1.5)",
            {"numeric": [">=", 0, "<", 1.5]},
        ),
        (between(1, 9), "numeric('>=', 1, '<=', 9)", {"numeric": [">=", 1, "<=", 9]}),
        (anything_but("x"), "anything_but('x')", {"anything-but": "x"}),
        (anything_but("x", "y"), "anything_but('x', 'y')", {"anything-but": ["x", "y"]}),
        (anything_but(["x"]), "anything_but('x')", {"anything-but": ["x"]}),
        (anything_but(5), "anything_but(5)", {"anything-but": 5}),
        (anything_but(1, 2.5), "anything_but(1, 2.5)", {"anything-but": [1, 2.5]}),
        (anything_but(prefix("t")), "anything_but(prefix('t'))", {"anything-but": {"prefix": "t"}}),
        (
            anything_but(suffix("a"), suffix("b")),
            "anything_but(suffix('a'), suffix('b'))",
            {"anything-but": {"suffix": ["a", "b"]}},
        ),
        (
            anything_but(equals_ignore_case("n")),
            "anything_but(equals_ignore_case('n'))",
            {"anything-but": {"equals-ignore-case": "n"}},
        ),
        (
            anything_but(wildcard("*-x")),
            "anything_but(wildcard('*-x'))",
            {"anything-but": {"wildcard": "*-x"}},
        ),
    ],
)
def test_factories_build_small_values_with_call_like_reprs(
    rule: Any, text: str, element: dict[str, Any]
) -> None:
    assert repr(rule) == text
    assert rule.to_json() == element
    assert rule == pickle.loads(pickle.dumps(rule))
    assert hash(rule) == hash(pickle.loads(pickle.dumps(rule)))
    with pytest.raises(AttributeError):
        rule.value = "changed"
    assert not hasattr(rule, "__dict__")


def test_rules_compare_by_kind_and_value() -> None:
    assert prefix("a") == prefix("a")
    assert prefix("a") != suffix("a")
    assert prefix("a") != prefix("a", ignore_case=True)
    assert len({exists(), exists(True), exists(False)}) == 2


def test_numbers_given_as_decimal_convert_exactly() -> None:
    assert numeric(">", Decimal("2.5")).to_json() == {"numeric": [">", 2.5]}
    assert numeric(">", Decimal("10")).to_json() == {"numeric": [">", 10]}
    with pytest.raises(FilterValidationError):
        numeric(">", Decimal("0.12345678901234567890123"))
    with pytest.raises(FilterValidationError):
        numeric(">", Decimal("NaN"))


@pytest.mark.parametrize(
    "build",
    [
        lambda: prefix(1),  # type: ignore[arg-type]
        lambda: suffix(None),  # type: ignore[arg-type]
        lambda: equals_ignore_case(["a"]),  # type: ignore[arg-type]
        lambda: wildcard("a**"),
        lambda: wildcard("a\\b"),
        lambda: cidr("10.0.0.0"),
        lambda: cidr("10.0.0.1/32"),
        lambda: exists("yes"),  # type: ignore[arg-type]
        lambda: numeric("==", 1),  # type: ignore[arg-type]
        lambda: numeric(">", "1"),  # type: ignore[arg-type]
        lambda: numeric(">", True),
        lambda: numeric("<", 5, "<", 9),
        lambda: numeric(">", 5, "<"),
        lambda: numeric(">", 9, "<", 5),
        lambda: between(5, 5),
        lambda: between(5, 1),
        lambda: anything_but(),
        lambda: anything_but([]),
        lambda: anything_but("a", 1),
        lambda: anything_but(True),
        lambda: anything_but(None),
        lambda: anything_but(prefix("")),
        lambda: anything_but(suffix("")),
        lambda: anything_but(prefix("a", ignore_case=True)),
        lambda: anything_but(prefix("a"), suffix("b")),
        lambda: anything_but(numeric(">", 1)),
        lambda: anything_but(exists()),
    ],
)
def test_factories_refuse_what_aws_refuses(build: Any) -> None:
    with pytest.raises(FilterValidationError):
        build()


# --- event names and generic paths --------------------------------------------------------------


def test_event_builders() -> None:
    assert Filter.insert().pattern == {"eventName": ["INSERT"]}
    assert Filter.modify().pattern == {"eventName": ["MODIFY"]}
    assert Filter.remove().pattern == {"eventName": ["REMOVE"]}
    assert Filter.events("INSERT", "REMOVE").pattern == {"eventName": ["INSERT", "REMOVE"]}
    with pytest.raises(FilterValidationError, match="insert"):
        Filter.events("insert")
    with pytest.raises(FilterValidationError):
        Filter.events()


def test_builders_work_on_the_class_and_on_instances_and_chain() -> None:
    chained = Filter.insert().where("awsRegion", "eu-west-1").key("PK", "A")
    assert chained.pattern == {
        "eventName": ["INSERT"],
        "awsRegion": ["eu-west-1"],
        "dynamodb": {"Keys": {"PK": {"S": ["A"]}}},
    }
    assert Filter.where("awsRegion", "eu-west-1").insert().key("PK", "A") == chained


def test_where_takes_dotted_paths_or_key_sequences_and_plain_values() -> None:
    dotted = Filter.where("dynamodb.SizeBytes", numeric("<", 400), 1000)
    keys = Filter.where(["dynamodb", "SizeBytes"], numeric("<", 400), 1000)
    assert dotted == keys
    assert dotted.pattern == {"dynamodb": {"SizeBytes": [{"numeric": ["<", 400]}, 1000]}}
    assert Filter.where("x", None, True, "", 1.5, Decimal("3")).pattern == {
        "x": [None, True, "", 1.5, 3]
    }
    with pytest.raises(FilterValidationError, match="base64"):
        Filter.where("x", b"raw")
    with pytest.raises(FilterValidationError):
        Filter.where("x")


def test_a_field_cannot_be_constrained_twice() -> None:
    with pytest.raises(FilterValidationError) as caught:
        Filter.insert().modify()
    assert caught.value.path == "eventName"
    with pytest.raises(FilterValidationError) as caught:
        Filter.new_image("status", "A").new_image("status", "B")
    assert caught.value.path == "dynamodb.NewImage.status.S"
    with pytest.raises(FilterValidationError):
        Filter.where("a", "x").where("a.b", "y")


def test_builders_return_new_filters_and_never_change_the_original() -> None:
    base = Filter.insert()
    extended = base.key("PK", "A")
    assert base.pattern == {"eventName": ["INSERT"]}
    assert extended is not base


# --- DynamoDB attributes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "kwargs", "leaf"),
    [
        (("ACTIVE",), {}, {"S": ["ACTIVE"]}),
        (("",), {}, {"S": [""]}),
        ((prefix("A"), suffix("Z")), {}, {"S": [{"prefix": "A"}, {"suffix": "Z"}]}),
        ((equals_ignore_case("a"),), {}, {"S": [{"equals-ignore-case": "a"}]}),
        ((anything_but("X"),), {}, {"S": [{"anything-but": "X"}]}),
        ((30,), {}, {"N": ["30"]}),
        ((30, 31), {}, {"N": ["30", "31"]}),
        ((2.50,), {}, {"N": ["2.5"]}),
        ((-0.125,), {}, {"N": ["-0.125"]}),
        ((1e20,), {}, {"N": ["100000000000000000000"]}),
        ((Decimal("1.500"),), {}, {"N": ["1.5"]}),
        ((Decimal("-0"),), {}, {"N": ["0"]}),
        ((Decimal("1E+3"),), {}, {"N": ["1000"]}),
        ((anything_but(1, 2),), {}, {"N": [{"anything-but": ["1", "2"]}]}),
        ((prefix("4"),), {"type": "N"}, {"N": [{"prefix": "4"}]}),
        (("42",), {"type": "N"}, {"N": ["42"]}),
        ((True,), {}, {"BOOL": [True]}),
        ((False,), {}, {"BOOL": [False]}),
        ((None,), {}, {"NULL": [True]}),
        ((b"\x00\x01\xfe\xff",), {}, {"B": ["AAH+/w=="]}),
        (("AAH+/w==",), {"type": "B"}, {"B": ["AAH+/w=="]}),
        (("daily",), {"type": "SS"}, {"SS": ["daily"]}),
        ((5,), {"type": "NS"}, {"NS": ["5"]}),
        ((b"ab",), {"type": "BS"}, {"BS": ["YWI="]}),
        ((exists(True),), {"type": "S"}, {"S": [{"exists": True}]}),
        ((exists(False),), {"type": "N"}, {"N": [{"exists": False}]}),
        ((exists(False), "x"), {}, {"S": [{"exists": False}, "x"]}),
    ],
)
def test_new_image_picks_the_descriptor_and_the_wire_form(
    rules: tuple[Any, ...], kwargs: dict[str, Any], leaf: dict[str, Any]
) -> None:
    assert Filter.new_image("a", *rules, **kwargs).pattern == {
        "dynamodb": {"NewImage": {"a": leaf}}
    }


def test_n_text_keeps_every_digit_dynamodb_keeps() -> None:
    # DynamoDB keeps 38 significant digits; Decimal's default context rounds to 28.
    exact = Decimal("12345678901234567890.123456789")
    assert Filter.new_image("n", exact).pattern == {
        "dynamodb": {"NewImage": {"n": {"N": ["12345678901234567890.123456789"]}}}
    }
    largest = Decimal("9.9999999999999999999999999999999999999E+125")
    assert Filter.key("n", largest).pattern["dynamodb"]["Keys"]["n"]["N"] == [
        "99999999999999999999999999999999999999" + "0" * 88
    ]
    assert Filter.new_image("n", Decimal("-1.500E+3"), Decimal("1E-130")).pattern["dynamodb"][
        "NewImage"
    ]["n"]["N"] == ["-1500", "0." + "0" * 129 + "1"]
    record = {"dynamodb": {"NewImage": {"n": {"N": "12345678901234567890.123456789"}}}}
    assert Filter.new_image("n", exact).matches(record)


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(Decimal("1.234567890123456789012345678901234567891"), id="40 digits"),
        pytest.param(10**38 + 1, id="39 digits"),
        pytest.param(Decimal("1E+126"), id="1E+126"),
        pytest.param(10**126, id="10**126"),
        # refused before Python is asked to write out its digits (it would refuse)
        pytest.param(10**5000, id="10**5000"),
        pytest.param(Decimal("1E-131"), id="1E-131"),
        pytest.param(1e300, id="1e300"),
        pytest.param(5e-324, id="5e-324"),
    ],
)
def test_numbers_dynamodb_cannot_store_are_refused_on_n_attributes(number: Any) -> None:
    with pytest.raises(FilterValidationError, match="DynamoDB"):
        Filter.new_image("n", number)
    with pytest.raises(FilterValidationError):
        Filter.old_image("n", anything_but(number))


def test_key_and_old_image_use_their_own_places() -> None:
    assert Filter.key("PK", prefix("SCORE#")).pattern == {
        "dynamodb": {"Keys": {"PK": {"S": [{"prefix": "SCORE#"}]}}}
    }
    assert Filter.key("id", 7).pattern == {"dynamodb": {"Keys": {"id": {"N": ["7"]}}}}
    assert Filter.old_image("v", True).pattern == {
        "dynamodb": {"OldImage": {"v": {"BOOL": [True]}}}
    }


def test_key_attributes_are_only_s_n_or_b() -> None:
    bad: Callable[[], Filter]
    for bad in (lambda: Filter.key("PK", True), lambda: Filter.key("PK", "x", type="SS")):
        with pytest.raises(FilterValidationError):
            bad()


def test_nested_map_values_are_named_by_a_sequence() -> None:
    flt = Filter.new_image(("meta", "client"), "ios")
    assert flt.pattern == {"dynamodb": {"NewImage": {"meta": {"M": {"client": {"S": ["ios"]}}}}}}
    record = {"dynamodb": {"NewImage": {"meta": {"M": {"client": {"S": "ios"}}}}}}
    assert flt.matches(record)


def test_numeric_on_an_attribute_is_refused_with_alternatives() -> None:
    build: Callable[[], Filter]
    for build in (
        lambda: Filter.new_image("Score", numeric(">", 10)),
        lambda: Filter.new_image("Score", between(1, 5), type="N"),
        lambda: Filter.key("n", numeric("=", 5)),
    ):
        with pytest.raises(FilterValidationError, match="text") as caught:
            build()
        assert "SizeBytes" in caught.value.reason


@pytest.mark.parametrize(
    ("rules", "kwargs"),
    [
        (("a", 5), {}),
        ((True, "x"), {}),
        ((None, 1), {}),
        ((exists(),), {}),
        ((exists(), exists(False)), {}),
        (("x",), {"type": "BOOL"}),
        ((5,), {"type": "S"}),
        ((b"x",), {"type": "S"}),
        ((True,), {"type": "N"}),
        (("x",), {"type": "M"}),
        (("x",), {"type": "L"}),
        (("x",), {"type": "s"}),
        ((), {}),
        ((object(),), {}),
        ((float("inf"),), {}),
    ],
)
def test_attribute_rules_that_can_never_match_are_refused(
    rules: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    with pytest.raises(FilterValidationError):
        Filter.new_image("a", *rules, **kwargs)


def test_attribute_names_must_be_non_empty_strings() -> None:
    for name in ("", (), ("a", ""), "$or", ("meta", "$or")):
        with pytest.raises(FilterValidationError):
            Filter.new_image(name, "x")


def test_absent_attribute_means_no_descriptor_holds_a_value() -> None:
    absent = Filter.new_image("deletedAt", exists(False))
    leaf = absent.pattern["dynamodb"]["NewImage"]["deletedAt"]
    assert set(leaf) == {"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS"}
    assert all(rule == [{"exists": False}] for rule in leaf.values())

    def record(**attributes: Any) -> dict[str, Any]:
        return {"dynamodb": {"NewImage": attributes}}

    assert absent.matches(record())
    assert absent.matches(record(other={"S": "x"}))
    for value in ({"S": "x"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"SS": ["a"]}):
        assert not absent.matches(record(deletedAt=value)), value
    # A map or list value is an object to AWS: invisible (documented limitation).
    assert absent.matches(record(deletedAt={"M": {"a": {"S": "x"}}}))


def test_present_attribute_needs_its_type() -> None:
    present = Filter.new_image("deletedAt", exists(True), type="S")
    assert present.matches({"dynamodb": {"NewImage": {"deletedAt": {"S": ""}}}})
    assert not present.matches({"dynamodb": {"NewImage": {"deletedAt": {"N": "1"}}}})
    assert not present.matches({"dynamodb": {"NewImage": {}}})


def test_ttl_helpers() -> None:
    assert Filter.ttl_deletes_only().pattern == {
        "userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}
    }
    assert Filter.exclude_ttl_deletes().pattern == {"userIdentity": {"type": [{"exists": False}]}}


# --- $or, &, equality ---------------------------------------------------------------------------


def test_any_of_adds_or_and_the_method_and_function_agree() -> None:
    a, b = Filter.new_image("a", "x"), Filter.old_image("b", "y")
    assert any_of(a, b) == Filter.any_of(a, b)
    assert any_of(a, b).pattern == {"$or": [a.pattern, b.pattern]}
    combined = Filter.modify().any_of(a, b)
    assert combined.matches({"eventName": "MODIFY", "dynamodb": {"OldImage": {"b": {"S": "y"}}}})
    assert not combined.matches(
        {"eventName": "INSERT", "dynamodb": {"NewImage": {"a": {"S": "x"}}}}
    )


def test_any_of_needs_two_filters() -> None:
    for bad in ((), (Filter.insert(),), (Filter.insert(), {"eventName": ["X"]})):
        with pytest.raises(FilterValidationError):
            any_of(*bad)


def test_two_any_of_are_anded() -> None:
    flt = any_of(Filter.where("a", "1"), Filter.where("b", "1")).any_of(
        Filter.where("c", "1"), Filter.where("d", "1")
    )
    assert flt.matches({"a": "1", "d": "1"})
    assert not flt.matches({"a": "1", "b": "1"})
    assert not flt.matches({"c": "1"})


def test_a_field_inside_and_outside_any_of_is_refused() -> None:
    with pytest.raises(FilterValidationError) as caught:
        Filter.insert().any_of(Filter.insert().key("PK", "a"), Filter.remove())
    assert caught.value.path == "eventName"


def test_and_merges_patterns() -> None:
    assert Filter.insert() & Filter.key("PK", "a") == Filter.insert().key("PK", "a")
    with pytest.raises(FilterValidationError):
        Filter.insert() & Filter.remove()
    assert Filter.insert().__and__("x") is NotImplemented  # type: ignore[operator]


def test_equality_follows_the_pattern_exactly() -> None:
    assert Filter.from_pattern({"a": ["1"], "b": ["2"]}) == Filter.from_pattern(
        '{"b":["2"],"a":["1"]}'
    )
    assert Filter.from_pattern({"a": [1]}) != Filter.from_pattern({"a": [1.0]})
    assert Filter.from_pattern({"a": [1]}) != Filter.from_pattern({"a": [True]})
    assert len({Filter.insert(), Filter.insert(), Filter.modify()}) == 2
    assert Filter.insert() != "eventName"


def test_key_order_counts_when_a_later_key_replaces_an_earlier_one() -> None:
    # AWS keeps the later of two rules on one path, so these pairs match differently.
    pairs = [
        (
            '{"k":["a"],"$or":[{"k":["b"]},{"z":["c"]}]}',
            '{"$or":[{"k":["b"]},{"z":["c"]}],"k":["a"]}',
        ),
        ('{"a.b":["x"],"a":{"b":["y"]}}', '{"a":{"b":["y"]},"a.b":["x"]}'),
    ]
    for first_text, second_text in pairs:
        first, second = Filter.from_pattern(first_text), Filter.from_pattern(second_text)
        assert any(
            first.matches(record) != second.matches(record)
            for record in ({"k": "b"}, {"a": {"b": "x"}})
        )
        assert first != second
        assert Filter.from_pattern(first.pattern) == first
        assert Filter.from_pattern(second.to_json()) == second


def test_filters_are_immutable_picklable_and_repr_round_trips() -> None:
    flt = Filter.insert().key("PK", prefix("SCORE#"))
    with pytest.raises(AttributeError):
        flt._pattern = {}
    with pytest.raises(AttributeError):
        del flt._text
    assert pickle.loads(pickle.dumps(flt)) == flt
    assert eval(repr(flt), {"Filter": Filter}) == flt
    copy = flt.pattern
    copy["eventName"].append("MODIFY")
    assert flt.pattern["eventName"] == ["INSERT"]


def test_round_trip_through_the_pattern_and_its_json() -> None:
    flt = (
        Filter.modify()
        .key("PK", prefix("USER#"))
        .new_image("status", anything_but("BANNED"))
        .old_image("Score", 1, 2, 3)
        .where("dynamodb.SizeBytes", numeric(">", 10))
        .exclude_ttl_deletes()
    )
    assert Filter.from_pattern(flt.pattern) == flt
    assert Filter.from_pattern(flt.to_json()) == flt
    assert flt.to_json() == flt.to_json().replace(" ", "")


def test_to_json_is_compact_and_keeps_non_ascii_text() -> None:
    assert Filter.new_image("name", "Zoë").to_json() == (
        '{"dynamodb":{"NewImage":{"name":{"S":["Zoë"]}}}}'
    )


# --- FilterCriteria -----------------------------------------------------------------------------


def test_criteria_or_filters_and_export_shapes() -> None:
    criteria = FilterCriteria(Filter.insert(), Filter.remove().exclude_ttl_deletes())
    assert criteria.matches({"eventName": "INSERT"})
    assert criteria.matches({"eventName": "REMOVE"})
    assert not criteria.matches({"eventName": "MODIFY"})
    expected = {
        "Filters": [
            {"Pattern": '{"eventName":["INSERT"]}'},
            {"Pattern": '{"eventName":["REMOVE"],"userIdentity":{"type":[{"exists":false}]}}'},
        ]
    }
    assert criteria.to_boto3() == expected
    assert criteria.to_cloudformation() == expected
    assert criteria.patterns == [f.pattern for f in criteria.filters]
    assert list(criteria) == list(criteria.filters)
    assert len(criteria) == 2


def test_or_operator_builds_criteria() -> None:
    a, b, c = Filter.insert(), Filter.modify(), Filter.remove()
    assert a | b == FilterCriteria(a, b)
    assert (a | b) | c == FilterCriteria(a, b, c)
    assert a | (b | c) == FilterCriteria(a, b, c)
    assert (a | b) | (c | a) == FilterCriteria(a, b, c, a)
    assert FilterCriteria(a, max_filters=10) | b == FilterCriteria(a, b, max_filters=10)
    assert a.__or__("x") is NotImplemented  # type: ignore[operator]


def test_at_most_five_filters_unless_raised_to_ten() -> None:
    filters = [Filter.where("n", str(i)) for i in range(11)]
    FilterCriteria(*filters[:5])
    with pytest.raises(FilterValidationError, match="max_filters=10"):
        FilterCriteria(*filters[:6])
    FilterCriteria(*filters[:10], max_filters=10)
    with pytest.raises(FilterValidationError):
        FilterCriteria(*filters, max_filters=10)
    for limit in (0, 11, 5.0, True):
        with pytest.raises(FilterValidationError, match=f"not {limit!r}"):
            FilterCriteria(max_filters=limit)  # type: ignore[arg-type]
    with pytest.raises(FilterValidationError):
        filters[0] | filters[1] | filters[2] | filters[3] | filters[4] | filters[5]


def test_criteria_hold_only_filters() -> None:
    with pytest.raises(FilterValidationError) as caught:
        FilterCriteria(Filter.insert(), {"eventName": ["MODIFY"]})  # type: ignore[arg-type]
    assert caught.value.path == "Filters[1]"


def test_no_filters_deliver_everything() -> None:
    empty = FilterCriteria()
    assert empty.matches({"anything": 1})
    assert empty.matches(None)
    assert empty.to_boto3() == {"Filters": []}


def test_from_boto3_reads_every_shape() -> None:
    wire = {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]}
    response = {"UUID": "x", "FilterCriteria": wire, "BatchSize": 100}
    assert FilterCriteria.from_boto3(wire) == FilterCriteria(Filter.insert())
    assert FilterCriteria.from_boto3(response) == FilterCriteria(Filter.insert())
    assert FilterCriteria.from_boto3({}) == FilterCriteria()
    criteria = FilterCriteria(Filter.insert(), Filter.modify().key("PK", "a"))
    assert FilterCriteria.from_boto3(criteria.to_boto3()) == criteria


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"Filters": "x"}, "Filters"),
        ({"Filters": [{"pattern": "{}"}]}, "Filters[0].Pattern"),
        ({"Filters": [{"Pattern": {"eventName": ["A"]}}]}, "Filters[0].Pattern"),
        (
            {"Filters": [{"Pattern": '{"a": ["x"]}'}, {"Pattern": '{"b": "x"}'}]},
            "Filters[1].Pattern.b",
        ),
        ({"Filters": [{"Pattern": "nope"}]}, "Filters[0].Pattern"),
        ({"FilterCriteria": "x"}, "FilterCriteria"),
        ("FilterCriteria", "FilterCriteria"),
        ([{"Pattern": "{}"}], "FilterCriteria"),
    ],
)
def test_from_boto3_errors_name_the_filter(value: Any, path: str) -> None:
    with pytest.raises(FilterValidationError) as caught:
        FilterCriteria.from_boto3(value)
    assert caught.value.path == path


def test_from_boto3_respects_the_filter_limit() -> None:
    wire = {"Filters": [{"Pattern": f'{{"n": ["{i}"]}}'} for i in range(7)]}
    with pytest.raises(FilterValidationError):
        FilterCriteria.from_boto3(wire)
    assert len(FilterCriteria.from_boto3(wire, max_filters=10)) == 7


def test_criteria_are_immutable_picklable_and_hashable() -> None:
    criteria = FilterCriteria(Filter.insert(), max_filters=10)
    with pytest.raises(AttributeError):
        criteria._filters = ()
    assert pickle.loads(pickle.dumps(criteria)) == criteria
    assert pickle.loads(pickle.dumps(criteria)).max_filters == 10
    assert hash(criteria) == hash(FilterCriteria(Filter.insert()))
    assert repr(criteria) == (
        'FilterCriteria(Filter.from_pattern(\'{"eventName":["INSERT"]}\'), max_filters=10)'
    )
    assert criteria != Filter.insert()


def test_explain_names_the_first_failing_field_of_each_alternative() -> None:
    flt = Filter.insert().key("PK", prefix("SCORE#"))
    assert (
        flt.explain({"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "SCORE#1"}}}}) == []
    )
    (miss,) = flt.explain({"eventName": "MODIFY"})
    assert (miss.path, miss.branch) == ("eventName", 0)
    assert miss.reason == '"MODIFY" does not match ["INSERT"]'
    (miss,) = flt.explain({"eventName": "INSERT"})
    assert miss.path == "dynamodb.Keys.PK.S"
    assert miss.reason == "is missing"
    (miss,) = Filter.from_pattern({"dynamodb": {"Keys": {"PK": ["x"]}}}).explain(
        {"dynamodb": {"Keys": {"PK": {"S": "x"}}}}
    )
    assert "type descriptor" in miss.reason
    (miss,) = Filter.exclude_ttl_deletes().explain({"userIdentity": {"type": "Service"}})
    assert miss.reason == 'must not exist, but the record has "Service"'
    alternatives = any_of(Filter.insert(), Filter.remove()).explain({"eventName": "MODIFY"})
    assert [m.branch for m in alternatives] == [0, 1]
    (miss,) = Filter.where("a", "x").explain({"a": ["y", "z"]})
    assert miss.reason.startswith("2 values")


def test_explain_blames_array_consistency_when_each_field_matches_alone() -> None:
    flt = Filter.where("items.sku", "A").where("items.qty", 2)
    (miss,) = flt.explain({"items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]})
    assert miss.path == "items"
    assert "array" in miss.reason
    assert str(miss).startswith("items: ")


# --- audit: wrong arguments, keys in maps, N text, CloudFormation's empty FilterCriteria ---------


@pytest.mark.parametrize(
    ("build", "path"),
    [
        pytest.param(lambda: Filter.new_image(5, "x"), "new_image(5)", id="new_image int name"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.old_image(None, "x"), "old_image(None)", id="None name"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.key(5, "x"), "key(5)", id="key int name"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.where(5, "x"), "where", id="where int path"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.where(None, "x"), "where", id="where None path"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.where("", "x"), "where", id="where empty path"),
        pytest.param(lambda: Filter.where("dynamodb..Keys", "x"), "dynamodb..Keys", id="a..b"),
        pytest.param(lambda: Filter.where("a", ["x", "y"]), "a", id="where list value"),  # type: ignore[arg-type]
        pytest.param(lambda: Filter.where("a", {"x": 1}), "a", id="where dict value"),  # type: ignore[arg-type]
        pytest.param(lambda: numeric([">"], 1), "numeric", id="numeric list operator"),  # type: ignore[arg-type]
        pytest.param(lambda: anything_but(("a", "b")), "anything-but", id="anything_but tuple"),  # type: ignore[arg-type]
        pytest.param(lambda: anything_but(b"x"), "anything-but", id="anything_but bytes"),
    ],
)
def test_wrong_arguments_raise_filter_validation_errors_with_a_path(build: Any, path: str) -> None:
    # They used to raise TypeError ("'int' object is not iterable", "unhashable type"), or
    # a FilterValidationError saying a list "must be a JSON number".
    with pytest.raises(FilterValidationError) as caught:
        build()
    assert caught.value.path == path
    assert "JSON number" not in caught.value.reason


def test_a_key_is_never_inside_a_map() -> None:
    # Keys.a.M.b could never match: key attributes are S, N or B.
    with pytest.raises(FilterValidationError, match="never inside a map"):
        Filter.key(("a", "b"), "x")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [("1.50", "1.5"), ("030", "30"), ("1E+2", "100"), ("-0", "0"), ("15e-1", "1.5"), ("7", "7")],
)
def test_n_text_given_as_a_string_is_written_as_dynamodb_writes_it(
    text: str, canonical: str
) -> None:
    # DynamoDB stores numbers, not their spelling: the stream says "1.5" for "1.50".
    flt = Filter.new_image("n", text, type="N")
    assert flt.pattern == {"dynamodb": {"NewImage": {"n": {"N": [canonical]}}}}
    assert flt.matches({"dynamodb": {"NewImage": {"n": {"N": canonical}}}})
    negated = Filter.new_image("n", anything_but(text), type="N")
    assert negated.pattern["dynamodb"]["NewImage"]["n"]["N"] == [{"anything-but": canonical}]
    assert not negated.matches({"dynamodb": {"NewImage": {"n": {"N": canonical}}}})
    assert Filter.new_image("tags", text, type="NS").pattern["dynamodb"]["NewImage"]["tags"] == {
        "NS": [canonical]
    }


@pytest.mark.parametrize("text", ["abc", "", "1_000", " 1", "NaN", "Infinity", "1e999"])
def test_text_that_is_no_storable_number_is_refused_on_n(text: str) -> None:
    with pytest.raises(FilterValidationError, match="never matches an N value"):
        Filter.new_image("n", text, type="N")
    # string rules stay text rules on N values: a prefix of the digits is fine
    Filter.new_image("n", prefix("1"), type="N")


def test_cloudformation_gets_no_empty_filters_list() -> None:
    # AWS::Lambda::EventSourceMapping FilterCriteria.Filters has "Minimum: 1" (cfn-lint
    # E3032); {} is a FilterCriteria without filters.
    assert FilterCriteria().to_cloudformation() == {}
    assert FilterCriteria.from_boto3(FilterCriteria().to_cloudformation()) == FilterCriteria()
    one = FilterCriteria(Filter.insert())
    assert one.to_cloudformation() == one.to_boto3()


def test_anything_but_keeps_every_digit_of_a_decimal_on_an_n_attribute() -> None:
    from streamflow import testing

    big = Decimal("1.23456789012345678901")  # more digits than a JSON number carries
    flt = Filter.new_image("n", anything_but(big, 7))
    assert flt.pattern == {
        "dynamodb": {"NewImage": {"n": {"N": [{"anything-but": ["1.23456789012345678901", "7"]}]}}}
    }

    def record(n: Any) -> dict[str, Any]:
        event = testing.event(testing.insert({"PK": "a", "SK": "b", "n": n}))
        raw: dict[str, Any] = event["Records"][0]
        return raw

    assert not flt.matches(record(big))
    assert not flt.matches(record(7))
    assert flt.matches(record(Decimal("1.2345678901234567890")))  # one digit fewer
    with pytest.raises(FilterValidationError, match="more digits than a JSON number"):
        Filter.where("dynamodb.SizeBytes", anything_but(big))  # a JSON number path
