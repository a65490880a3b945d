"""Lint: patterns AWS accepts that never (or always) match DynamoDB stream records."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from streamflow.errors import FilterValidationError
from streamflow.filters import (
    Filter,
    FilterCriteria,
    LintWarning,
    anything_but,
    exists,
    lint,
    numeric,
)

RECORD_TEMPLATE: dict[str, Any] = {
    "eventName": "MODIFY",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"PK": {"S": "A"}},
        "NewImage": {"PK": {"S": "A"}, "Score": {"N": "30"}, "status": {"S": "x"}},
        "OldImage": {"PK": {"S": "A"}, "Score": {"N": "20"}},
        "SizeBytes": 100,
        "SequenceNumber": "111",
    },
}


def found(pattern: Any, **kwargs: Any) -> list[tuple[str, str]]:
    return [(w.path, w.message) for w in lint(pattern, **kwargs)]


def one(pattern: Any, **kwargs: Any) -> LintWarning:
    warnings = lint(pattern, **kwargs)
    assert len(warnings) == 1, warnings
    return warnings[0]


def new_image(**attributes: Any) -> dict[str, Any]:
    return {"dynamodb": {"NewImage": attributes}}


def test_good_patterns_have_nothing_to_say() -> None:
    good = [
        Filter.insert().key("PK", "A"),
        Filter.modify().new_image("Score", 30).old_image("status", "x"),
        Filter.new_image("gone", exists(False)),
        Filter.remove().exclude_ttl_deletes(),
        Filter.ttl_deletes_only(),
        Filter.where("dynamodb.SizeBytes", numeric(">", 5)),
        Filter.from_pattern({"eventSource": ["aws:dynamodb"], "awsRegion": ["eu-west-1"]}),
    ]
    for flt in good:
        assert lint(flt) == [], flt
        assert flt.lint(view_type="NEW_AND_OLD_IMAGES") == []


def test_numbers_and_numeric_on_n_values() -> None:
    literal = one(new_image(Score={"N": [30]}))
    assert literal.path == "dynamodb.NewImage.Score.N"
    assert "text" in literal.message
    assert literal.fix.startswith("Filter.new_image('Score', 30, type='N')")
    # The fix really works, and the literal really does not.
    record = RECORD_TEMPLATE
    assert not Filter.from_pattern(new_image(Score={"N": [30]})).matches(record)
    assert Filter.new_image("Score", 30).matches(record)

    ranged = one(new_image(Score={"N": [{"numeric": [">", 5, "<=", 50]}]}))
    assert "numeric" in ranged.message
    assert not Filter.from_pattern(new_image(Score={"N": [{"numeric": [">", 5]}]})).matches(record)
    assert "no pattern" in ranged.fix

    negated = one(new_image(Score={"N": [{"anything-but": [30]}]}))
    assert "always matches" in negated.message
    assert negated.fix == "Filter.new_image('Score', anything_but('30'), type='N')"
    assert not Filter.new_image("Score", anything_but("30"), type="N").matches(record)


def test_cdk_filter_rule_traps_are_caught() -> None:
    # FilterRule.is_equal(5) and FilterRule.between(1, 10) on an N attribute.
    assert one(new_image(Score={"N": [{"numeric": ["=", 5]}]})).path.endswith(".N")
    assert one({"dynamodb": {"Keys": {"n": {"N": [{"numeric": [">", 1, "<=", 10]}]}}}})
    assert one(new_image(levels={"NS": [5]})).fix.startswith(
        "Filter.new_image('levels', 5, type='NS')"
    )


def test_a_value_rule_on_an_attribute_without_descriptor() -> None:
    warning = one(new_image(status=["ACTIVE"]))
    assert warning.path == "dynamodb.NewImage.status"
    assert "never matches" in warning.message
    assert warning.fix == "Filter.new_image('status', 'ACTIVE')"
    assert one({"dynamodb": {"Keys": {"PK": [{"prefix": "A"}]}}}).fix == (
        "Filter.key('PK', prefix('A'))"
    )


def test_exists_on_an_attribute_without_descriptor() -> None:
    absent = one(new_image(gone=[{"exists": False}]))
    assert "always matches" in absent.message
    assert absent.fix == "Filter.new_image('gone', exists(False))"
    present = one(new_image(there=[{"exists": True}]))
    assert "never matches" in present.message


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ({"body": {"a": ["x"]}}, "body.a"),
        ({"data": ["x"]}, "data"),
        ({"NewImage": {"a": {"S": ["x"]}}}, "NewImage.a.S"),
        ({"Keys": {"PK": {"S": ["x"]}}}, "Keys.PK.S"),
        ({"detail": {"state": ["x"]}}, "detail.state"),
        ({"dynamodb": {"Newimage": {"a": {"S": ["x"]}}}}, "dynamodb.Newimage.a.S"),
        ({"dynamodb": ["x"]}, "dynamodb"),
        ({"dynamodb": {"SizeBytes": {"x": [1]}}}, "dynamodb.SizeBytes.x"),
        ({"userIdentity": {"arn": ["x"]}}, "userIdentity.arn"),
        ({"userIdentity": ["x"]}, "userIdentity"),
        ({"eventName": {"S": ["INSERT"]}}, "eventName.S"),
    ],
)
def test_fields_lambda_never_delivers(pattern: dict[str, Any], path: str) -> None:
    assert one(pattern).path == path


def test_unknown_fields_with_exists_false_always_match() -> None:
    assert "always matches" in one({"body": [{"exists": False}]}).message


@pytest.mark.parametrize(
    "pattern",
    [
        new_image(a={"s": ["x"]}),
        new_image(a={"String": ["x"]}),
        new_image(a={"S": {"x": ["y"]}}),
        new_image(a={"M": ["x"]}),
        new_image(a={"L": ["x"]}),
        {"dynamodb": {"Keys": {"PK": {"BOOL": [True]}}}},
        {"dynamodb": {"NewImage": ["x"]}},
    ],
)
def test_descriptors_must_exist_and_hold_leaves(pattern: dict[str, Any]) -> None:
    assert len(lint(pattern)) >= 1


def test_a_mis_cased_descriptor_gets_a_hint() -> None:
    assert "'S'" in one(new_image(a={"s": ["x"]})).message


def test_values_inside_maps_and_lists_are_followed() -> None:
    assert lint(new_image(meta={"M": {"client": {"S": ["ios"]}}})) == []
    assert lint(new_image(history={"L": {"S": ["x"]}})) == []
    assert one(new_image(meta={"M": {"build": {"N": [1042]}}})).path == (
        "dynamodb.NewImage.meta.M.build.N"
    )
    assert one(new_image(history={"L": {"M": {"n": ["x"]}}})).path.endswith("M.n")


@pytest.mark.parametrize(
    ("leaf", "expected"),
    [
        ({"S": [5]}, "string"),
        ({"S": [None]}, "string"),
        ({"S": [{"numeric": [">", 1]}]}, "numeric"),
        ({"B": [True]}, "string"),
        ({"BOOL": ["true"]}, "BOOL"),
        ({"BOOL": [1]}, "BOOL"),
        ({"NULL": [False]}, "NULL"),
        ({"NULL": ["null"]}, "NULL"),
        ({"SS": [{"numeric": ["=", 1]}]}, "numeric"),
    ],
)
def test_rules_of_the_wrong_type_for_the_descriptor(leaf: dict[str, Any], expected: str) -> None:
    assert expected in one(new_image(a=leaf)).message


@pytest.mark.parametrize(
    "pattern",
    [
        {"eventName": ["insert"]},
        {"eventName": [1]},
        {"eventSource": ["aws:sqs"]},
        {"dynamodb": {"SizeBytes": ["100"]}},
        {"dynamodb": {"ApproximateCreationDateTime": [{"prefix": "17"}]}},
        {"dynamodb": {"SequenceNumber": [{"numeric": [">", 5]}]}},
        {"dynamodb": {"StreamViewType": ["NEW"]}},
    ],
)
def test_record_fields_of_the_wrong_type_or_value(pattern: dict[str, Any]) -> None:
    assert one(pattern)


@pytest.mark.parametrize(
    ("view_type", "image", "warned"),
    [
        ("KEYS_ONLY", "NewImage", True),
        ("KEYS_ONLY", "OldImage", True),
        ("KEYS_ONLY", "Keys", False),
        ("NEW_IMAGE", "OldImage", True),
        ("NEW_IMAGE", "NewImage", False),
        ("OLD_IMAGE", "NewImage", True),
        ("OLD_IMAGE", "OldImage", False),
        ("NEW_AND_OLD_IMAGES", "NewImage", False),
        ("NEW_AND_OLD_IMAGES", "OldImage", False),
    ],
)
def test_images_the_view_type_does_not_carry(view_type: str, image: str, warned: bool) -> None:
    pattern = {"dynamodb": {image: {"a": {"S": ["x"]}}}}
    warnings = lint(pattern, view_type=view_type)
    assert bool(warnings) is warned
    if warned:
        assert view_type in warnings[0].message
    assert lint(pattern) == []


def test_event_names_without_the_image() -> None:
    insert_old = {"eventName": ["INSERT"], "dynamodb": {"OldImage": {"a": {"S": ["x"]}}}}
    remove_new = {"eventName": ["REMOVE"], "dynamodb": {"NewImage": {"a": {"S": ["x"]}}}}
    assert "INSERT" in one(insert_old).message
    assert "REMOVE" in one(remove_new).message
    assert lint(Filter.events("INSERT", "MODIFY").old_image("a", "x")) == []
    assert lint(Filter.remove().new_image("a", exists(False))) == []


@pytest.mark.parametrize(
    ("element", "operator"),
    [
        ({"wildcard": "a*"}, "wildcard"),
        ({"anything-but": {"prefix": "a"}}, "anything-but prefix"),
        ({"anything-but": {"suffix": "a"}}, "anything-but suffix"),
        ({"anything-but": {"equals-ignore-case": "a"}}, "anything-but equals-ignore-case"),
        ({"anything-but": {"wildcard": "a*"}}, "anything-but wildcard"),
    ],
)
def test_operators_documented_for_eventbridge_buses_only(element: Any, operator: str) -> None:
    warning = one({"eventID": [element]})
    assert warning.message.startswith(operator)
    assert "EventBridge" in warning.message


def test_cidr_is_not_documented_for_lambda() -> None:
    assert "cidr" in one({"eventID": [{"cidr": "10.0.0.0/8"}]}).message


def test_fields_overridden_by_a_later_key() -> None:
    pattern = {"eventName": ["INSERT"], "$or": [{"eventName": ["MODIFY"]}, {"awsRegion": ["x"]}]}
    assert one(pattern).path == "eventName"
    assert one('{"dynamodb": {"SizeBytes": [1]}, "dynamodb.SizeBytes": [2]}').path == (
        "dynamodb.SizeBytes"
    )


def test_lint_accepts_filters_criteria_mappings_and_text() -> None:
    pattern = new_image(status=["x"])
    text = '{"dynamodb": {"NewImage": {"status": ["x"]}}}'
    flt = Filter.from_pattern(pattern)
    criteria = FilterCriteria(Filter.insert(), flt)
    assert lint(pattern) == lint(text) == lint(flt) == flt.lint() == lint(FilterCriteria(flt))
    # Among several filters, each finding names its own (the second here).
    assert [(w.path, w.message, w.index) for w in lint(criteria)] == [
        (w.path, w.message, 1) for w in lint(flt)
    ]


def test_lint_refuses_invalid_input() -> None:
    with pytest.raises(FilterValidationError):
        lint({"a": "bare"})
    with pytest.raises(FilterValidationError):
        lint({"a": ["x"]}, view_type="NEW")


def test_warnings_are_values_with_a_readable_text() -> None:
    warning = one(new_image(status=["x"]))
    assert warning == LintWarning(warning.path, warning.message, warning.fix, "error")
    assert warning != LintWarning(warning.path, warning.message, warning.fix)  # a warning
    assert str(warning) == f"{warning.path}: error: {warning.message}\n  fix: {warning.fix}"
    assert pickle.loads(pickle.dumps(warning)) == warning
    with pytest.raises(AttributeError):
        warning.path = "x"


def runnable_fix(warning: LintWarning) -> Filter:
    """The warning's fix, run as the DSL call it is (comments after it dropped)."""
    import streamflow.filters as filters

    assert warning.fix.startswith("Filter."), warning
    code = warning.fix.split("  #")[0]
    namespace = {name: getattr(filters, name) for name in filters.__all__}
    built = eval(code, namespace)
    assert isinstance(built, Filter)
    return built


