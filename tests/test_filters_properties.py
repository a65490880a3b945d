"""Properties: the matcher never raises, agrees with a tiny reference, and patterns round-trip.

The reference evaluator below is written to be obviously right rather than fast: it flattens
the whole record into ``(path, leaf, array trail)`` fields, then tries every combination of
fields, in sorted path order, the way AWS's engine defines a match. The real matcher reads
only the paths it needs, through generated code and a general fallback; any disagreement is a
compile bug.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from streamflow.errors import FilterValidationError
from streamflow.filters import (
    Filter,
    FilterCriteria,
    anything_but,
    equals_ignore_case,
    exists,
    lint,
    numeric,
    prefix,
    suffix,
    wildcard,
)
from streamflow.filters._json import compact_json

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- JSON values ----------------------------------------------------------------------------------

TEXTS = ["", "x", "y", "xy", "X", "yx", "xyz"]
NUMBERS = [0, 1, -2, 1.5, 10, 1.0]
KEYS = ["a", "b", "c", "a.b", "b.c"]
SEGMENTS = ["a", "b", "c"]

leaves = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(NUMBERS),
    st.booleans(),
    st.none(),
)
records = st.dictionaries(
    st.sampled_from(KEYS),
    st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
        ),
        max_leaves=10,
    ),
    max_size=4,
)
any_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=5), inner, max_size=4),
    ),
    max_leaves=25,
)

# --- patterns over the operators the reference knows ---------------------------------------------

texts = st.sampled_from(TEXTS)
numbers = st.sampled_from(NUMBERS)
alternatives = st.one_of(
    texts,
    numbers,
    st.booleans(),
    st.none(),
    texts.map(lambda t: {"prefix": t}),
    texts.map(lambda t: {"suffix": t}),
    texts.map(lambda t: {"equals-ignore-case": t}),
    st.sampled_from(["x*", "*y", "*", "x*z", ""]).map(lambda t: {"wildcard": t}),
    st.lists(texts, min_size=1, max_size=2).map(lambda t: {"anything-but": t}),
    st.lists(numbers, min_size=1, max_size=2).map(lambda t: {"anything-but": t}),
    texts.map(lambda t: {"anything-but": t}),
    st.sampled_from([["<", 1], [">=", 0], ["=", 1], [">", -3, "<=", 1.5]]).map(
        lambda n: {"numeric": n}
    ),
    st.booleans().map(lambda b: {"exists": b}),
)
paths = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3).map(".".join)
flat_fields = st.dictionaries(paths, st.lists(alternatives, min_size=1, max_size=3), max_size=3)


@st.composite
def patterns(draw: st.DrawFn) -> dict[str, Any]:
    base = draw(flat_fields)
    if draw(st.booleans()):
        taken = set(base)
        options = flat_fields.map(lambda f: {p: v for p, v in f.items() if p not in taken})
        first, second = draw(options), draw(options)
        if first and second:
            base["$or"] = [first, second]
    assume(base)
    return base


# --- the reference evaluator ---------------------------------------------------------------------


def flatten(record: Any) -> list[tuple[str, Any, tuple[tuple[int, int], ...]]]:
    fields: list[tuple[str, Any, tuple[tuple[int, int], ...]]] = []

    def walk(node: Any, path: str | None, trail: tuple[tuple[int, int], ...]) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, key if path is None else f"{path}.{key}", trail)
        elif isinstance(node, list):
            for index, element in enumerate(node):
                walk(element, path, (*trail, (id(node), index)))
        elif path is not None:
            fields.append((path, node, trail))

    walk(record, None, ())
    return fields


def reference_leaf(alternative: Any, value: Any) -> bool:
    is_number = type(value) in (int, float)
    if alternative is None or isinstance(alternative, bool):
        return value is alternative
    if isinstance(alternative, str):
        return type(value) is str and value == alternative
    if isinstance(alternative, (int, float)):
        return is_number and value == alternative
    ((name, operand),) = alternative.items()
    if name == "exists":
        return operand is True
    if name == "numeric":
        if not is_number:
            return False
        checks = {
            "=": value == operand[1] if len(operand) == 2 else None,
            "<": value < operand[1],
            "<=": value <= operand[1],
            ">": value > operand[1],
            ">=": value >= operand[1],
        }
        ok = checks[operand[0]]
        if len(operand) == 4:
            ok = ok and (value < operand[3] if operand[2] == "<" else value <= operand[3])
        return bool(ok)
    if name == "anything-but":
        excluded = operand if isinstance(operand, list) else [operand]
        if isinstance(excluded[0], str):
            return not (type(value) is str and value in excluded)
        return not (is_number and value in excluded)
    if type(value) is not str:
        return False
    if name == "prefix":
        return value.startswith(operand)
    if name == "suffix":
        return value.endswith(operand)
    if name == "equals-ignore-case":
        lowered: str = operand.lower()
        return value.lower() == lowered  # the generated texts are ASCII
    regex = ".*".join(re.escape(piece) for piece in operand.split("*"))
    return re.fullmatch(regex, value, re.DOTALL) is not None


def reference_branch(fields: dict[str, list[Any]], record: Any) -> bool:
    flat = flatten(record)
    order = sorted(fields)

    def consistent(trail: tuple[tuple[int, int], ...], chosen: dict[int, int]) -> bool:
        return all(chosen.get(array, index) == index for array, index in trail)

    def search(position: int, chosen: dict[int, int]) -> bool:
        if position == len(order):
            return True
        path = order[position]
        values = [a for a in fields[path] if a != {"exists": False}]
        at_path = [(leaf, trail) for p, leaf, trail in flat if p == path]
        for leaf, trail in at_path:
            matched = any(reference_leaf(a, leaf) for a in values)
            if (
                matched
                and consistent(trail, chosen)
                and search(position + 1, {**chosen, **dict(trail)})
            ):
                return True
        absent_ok = {"exists": False} in fields[path]
        blocked = any(consistent(trail, chosen) for _, trail in at_path)
        return absent_ok and not blocked and search(position + 1, chosen)

    return search(0, {})


def reference(pattern: dict[str, Any], record: Any) -> bool:
    base = {path: alts for path, alts in pattern.items() if path != "$or"}
    if "$or" not in pattern:
        return reference_branch(base, record)
    return any(reference_branch({**base, **alt}, record) for alt in pattern["$or"])


def nested(pattern: dict[str, Any]) -> dict[str, Any]:
    """The same pattern written with nested objects instead of dotted keys, where possible."""
    out: dict[str, Any] = {}
    for path, value in pattern.items():
        if path == "$or":
            out[path] = [nested(alt) for alt in value]
            continue
        *parents, last = path.split(".")
        node = out
        for parent in parents:
            child = node.setdefault(parent, {})
            if not isinstance(child, dict):
                return pattern
            node = child
        if last in node:
            return pattern
        node[last] = value
    return out


# --- properties -------------------------------------------------------------------------------


@THOROUGH
@given(pattern=patterns(), record=records)
def test_the_matcher_agrees_with_the_reference(pattern: dict[str, Any], record: Any) -> None:
    flt = Filter.from_pattern(pattern)
    expected = reference(pattern, record)
    assert flt.matches(record) is expected
    assert flt._compiled.generic(record) is expected
    assert FilterCriteria(Filter.from_pattern({"zz": ["never"]}), flt).matches(record) is expected
    assert bool(flt.explain(record)) is not expected


@st.composite
def aimed(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A record and a pattern built from the paths and leaves it holds, so matches are common."""
    record = draw(records)
    present = flatten(record)
    assume(present)
    fields: dict[str, list[Any]] = {}
    for path, leaf, _ in draw(st.lists(st.sampled_from(present), min_size=1, max_size=3)):
        if isinstance(leaf, str):
            near = st.sampled_from([leaf, {"prefix": leaf[:1]}, {"anything-but": [leaf]}])
        elif leaf is None or isinstance(leaf, bool):
            near = st.sampled_from([leaf, {"exists": True}])
        else:
            near = st.sampled_from([leaf, {"numeric": ["<=", leaf]}, {"anything-but": leaf}])
        fields[path] = draw(st.lists(st.one_of(near, alternatives), min_size=1, max_size=2))
    return fields, record


