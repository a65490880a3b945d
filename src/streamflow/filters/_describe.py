"""Describing a field's rules for lint: what JSON types they can match, and the DSL call
that writes them."""

from __future__ import annotations

from typing import Any

__all__ = ["IMAGE_METHOD", "Kinds", "call", "dsl", "is_numbers", "listed"]

IMAGE_METHOD = {"Keys": "key", "NewImage": "new_image", "OldImage": "old_image"}


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