RECORD_WITH_NESTING: dict[str, Any] = {
    "dynamodb": {
        "NewImage": {
            "meta": {"M": {"client": {"S": "ios"}, "build": {"N": "1042"}}},
            "history": {"L": [{"N": "7"}, {"NULL": True}]},
            "deletedAt": {"S": "2026"},
        }
    }
}


@pytest.mark.parametrize(
    ("pattern", "fix"),
    [
        # inside a map, the fix names the whole way down, as the builders take it
        (
            new_image(meta={"M": {"client": ["ios"]}}),
            "Filter.new_image(('meta', 'client'), 'ios')",
        ),
        (
            new_image(meta={"M": {"build": {"N": [1042]}}}),
            "Filter.new_image(('meta', 'build'), 1042, type='N')",
        ),
        # exists(True) implies no type: the fix names one, as the builders require
        (
            new_image(deletedAt=[{"exists": True}]),
            "Filter.new_image('deletedAt', exists(True), type='S')",
        ),
        # below an L value the builders cannot reach: Filter.where(), N as text, NULL as true
        (
            new_image(history={"L": {"N": [7]}}),
            "Filter.where('dynamodb.NewImage.history.L.N', '7')",
        ),
        (
            new_image(history={"L": {"NULL": [None]}}),
            "Filter.where('dynamodb.NewImage.history.L.NULL', True)",
        ),
    ],
)
def test_fixes_run_and_do_what_the_pattern_meant(pattern: dict[str, Any], fix: str) -> None:
    warning = one(pattern)
    assert warning.fix.split("  #")[0] == fix
    fixed = runnable_fix(warning)
    assert lint(fixed) == []
    assert fixed.matches(RECORD_WITH_NESTING)
    assert not Filter.from_pattern(pattern).matches(RECORD_WITH_NESTING)