@THOROUGH
@given(case=aimed())
def test_the_matcher_agrees_with_the_reference_on_aimed_patterns(
    case: tuple[dict[str, Any], Any],
) -> None:
    pattern, record = case
    _agrees_with_the_reference(pattern, record)


def _agrees_with_the_reference(pattern: dict[str, Any], record: Any) -> bool:
    """Both matching paths give the reference's verdict, which is returned."""
    flt = Filter.from_pattern(pattern)
    expected = reference(pattern, record)
    assert flt.matches(record) is expected
    assert flt._compiled.generic(record) is expected
    return expected


# Records where fields reach their leaves by several routes (keys with dots) and through
# arrays of objects (array consistency), against patterns with several fields: the general
# matcher's hardest search, where a field's choice of route constrains the others.
TANGLED_KEYS = [*KEYS, "a.b.c", "c.a"]
tangled = st.dictionaries(
    st.sampled_from(TANGLED_KEYS),
    st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3),
            st.dictionaries(st.sampled_from(TANGLED_KEYS), inner, min_size=1, max_size=3),
        ),
        max_leaves=14,
    ),
    min_size=1,
    max_size=4,
)


@st.composite
def crowded(draw: st.DrawFn) -> tuple[dict[str, Any], Any]:
    """A tangled record and 2 to 6 fields aimed at its leaves, some of them exists: false."""
    record = draw(tangled)
    present = flatten(record)
    assume(present)
    fields: dict[str, list[Any]] = {}
    for path, leaf, _ in draw(st.lists(st.sampled_from(present), min_size=2, max_size=6)):
        near = st.sampled_from([leaf, {"exists": True}, {"exists": False}])
        fields[path] = draw(st.lists(st.one_of(near, near, alternatives), min_size=1, max_size=2))
    if draw(st.booleans()):
        fields.update(draw(flat_fields))  # and some that may miss
    return fields, record


