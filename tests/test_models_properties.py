"""Property tests for streamflow.models: KeyTemplate round trips, from_item on generated models."""

from __future__ import annotations

import dataclasses
import enum
import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Literal, Optional

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from streamflow.errors import KeyTemplateError, ModelError
from streamflow.models import KeyTemplate, from_item

# --- KeyTemplate ------------------------------------------------------------------------------

# A small alphabet makes separators, braces and overlaps ("##") common in generated text.
ALPHABET = "#:ab{}"
names = st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,4}", fullmatch=True), max_size=4, unique=True)
texts = st.text(alphabet=ALPHABET, max_size=4)


def escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


@st.composite
def templates(draw: st.DrawFn) -> tuple[KeyTemplate, list[str]]:
    """A template and its literal texts; literals between placeholders are non-empty."""
    fields = draw(names)
    literals = [draw(texts)]
    for index in range(len(fields)):
        inner = index < len(fields) - 1
        literals.append(draw(st.text(alphabet=ALPHABET, min_size=1 if inner else 0, max_size=4)))
    assume(fields or literals[0])
    text = escape(literals[0]) + "".join(
        f"{{{name}}}{escape(literal)}" for name, literal in zip(fields, literals[1:], strict=True)
    )
    return KeyTemplate(text), literals


def fits(value: str, follower: str) -> bool:
    """The documented rule for a non-last value: the follower's first match is its own."""
    return (value + follower).find(follower) == len(value)


@given(templates(), st.data())
def test_parse_inverts_format(template_and_literals: Any, data: st.DataObject) -> None:
    template, literals = template_and_literals
    values = {}
    for index, name in enumerate(template.fields):
        value = data.draw(st.text(alphabet=ALPHABET + "x", min_size=1, max_size=6))
        if index < len(template.fields) - 1:
            assume(fits(value, literals[index + 1]))
        values[name] = value
    key = template.format(**values)
    assert key.startswith(template.prefix)
    assert template.matches(key)
    assert template.parse(key) == values


@given(templates(), st.data())
def test_format_refuses_exactly_the_values_it_could_not_parse_back(
    template_and_literals: Any, data: st.DataObject
) -> None:
    template, literals = template_and_literals
    values = {
        name: data.draw(st.text(alphabet=ALPHABET, min_size=1, max_size=6))
        for name in template.fields
    }
    last = len(template.fields) - 1
    ok = all(
        fits(values[name], literals[index + 1])
        for index, name in enumerate(template.fields)
        if index < last
    )
    if ok:
        assert template.parse(template.format(**values)) == values
    else:
        with pytest.raises(KeyTemplateError, match="could not be parsed back"):
            template.format(**values)


@given(templates(), st.text(alphabet=ALPHABET, max_size=12))
def test_any_key_that_parses_formats_back(template_and_literals: Any, key: str) -> None:
    template, _ = template_and_literals
    if template.matches(key):
        values = template.parse(key)
        assert list(values) == list(template.fields)
        assert all(values.values())
        assert template.format(**values) == key
        assert key.startswith(template.prefix)  # what a prefix filter relies on
    else:
        with pytest.raises(KeyTemplateError):
            template.parse(key)


@given(templates())
def test_template_value_semantics(template_and_literals: Any) -> None:
    template, _ = template_and_literals
    again = KeyTemplate(template.template)
    assert again == template
    assert hash(again) == hash(template)
    assert eval(repr(template)) == template


# --- from_item on generated models -------------------------------------------------------------


class Shade(enum.Enum):
    DARK = "dark"
    LIGHT = "light"


@dataclasses.dataclass(frozen=True)
class Kind:
    """One field kind: its annotation, decoded values, the expected result, a wrong value."""

    annotation: Any
    values: st.SearchStrategy[Any]
    expected: Callable[[Any], Any]
    wrong: st.SearchStrategy[Any]


def same(value: Any) -> Any:
    return value


finite_decimals = st.decimals(allow_nan=False, allow_infinity=False, places=3)
KINDS = [
    Kind(str, st.text(max_size=5), same, st.integers() | st.binary()),
    Kind(int, st.integers() | st.integers().map(Decimal), int, st.booleans() | st.text()),
    Kind(
        float,
        st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53),
        float,
        st.text() | st.booleans(),
    ),
    Kind(Decimal, finite_decimals | st.integers(), Decimal, st.booleans() | st.text()),
    Kind(bool, st.booleans(), same, st.integers() | st.text()),
    Kind(bytes, st.binary(max_size=4), same, st.text()),
    Kind(Optional[str], st.none() | st.text(max_size=3), same, st.integers()),  # noqa: UP045
    Kind(list[int], st.lists(st.integers(), max_size=3), same, st.text() | st.sets(st.integers())),
    Kind(set[str], st.sets(st.text(max_size=3), max_size=3), same, st.integers()),
    Kind(set[str], st.lists(st.text(max_size=3), max_size=3), set, st.text()),
    Kind(
        dict[str, int],
        st.dictionaries(st.text(max_size=3), st.integers()),
        same,
        st.lists(st.integers()),
    ),
    Kind(Literal["a", "b"], st.sampled_from(["a", "b"]), same, st.sampled_from(["c", "A", 1])),
    Kind(Shade, st.sampled_from(["dark", "light"]), Shade, st.sampled_from(["DARK", 1, None])),
]
counter = itertools.count()


@st.composite
def models(draw: st.DrawFn) -> tuple[type[Any], list[tuple[str, Kind]]]:
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=1, max_size=8))
    fields = [(f"f{index}", kind) for index, kind in enumerate(kinds)]
    model = dataclasses.make_dataclass(
        f"Generated{next(counter)}", [(name, kind.annotation) for name, kind in fields]
    )
    return model, fields


@given(models(), st.data())
def test_generated_items_map_onto_generated_models(model_and_fields: Any, data: Any) -> None:
    model, fields = model_and_fields
    item = {name: data.draw(kind.values) for name, kind in fields}
    item["PK"] = "ignored#extra"
    result = from_item(model, item)
    for name, kind in fields:
        assert getattr(result, name) == kind.expected(item[name])


@given(models(), st.data())
def test_every_wrong_or_missing_field_is_reported(model_and_fields: Any, data: Any) -> None:
    model, fields = model_and_fields
    item: dict[str, Any] = {}
    broken = []
    for name, kind in fields:
        fate = data.draw(st.sampled_from(["good", "wrong", "missing"]))
        if fate == "good":
            item[name] = data.draw(kind.values)
        elif fate == "wrong":
            item[name] = data.draw(kind.wrong)
            broken.append(name)
        else:
            broken.append(name)
    if not broken:
        from_item(model, item)
        return
    with pytest.raises(ModelError) as caught:
        from_item(model, item)
    assert caught.value.model == model.__name__
    assert [path for path, _ in caught.value.problems] == broken