def test_a_map_inside_a_map_is_named_in_full() -> None:
    warning = one(new_image(meta={"M": {"client": {"M": {"os": ["ios"]}}}}))
    assert warning.fix == "Filter.new_image(('meta', 'client', 'os'), 'ios')"
    runnable_fix(warning)


def test_a_rule_with_exists_false_where_no_value_can_be_always_matches() -> None:
    # exists:false is satisfied where the record holds an object or nothing, so these rules
    # always match, even though they also list values.
    warning = one(new_image(status=["x", {"exists": False}]))
    assert "always matches" in warning.message
    assert warning.fix == "Filter.new_image('status', 'x', exists(False))"
    assert "always matches" in one({"body": ["x", {"exists": False}]}).message
    # On REMOVE, a NewImage rule that also accepts "absent" is satisfied: nothing to say.
    assert lint(Filter.remove().new_image("a", "x", exists(False))) == []


def test_view_type_messages_read_well() -> None:
    warning = one({"dynamodb": {"NewImage": {"a": {"S": ["x"]}}}}, view_type="OLD_IMAGE")
    assert warning.message.startswith("an OLD_IMAGE stream")


# --- audit: a fix keeps every alternative, says what each wrong one meant, and runs -------------


RECORD_FOR_FIXES: dict[str, Any] = {
    "eventName": "INSERT",
    "eventSource": "aws:dynamodb",
    "dynamodb": {
        "Keys": {"PK": {"S": "A"}},
        "NewImage": {
            "Score": {"N": "31"},
            "flag": {"BOOL": False},
            "ratio": {"N": "1.5"},
            "items": {"L": [{"S": "b"}]},
            "status": {"S": "x"},
        },
        "SizeBytes": 10,
        "StreamViewType": "NEW_IMAGE",
    },
}