def solver_verdict(pattern: dict[str, Any], record: Any) -> bool:
    """The route search of ``_walk.solve`` on the whole record, whatever its shape."""
    from itertools import product

    from streamflow.filters._compile import CompiledField, expand, sort_key
    from streamflow.filters._walk import Absent, Wanted, solve

    for branch in expand(pattern):
        fields = sorted(
            (CompiledField(path, alts) for path, alts in branch.items()),
            key=lambda f: sort_key(f.path),
        )
        mixed = [f for f in fields if f.test is not None and f.absent_ok]
        for choice in product((True, False), repeat=len(mixed)):
            as_value = {id(f): value for f, value in zip(mixed, choice, strict=True)}
            wanted: list[Wanted] = []
            absent: list[Absent] = []
            for rank, field in enumerate(fields):
                if field.test is not None and as_value.get(id(field), True):
                    wanted.append((rank, field.path, field.test))
                else:
                    absent.append((rank, field.path))
            if solve(record, wanted, absent):
                return True
    return False


@THOROUGH
@given(case=crowded())
def test_several_routes_and_arrays_agree_with_the_reference(
    case: tuple[dict[str, Any], Any],
) -> None:
    pattern, record = case
    expected = _agrees_with_the_reference(pattern, record)
    assert solver_verdict(pattern, record) is expected


@THOROUGH
@given(pattern=patterns(), record=records)
def test_the_route_search_agrees_with_the_reference_on_any_record(
    pattern: dict[str, Any], record: Any
) -> None:
    # The matcher only searches where dotted keys offer several routes; run the search on
    # every record, so each of its answers is checked, arrays and exists: false included.
    assert solver_verdict(pattern, record) is reference(pattern, record)


@FAST
@given(cases=st.lists(aimed(), min_size=1, max_size=4))
def test_criteria_agree_with_the_reference(cases: list[tuple[dict[str, Any], Any]]) -> None:
    record = cases[0][1]
    criteria = FilterCriteria(*(Filter.from_pattern(pattern) for pattern, _ in cases))
    assert criteria.matches(record) is any(reference(pattern, record) for pattern, _ in cases)


