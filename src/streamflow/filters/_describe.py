"""Describing a field's rules for lint: what JSON types they can match, and the DSL call
that writes them, as they are or as what they meant (the fixes lint offers: every
alternative of a field rewritten as the rule it meant on the value the record holds there).
"""

from __future__ import annotations

from streamflow.errors import FilterValidationError
from streamflow.filters._dynamodb import canonical_number, number_text

# Lint runs whenever the DSL builds a filter (to refuse rules that can never match), so this
# module stays as cheap to import as the DSL: json loads only where a fix needs it.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "IMAGE_METHOD",
    "KIND_OF_DESCRIPTOR",
    "Kinds",
    "call",
    "dsl",
    "element_fix",
    "is_numbers",
    "known_values_fix",
    "listed",
    "rewritten",
]

IMAGE_METHOD = {"Keys": "key", "NewImage": "new_image", "OldImage": "old_image"}
KIND_OF_DESCRIPTOR = {
    "S": "string",
    "N": "number-text",
    "B": "string",
    "SS": "string",
    "NS": "number-text",
    "BS": "string",
    "BOOL": "bool",
    "NULL": "null",
}
"""What a record holds under each type descriptor, as lint tells values apart."""


class Kinds:
    """What a field's alternatives can match, by JSON type."""

    def __init__(self, alternatives: list[Any]) -> None:
        self.strings: list[Any] = []  # string literals and string-only operators
        self.numbers: list[Any] = []  # number literals and numeric operators
        self.others: list[Any] = []  # true/false/null literals
        self.negations: list[Any] = []  # anything-but: matches every other type
        self.exists_true = self.exists_false = False
        self.eb_only: list[str] = []
        self.cidr = False
        for alternative in alternatives:
            self._add(alternative)

    def _add(self, alternative: Any) -> None:
        if alternative is None or isinstance(alternative, bool):
            self.others.append(alternative)
        elif isinstance(alternative, str):
            self.strings.append(alternative)
        elif isinstance(alternative, (int, float)):
            self.numbers.append(alternative)
        else:
            ((name, operand),) = alternative.items()
            if name == "exists":
                self.exists_true = self.exists_true or operand is True
                self.exists_false = self.exists_false or operand is False
            elif name == "numeric":
                self.numbers.append(alternative)
            elif name == "anything-but":
                self.negations.append(operand)
                if isinstance(operand, dict):
                    self.eb_only.append(f"anything-but {next(iter(operand))}")
            else:
                self.strings.append(alternative)
                if name == "wildcard":
                    self.eb_only.append("wildcard")
                self.cidr = self.cidr or name == "cidr"


def dsl(alternative: Any) -> str:
    """A pattern element written as the streamflow rule that produces it."""
    if not isinstance(alternative, dict):
        return repr(alternative)
    ((name, operand),) = alternative.items()
    if name in ("prefix", "suffix") and isinstance(operand, dict):
        return f"{name}({operand['equals-ignore-case']!r}, ignore_case=True)"
    if name == "numeric":
        return f"numeric({', '.join(repr(o) for o in operand)})"
    if name == "anything-but":
        if isinstance(operand, dict):
            ((form, value),) = operand.items()
            items = value if isinstance(value, list) else [value]
            inner = form.replace("-", "_")
            return f"anything_but({', '.join(f'{inner}({v!r})' for v in items)})"
        items = operand if isinstance(operand, list) else [operand]
        return f"anything_but({', '.join(repr(v) for v in items)})"
    return f"{name.replace('-', '_')}({operand!r})"


def call(image: str, names: tuple[str, ...], rules: list[str], descriptor: str = "") -> str:
    """A DynamoDB builder call; ``type=`` when the rules alone would imply another type, or
    imply none (``exists(True)``).

    ``names``: the attribute, then the names of map values inside it, if any.
    """
    implied = descriptor in ("", "S", "BOOL", "NULL") and "exists(True)" not in rules
    kind = "" if implied or not descriptor else f", type={descriptor!r}"
    name: str | tuple[str, ...] = names[0] if len(names) == 1 else names
    return f"Filter.{IMAGE_METHOD[image]}({name!r}, {', '.join(rules)}{kind})"


def is_numbers(operand: Any) -> bool:
    items = listed(operand)
    return bool(items) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in items
    )


def listed(operand: Any) -> list[Any]:
    if isinstance(operand, dict):
        return []
    return operand if isinstance(operand, list) else [operand]