@pytest.mark.parametrize(
    ("pattern", "fix"),
    [
        # every alternative kept: "31" was right, 30 meant "30"
        (new_image(Score={"N": [30, "31"]}), "Filter.new_image('Score', 30, '31', type='N')"),
        # the opposite of what was meant, before: 'false' was fixed as True
        (new_image(flag={"BOOL": ["false"]}), "Filter.new_image('flag', False)"),
        (new_image(flag={"BOOL": ["true", False]}), "Filter.new_image('flag', True, False)"),
        # the exists(False) alternative was dropped
        (
            new_image(Score={"N": [{"anything-but": [30]}, {"exists": False}]}),
            "Filter.new_image('Score', anything_but('30'), exists(False), type='N')",
        ),
        (
            new_image(status={"S": [{"anything-but": ["a"]}, 5]}),
            "Filter.new_image('status', anything_but('a'), '5')",
        ),
        # N text as DynamoDB writes it: "1.50" is never in a record, "1.5" is
        (new_image(ratio={"N": ["1.50"]}), "Filter.new_image('ratio', '1.5', type='N')"),
        # runnable calls where a template was given
        ({"eventName": ["insert"]}, "Filter.insert()"),
        ({"dynamodb": {"SizeBytes": ["10"]}}, "Filter.where('dynamodb.SizeBytes', 10)"),
        ({"NewImage": {"status": {"S": ["x"]}}}, "Filter.new_image('status', 'x')"),
        (new_image(items={"L": ["b"]}), "Filter.where('dynamodb.NewImage.items.L.S', 'b')"),
        (
            {"dynamodb": {"StreamViewType": ["new_image"]}},
            "Filter.where('dynamodb.StreamViewType', 'NEW_IMAGE')",
        ),
    ],
)
def test_each_fix_keeps_every_alternative_and_does_what_the_pattern_meant(
    pattern: dict[str, Any], fix: str
) -> None:
    warnings = lint(pattern)
    assert warnings
    assert {w.fix.split("  #")[0] for w in warnings} == {fix}
    fixed = runnable_fix(warnings[0])
    assert lint(fixed) == []
    assert fixed.matches(RECORD_FOR_FIXES)


def test_non_canonical_and_non_number_n_text_is_found() -> None:
    found_messages = [w.message for w in lint(new_image(n={"N": ["1.50", "abc", "7"]}))]
    assert found_messages == [
        "DynamoDB writes this number as '1.5' in stream records: '1.50' never matches",
        "N values are numbers DynamoDB can store: 'abc' never matches",
    ]
    assert lint(Filter.new_image("n", "7", type="N")) == []