@FAST
@given(pattern=patterns(), record=records)
def test_nesting_or_dotting_the_pattern_does_not_change_the_verdict(
    pattern: dict[str, Any], record: Any
) -> None:
    assert Filter.from_pattern(nested(pattern)).matches(record) is reference(pattern, record)


@FAST
@given(pattern=patterns(), record=any_json)
def test_the_matcher_never_raises_on_any_json(pattern: dict[str, Any], record: Any) -> None:
    flt = Filter.from_pattern(pattern)
    assert flt.matches(record) is flt._compiled.generic(record)
    flt.explain(record)


@FAST
@given(
    pattern=patterns(),
    depth=st.integers(min_value=1, max_value=2500),
    shape=st.lists(st.sampled_from(["dict", "list", "dotted"]), min_size=1, max_size=3),
    leaf=leaves,
)
def test_deep_records_never_raise(
    pattern: dict[str, Any], depth: int, shape: list[str], leaf: Any
) -> None:
    record: Any = leaf
    for level in range(depth):
        kind = shape[level % len(shape)]
        record = (
            {"a": record} if kind == "dict" else [record] if kind == "list" else {"a.b": record}
        )
    flt = Filter.from_pattern(pattern)
    assert flt.matches({"a": record}) is flt._compiled.generic({"a": record})


@settings(max_examples=20, deadline=None)
@given(pattern=patterns(), size=st.integers(min_value=1000, max_value=20_000), leaf=leaves)
def test_big_arrays_never_raise(pattern: dict[str, Any], size: int, leaf: Any) -> None:
    record = {"a": [{"b": leaf, "c": [leaf]} for _ in range(size)], "b": [leaf] * size}
    flt = Filter.from_pattern(pattern)
    assert flt.matches(record) is flt._compiled.generic(record)


@FAST
@given(pattern=any_json)
def test_validation_raises_only_filter_validation_error(pattern: Any) -> None:
    try:
        flt = Filter.from_pattern(pattern)
    except FilterValidationError:
        return
    flt.matches({})
    lint(flt)


@FAST
@given(text=st.text(max_size=60))
def test_validation_of_any_text_raises_only_filter_validation_error(text: str) -> None:
    try:
        flt = Filter.from_pattern(text)
    except FilterValidationError:
        return
    assert isinstance(json.loads(text), dict)
    assert flt.matches({}) in (True, False)


@FAST
@given(pattern=patterns())
def test_patterns_round_trip_and_lint_never_raises(pattern: dict[str, Any]) -> None:
    flt = Filter.from_pattern(pattern)
    assert Filter.from_pattern(flt.pattern) == flt
    assert Filter.from_pattern(flt.to_json()) == flt
    assert json.loads(flt.to_json()) == pattern
    for warning in lint(flt, view_type="KEYS_ONLY"):
        assert warning.path
        assert warning.message
        assert warning.fix


value_rules = st.one_of(
    st.text(max_size=5),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=5).map(prefix),
    st.text(max_size=5).map(suffix),
    st.text(max_size=5).map(equals_ignore_case),
    st.sampled_from(["a*", "*b", "a\\*"]).map(wildcard),
    st.lists(st.text(max_size=3), min_size=1, max_size=3).map(lambda v: anything_but(*v)),
)
attribute_rules = st.one_of(
    st.tuples(st.text(max_size=5)),
    st.tuples(st.integers(min_value=-(10**9), max_value=10**9)),
    st.tuples(st.booleans()),
    st.tuples(st.none()),
    st.tuples(st.binary(max_size=6)),
    st.tuples(st.text(min_size=1, max_size=5).map(prefix), st.text(max_size=5)),
    st.just((exists(False),)),
)