def element_fix(path: str, kinds: Kinds, alternatives: list[Any]) -> str:
    """The fix for values matched against an ``L`` value itself: the same values on its
    elements' type descriptor, when the values say which one it is."""
    descriptor = None
    if not (kinds.others or kinds.negations):
        if kinds.strings and not kinds.numbers:
            descriptor = "S"
        elif kinds.numbers and not kinds.strings:
            descriptor = "N"
    elif kinds.others and all(isinstance(o, bool) for o in kinds.others):
        descriptor = None if kinds.strings or kinds.numbers or kinds.negations else "BOOL"
    if descriptor is not None:
        rules = rewritten(alternatives, KIND_OF_DESCRIPTOR[descriptor], builder=False)
        if rules:
            return f"Filter.where({path + '.' + descriptor!r}, {', '.join(rules)})"
    return f"Filter.where({path + '.S'!r}, ...) to match an element's S value (or .N, .BOOL...)"


def known_values_fix(path: str, alternatives: list[Any], known: tuple[str, ...]) -> str:
    """The fix for a field with a fixed set of values (``eventName``...): each literal in
    the wrong case written as the value it meant, the other rules kept."""
    rules: list[str] = []
    names: list[str] = []
    for alternative in alternatives:
        if isinstance(alternative, str):
            meant = next((k for k in known if k.lower() == alternative.lower()), None)
            if meant is not None and repr(meant) not in rules:
                rules.append(repr(meant))
                names.append(meant)
        else:
            rules.append(dsl(alternative))
    if not rules:
        return f"use one of {', '.join(known)}"
    if path == "eventName" and len(names) == len(rules):
        if len(names) == 1:
            return f"Filter.{names[0].lower()}()"
        return f"Filter.events({', '.join(rules)})"
    return f"Filter.where({path!r}, {', '.join(rules)})"


def rewritten(alternatives: list[Any], kind: str, *, builder: bool) -> list[str]:
    """Every alternative of a field, as the DSL rule that does what it meant on a value of
    ``kind``; an alternative that cannot mean anything there is left out.

    ``builder``: the fix is a DynamoDB builder call, which writes numbers as N text itself
    (otherwise the fix is ``Filter.where()``, which takes the text as it is).
    """
    rules: list[str] = []
    for alternative in alternatives:
        rule = _rewrite(alternative, kind, builder)
        if rule is not None and rule not in rules:
            rules.append(rule)
    return rules


def _rewrite(alternative: Any, kind: str, builder: bool) -> str | None:
    """One alternative for :func:`rewritten`, or None to leave it out."""
    if kind == "null":  # a NULL value holds true and nothing else: what else could it mean?
        return "None" if builder else "True"
    if isinstance(alternative, dict):
        ((name, operand),) = alternative.items()
        if name == "exists":
            return dsl(alternative)
        if name == "numeric":
            return dsl(alternative) if kind == "number" else None
        if name == "anything-but" and is_numbers(operand):
            if kind in ("string", "number-text"):
                texts = [_text_of(v) if kind == "number-text" else str(v) for v in listed(operand)]
                return dsl({"anything-but": texts})
            return dsl(alternative) if kind == "number" else None
        return dsl(alternative) if kind in ("string", "number-text") else None
    if isinstance(alternative, bool) or alternative is None:
        if kind == "bool":
            return dsl(alternative) if alternative is not None else None
        if kind != "string":
            return None
        return repr({True: "true", False: "false", None: "null"}[alternative])
    if isinstance(alternative, (int, float)):
        if kind == "number":
            return dsl(alternative)
        if kind == "string":
            return repr(str(alternative))
        if kind == "number-text":
            try:
                text = number_text(alternative)
            except FilterValidationError:
                return None  # no N value can hold it
            return repr(alternative) if builder else repr(text)
        if kind == "bool" and alternative in (0, 1):
            return repr(bool(alternative))
        return None
    # a string literal
    if kind == "string":
        return repr(alternative)
    if kind == "number-text":
        canonical = canonical_number(alternative)
        return None if canonical is None else repr(canonical)
    if kind == "bool":
        return {"true": "True", "false": "False"}.get(alternative)
    if kind == "number":
        import json

        try:
            number = json.loads(alternative)
        except ValueError:
            return None
        valid = isinstance(number, (int, float)) and not isinstance(number, bool)
        return repr(number) if valid else None
    return None


def _text_of(number: Any) -> str:
    """A number as the text an N value holds (its repr if DynamoDB could not store it)."""
    try:
        return number_text(number)
    except FilterValidationError:
        return repr(number)
