"""When a filter is refused: one rule (lint's errors) wherever a filter enters.

docs/filters.md, "When a filter is refused": a rule that can never match a DynamoDB stream
record is refused by the DSL and by ``refuse_never_matching``; ``from_pattern`` accepts what
AWS accepts; warnings are never refused.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamflow.errors import FilterValidationError
from streamflow.filters import (
    Filter,
    FilterCriteria,
    any_of,
    anything_but,
    exists,
    lint,
    numeric,
    prefix,
    refuse_never_matching,
    wildcard,
)


def image(name: str, value: Any, which: str = "NewImage") -> dict[str, Any]:
    return {"dynamodb": {which: {name: value}}}


# (pattern, path of the error): rules no DynamoDB stream record can satisfy.
NEVER = [
    (image("Score", {"N": [{"numeric": [">", 10]}]}), "dynamodb.NewImage.Score.N"),
    (image("Score", {"N": [30]}), "dynamodb.NewImage.Score.N"),
    (image("ratio", {"N": ["1.50"]}), "dynamodb.NewImage.ratio.N"),
    (image("ratio", {"NS": ["abc"]}), "dynamodb.NewImage.ratio.NS"),
    (image("status", ["ACTIVE"]), "dynamodb.NewImage.status"),
    (image("status", {"s": ["ACTIVE"]}), "dynamodb.NewImage.status.s"),
    (image("flag", {"BOOL": ["true"]}), "dynamodb.NewImage.flag.BOOL"),
    (image("gone", {"NULL": [False]}), "dynamodb.NewImage.gone.NULL"),
    (image("meta", {"M": ["x"]}), "dynamodb.NewImage.meta.M"),
    (image("PK", {"BOOL": [True]}, "Keys"), "dynamodb.Keys.PK.BOOL"),
    ({"dynamodb": {"NewImage": ["x"]}}, "dynamodb.NewImage"),
    ({"dynamodb": {"SizeBytes": ["100"]}}, "dynamodb.SizeBytes"),
    ({"dynamodb": {"StreamViewType": ["NEW"]}}, "dynamodb.StreamViewType"),
    ({"eventName": ["insert"]}, "eventName"),
    ({"eventSource": ["aws:kinesis"]}, "eventSource"),
    ({"awsRegion": [5]}, "awsRegion"),
    ({"NewImage": {"status": {"S": ["A"]}}}, "NewImage.status.S"),
    (
        {"eventName": ["INSERT"], "dynamodb": {"OldImage": {"a": {"S": ["x"]}}}},
        "dynamodb.OldImage.a.S",
    ),
    (
        {"eventName": ["REMOVE"], "dynamodb": {"NewImage": {"a": {"S": ["x"]}}}},
        "dynamodb.NewImage.a.S",
    ),
]

# Suspicious, or right on another source, or always matching: warned, never refused.
SUSPICIOUS = [
    {"tableName": ["scores"]},  # a Kinesis change carries it
    {"data": {"eventName": ["INSERT"]}, "kinesis": {"partitionKey": ["x"]}},  # not only data
    {"body": {"x": ["y"]}},
    {"dynamodb": {"ApproximateCreationDateTimePrecision": ["MICROSECOND"]}},
    {"userIdentity": {"invokedBy": ["x"]}},
    image("status", {"S": [{"wildcard": "A*"}]}),
    image("ip", {"S": [{"cidr": "10.0.0.0/24"}]}),
    image("gone", [{"exists": False}]),  # always matches
    image("Score", {"N": [{"anything-but": [30]}]}),  # always matches
    {"dynamodb": {"NewImage": [{"exists": False}]}},  # always matches
]


@pytest.mark.parametrize(("pattern", "path"), NEVER, ids=[p for _, p in NEVER])
def test_a_rule_that_can_never_match_is_a_lint_error(pattern: dict[str, Any], path: str) -> None:
    errors = [w for w in lint(pattern) if w.severity == "error"]
    assert [w.path for w in errors][:1] == [path]
    assert all("never" in w.message for w in errors)


@pytest.mark.parametrize("pattern", SUSPICIOUS, ids=[str(p) for p in SUSPICIOUS])
def test_suspicious_rules_are_warnings_never_refused(pattern: dict[str, Any]) -> None:
    warnings = lint(pattern)
    assert warnings
    assert {w.severity for w in warnings} == {"warning"}
    flt = Filter.from_pattern(pattern)
    assert refuse_never_matching(flt) is flt
    assert (Filter.where("eventID", exists()) & flt).pattern["eventID"] == [{"exists": True}]


def test_the_issues_example_is_refused_by_the_dsl() -> None:
    with pytest.raises(FilterValidationError) as error:
        Filter.where("dynamodb.NewImage.Score.N", numeric(">", 10))
    assert error.value.path == "dynamodb.NewImage.Score.N"
    assert "can never match" in error.value.reason
    assert "N values are text" in error.value.reason
    assert "fix: no pattern can compare N values numerically" in error.value.reason
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Filter.where("dynamodb.NewImage.status", "ACTIVE"),
        lambda: Filter.where("eventName", "insert"),
        lambda: Filter.where(("dynamodb", "Keys", "PK", "N"), 5),
        lambda: Filter.insert().old_image("status", "A"),
        lambda: Filter.old_image("status", "A").insert(),
        lambda: Filter.remove().new_image("status", "A"),
        lambda: Filter.from_pattern(image("Score", {"N": [30]})) & Filter.insert(),
        lambda: Filter.insert() & Filter.from_pattern({"awsRegion": [1]}),
        lambda: Filter.insert().any_of(Filter.new_image("a", "x"), Filter.old_image("b", "y")),
        lambda: any_of(Filter.from_pattern({"eventName": ["insert"]}), Filter.modify()),
    ],
    ids=[
        "where-no-descriptor",
        "where-event-case",
        "where-number-on-N",
        "insert-old-image",
        "old-image-then-insert",
        "remove-new-image",
        "and-with-from-pattern",
        "and-string-field-number",
        "any_of-old-image-of-insert",
        "any_of-from-pattern",
    ],
)
def test_every_builder_refuses_what_can_never_match(build: Any) -> None:
    with pytest.raises(FilterValidationError, match="can never match"):
        build()


def test_the_dsl_accepts_what_only_lint_warns_about() -> None:
    built = [
        Filter.where("tableName", "scores"),
        Filter.where("data.eventName", "INSERT"),
        Filter.new_image("status", wildcard("A*")),
        Filter.where("dynamodb.NewImage.gone", exists(False)),
        Filter.where("dynamodb.NewImage.Score.N", anything_but("30")),
        Filter.where("dynamodb.SizeBytes", numeric(">", 10)),
        Filter.events("INSERT", "MODIFY").old_image("a", "x"),
        Filter.remove().new_image("a", exists(False)),
        Filter.insert().key("PK", prefix("SCORE#")).new_image("Score", 30),
    ]
    for flt in built:
        assert all(w.severity == "warning" for w in flt.lint()), flt


@pytest.mark.parametrize(("pattern", "path"), NEVER, ids=[p for _, p in NEVER])
def test_from_pattern_accepts_it_and_refuse_never_matching_refuses_it(
    pattern: dict[str, Any], path: str
) -> None:
    flt = Filter.from_pattern(pattern)  # AWS accepts it: so does from_pattern
    with pytest.raises(FilterValidationError) as error:
        refuse_never_matching(flt)
    assert error.value.path == path
    assert error.value.reason.startswith("a rule of this filter can never match: ")
    assert "(fix: " in error.value.reason


def test_refuse_never_matching_names_the_filter_of_a_criteria() -> None:
    bad = Filter.from_pattern(image("amount", {"N": [{"numeric": [">", 5]}]}))
    criteria = FilterCriteria(Filter.insert(), bad)
    with pytest.raises(FilterValidationError) as error:
        refuse_never_matching(criteria)
    assert error.value.path == "Filters[1].Pattern.dynamodb.NewImage.amount.N"
    assert bad.to_json() in error.value.reason
    assert refuse_never_matching(FilterCriteria(Filter.insert())) == FilterCriteria(Filter.insert())
    assert refuse_never_matching(FilterCriteria()) == FilterCriteria()


def test_refuse_never_matching_shortens_a_long_pattern() -> None:
    values = [f"v{i:04d}" for i in range(300)]
    bad = Filter.from_pattern({"eventName": ["insert"], "awsRegion": values})
    with pytest.raises(FilterValidationError) as error:
        refuse_never_matching(FilterCriteria(Filter.modify(), bad))
    assert len(error.value.reason) < 600
    assert "..." in error.value.reason


def test_refuse_never_matching_with_the_view_type() -> None:
    flt = Filter.new_image("status", "A")
    assert refuse_never_matching(flt, view_type="NEW_IMAGE") is flt
    with pytest.raises(FilterValidationError, match="KEYS_ONLY stream delivers no NewImage"):
        refuse_never_matching(flt, view_type="KEYS_ONLY")
    with pytest.raises(FilterValidationError) as error:
        refuse_never_matching(flt, view_type="KEYS")
    assert error.value.path == "view_type"


def test_refuse_never_matching_takes_filters_only() -> None:
    with pytest.raises(TypeError, match="Filter or FilterCriteria"):
        refuse_never_matching({"eventName": ["INSERT"]})  # type: ignore[type-var]


def test_several_filters_findings_name_their_filter() -> None:
    criteria = FilterCriteria(
        Filter.insert(),
        Filter.from_pattern(image("Score", {"N": [30]})),
        Filter.from_pattern(image("Score", {"N": [30]}, "OldImage")),
    )
    found = lint(criteria)
    assert [(w.index, w.path) for w in found] == [
        (1, "dynamodb.NewImage.Score.N"),
        (2, "dynamodb.OldImage.Score.N"),
    ]
    assert str(found[0]).startswith("[filter 2] dynamodb.NewImage.Score.N: error: ")
    same = FilterCriteria(*[Filter.from_pattern(image("Score", {"N": [30]}))] * 2)
    assert [w.index for w in lint(same)] == [0, 1]  # the same finding in each filter
    assert lint(Filter.from_pattern(image("Score", {"N": [30]})))[0].index is None


# A DynamoDB-shaped pattern of one field: a known path (or not) and rules of every kind.
PATHS = [
    "eventName",
    "eventSource",
    "awsRegion",
    "tableName",
    "userIdentity.type",
    "dynamodb.SizeBytes",
    "dynamodb.StreamViewType",
    "dynamodb.NewImage.a",
    "dynamodb.NewImage.a.S",
    "dynamodb.NewImage.a.N",
    "dynamodb.OldImage.a.BOOL",
    "dynamodb.Keys.PK.NULL",
    "dynamodb.NewImage.m.M.b.S",
    "NewImage.a.S",
]
RULES = st.one_of(
    st.sampled_from(["INSERT", "insert", "1.5", "1.50", "true", "", "aws:dynamodb"]),
    st.integers(-3, 3),
    st.booleans(),
    st.none(),
    st.sampled_from(
        [
            {"numeric": [">", 1]},
            {"exists": True},
            {"exists": False},
            {"prefix": "a"},
            {"anything-but": [1, 2]},
            {"anything-but": "x"},
        ]
    ),
)


@given(
    path=st.sampled_from(PATHS),
    rules=st.lists(RULES, min_size=1, max_size=3),
    event=st.sampled_from([None, "INSERT", "REMOVE"]),
)
def test_the_dsl_refuses_exactly_what_lint_calls_an_error(
    path: str, rules: list[Any], event: str | None
) -> None:
    pattern: dict[str, Any] = {}
    node = pattern
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = rules
    if event is not None and path != "eventName":
        pattern["eventName"] = [event]
    flt = Filter.from_pattern(pattern)  # AWS accepts every one of them
    errors = [w for w in lint(flt) if w.severity == "error"]
    built: Filter | None
    try:
        built = Filter.from_pattern({"eventID": [{"exists": True}]}) & flt
    except FilterValidationError:
        built = None
    assert (built is None) == bool(errors)
    if errors:
        with pytest.raises(FilterValidationError) as error:
            refuse_never_matching(flt)
        assert error.value.path == errors[0].path
    else:
        assert refuse_never_matching(flt) is flt


def test_building_and_refusing_load_no_costly_module() -> None:
    """Lint runs on every filter the DSL builds: it must stay off the costly modules that a
    Lambda cold start avoids (tests/test_package.py), refusals included."""
    code = (
        "import sys\n"
        "from streamflow.filters import Filter, numeric, prefix\n"
        "Filter.insert().key('PK', prefix('A')).new_image('n', 5).where('tableName', 1)\n"
        "Filter.where('dynamodb.SizeBytes', numeric('>', 1))\n"
        "for bad in ({'dynamodb.NewImage.n.N': 1}, {'eventName': 'insert'}):\n"
        "    try:\n"
        "        Filter.where(*bad.popitem())\n"
        "    except ValueError:\n"
        "        pass\n"
        "    else:\n"
        "        raise SystemExit('not refused')\n"
        "costly = {'typing', 'json', 're', 'inspect', 'dataclasses'}\n"
        "print(','.join(sorted(costly & set(sys.modules))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