@st.composite
def dsl_filters(draw: st.DrawFn) -> Filter:
    flt = draw(st.sampled_from([Filter.insert, Filter.modify, Filter.remove]))()
    names = draw(
        st.lists(
            st.text(min_size=1, max_size=6).filter(lambda n: n != "$or"), max_size=3, unique=True
        )
    )
    # An image the event name leaves out (OldImage on INSERT) never matches: refused.
    images = {"INSERT": ["new_image"], "REMOVE": ["old_image"]}.get(
        flt.pattern["eventName"][0], ["new_image", "old_image"]
    )
    for name in names:
        method = draw(st.sampled_from(images))
        flt = getattr(flt, method)(name, *draw(attribute_rules))
    if draw(st.booleans()):
        flt = flt.key("PK", draw(st.text(max_size=6)))
    if draw(st.booleans()):
        flt = flt.where("dynamodb.SizeBytes", numeric(">", draw(st.integers(0, 1000))))
    if draw(st.booleans()):
        # A field of any type (a Kinesis change's tableName): awsRegion, a string, would
        # refuse the numbers, booleans and null, which never match it.
        flt = flt.where("tableName", *draw(st.lists(value_rules, min_size=1, max_size=3)))
    if draw(st.booleans()):
        flt = flt.exclude_ttl_deletes()
    return flt


@FAST
@given(flt=dsl_filters())
def test_dsl_filters_round_trip(flt: Filter) -> None:
    assert Filter.from_pattern(flt.pattern) == flt
    assert Filter.from_pattern(flt.to_json()) == flt
    assert hash(Filter.from_pattern(flt.pattern)) == hash(flt)


@FAST
@given(value=any_json)
def test_compact_json_is_json_dumps(value: Any) -> None:
    try:
        expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN and infinities are not JSON; the validator refuses them first
        return
    assert compact_json(value) == expected
    if isinstance(value, dict):
        assert compact_json(value, sort_keys=True) == json.dumps(
            value, separators=(",", ":"), ensure_ascii=False, sort_keys=True
        )


def test_the_reference_is_not_trivial() -> None:
    # Guard against a reference that agrees with anything: it must say both yes and no.
    record = {"a": [{"b": "x", "c": 1}, {"b": "y"}]}
    assert reference({"a.b": ["x"], "a.c": [1]}, record)
    assert not reference({"a.b": ["y"], "a.c": [1]}, record)
    assert reference({"a.b": ["y"], "a.c": [{"exists": False}]}, record)
    assert not reference({"a.b": ["x"], "a.c": [{"exists": False}]}, record)
    assert sys.getrecursionlimit() >= 1000


lambda_rules = st.one_of(
    st.tuples(st.text(max_size=5)),
    st.tuples(st.text(max_size=5), st.text(min_size=1, max_size=5).map(prefix)),
    st.tuples(st.integers(min_value=-(10**9), max_value=10**9)),
    st.tuples(st.decimals(allow_nan=False, allow_infinity=False, places=3)),
    st.tuples(st.booleans()),
    st.tuples(st.none()),
    st.tuples(st.binary(max_size=6)),
    st.tuples(
        st.lists(st.text(max_size=3), min_size=1, max_size=2).map(lambda v: anything_but(*v))
    ),
    st.tuples(st.lists(st.integers(0, 9), min_size=1, max_size=2).map(lambda v: anything_but(*v))),
    st.tuples(st.text(max_size=3).map(equals_ignore_case), st.just(exists(False))),
    st.just((exists(False),)),
)


@FAST
@given(
    names=st.lists(st.text(min_size=1, max_size=6).filter(lambda n: n != "$or"), max_size=3),
    rules=st.lists(lambda_rules, min_size=3, max_size=3),
    images=st.lists(st.sampled_from(["new_image", "old_image"]), min_size=3, max_size=3),
)
def test_the_dynamodb_builders_never_emit_a_trap(
    names: list[str], rules: list[tuple[Any, ...]], images: list[str]
) -> None:
    flt = Filter.modify().exclude_ttl_deletes()
    for name, rule, image in zip(names, rules[: len(names)], images[: len(names)], strict=True):
        try:
            flt = getattr(flt, image)(name, *rule)
        except FilterValidationError:
            continue  # the same attribute twice
    assert lint(flt, view_type="NEW_AND_OLD_IMAGES") == []
