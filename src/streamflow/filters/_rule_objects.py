"""The rule objects that the factories of ``_rules.py`` build: one class per operator.

Each is a slotted, immutable :class:`~streamflow._value.Value` (equal and hashed by kind and
fields, picklable) whose ``repr`` is the factory call that builds it, and whose ``to_json``
gives the element that goes into a field's array in the pattern::

    >>> Prefix("SCORE#")
    prefix('SCORE#')
    >>> Prefix("SCORE#").to_json()
    {'prefix': 'SCORE#'}

The classes take their operands as they are; the factories check them first.
"""

from __future__ import annotations

import sys

from streamflow._value import Value
from streamflow.errors import FilterValidationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any, Literal, TypeAlias

    AnythingButForm = Literal["values", "prefix", "suffix", "equals-ignore-case", "wildcard"]

__all__ = [
    "RULE_TYPES",
    "AnythingBut",
    "Cidr",
    "EqualsIgnoreCase",
    "Exists",
    "Numeric",
    "Prefix",
    "Rule",
    "Suffix",
    "Wildcard",
]


class _Affix(Value):
    """A rule on the start or the end of a string: its operator is the class's
    ``operator``."""

    __slots__ = ("ignore_case", "value")
    _order = ("value", "ignore_case")
    operator = ""
    value: str
    ignore_case: bool

    def __init__(self, value: str, ignore_case: bool = False) -> None:
        super().__init__(value, ignore_case)

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        if self.ignore_case:
            return {self.operator: {"equals-ignore-case": self.value}}
        return {self.operator: self.value}

    def __repr__(self) -> str:
        flag = ", ignore_case=True" if self.ignore_case else ""
        return f"{self.operator}({self.value!r}{flag})"


class Prefix(_Affix):
    """Matches strings that start with ``value`` (``ignore_case``: compared case-insensitively)."""

    __slots__ = ()
    operator = "prefix"


class Suffix(_Affix):
    """Matches strings that end with ``value`` (``ignore_case``: compared case-insensitively)."""

    __slots__ = ()
    operator = "suffix"


class _OneOperand(Value):
    """A rule whose pattern element is ``{operator: operand}`` and whose ``repr`` is the
    factory named after the operator, called with the operand (its one field)."""

    __slots__ = ()
    operator = ""

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {self.operator: self._values()[0]}

    def __repr__(self) -> str:
        return f"{self.operator.replace('-', '_')}({self._values()[0]!r})"


class EqualsIgnoreCase(_OneOperand):
    """Matches strings equal to ``value`` ignoring case (per character, simple mapping)."""

    __slots__ = ("value",)
    operator = "equals-ignore-case"
    value: str


class Wildcard(_OneOperand):
    """Matches strings against ``pattern``, where ``*`` stands for any run of characters."""

    __slots__ = ("pattern",)
    operator = "wildcard"
    pattern: str


class Cidr(_OneOperand):
    """Matches strings that are IPv4/IPv6 addresses inside ``block``."""

    __slots__ = ("block",)
    operator = "cidr"
    block: str


class Exists(_OneOperand):
    """``present=True``: a value (null counts) is there; ``False``: no value is there."""

    __slots__ = ("present",)
    operator = "exists"
    present: bool


class Numeric(Value):
    """Matches JSON numbers by comparison: ``(op, n)`` or ``(">"|">=", lo, "<"|"<=", hi)``."""

    __slots__ = ("operands",)
    operands: tuple[str | int | float, ...]

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"numeric": list(self.operands)}

    def __repr__(self) -> str:
        return f"numeric({', '.join(repr(o) for o in self.operands)})"


class AnythingBut(Value):
    """Matches any present value except the excluded ones (see ``anything_but()``).

    ``single`` emits one value rather than a one-element list (both are valid; kept so that
    a pattern read from JSON comes back unchanged).
    """

    __slots__ = ("form", "single", "values")
    _order = ("form", "values", "single")
    form: AnythingButForm
    values: tuple[str | int | float, ...]
    single: bool

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule.

        Raises:
            FilterValidationError: a ``Decimal`` with more digits than a JSON number carries
                (allowed on ``N`` attributes only, where the DSL writes it as text).
        """
        decimal = sys.modules.get("decimal")
        for value in self.values:
            if decimal is not None and isinstance(value, decimal.Decimal):
                raise FilterValidationError(
                    "anything-but",
                    f"{value} has more digits than a JSON number can carry through AWS (it is "
                    "kept whole, as text, only on an N attribute of an image or the keys)",
                )
        operand: Any = self.values[0] if self.single else list(self.values)
        if self.form == "values":
            return {"anything-but": operand}
        return {"anything-but": {self.form: operand}}

    def __repr__(self) -> str:
        if self.form == "values":
            return f"anything_but({', '.join(repr(v) for v in self.values)})"
        name = self.form.replace("-", "_")
        return f"anything_but({', '.join(f'{name}({v!r})' for v in self.values)})"


if TYPE_CHECKING:
    Rule: TypeAlias = (
        Prefix
        | Suffix
        | EqualsIgnoreCase
        | Wildcard
        | Cidr
        | Exists
        | Numeric
        | AnythingBut
        | str
        | int
        | float
        | bool
        | Decimal
        | bytes
        | None
    )
else:  # at runtime without Decimal: decimal is not imported just for an alias
    Rule = (
        Prefix
        | Suffix
        | EqualsIgnoreCase
        | Wildcard
        | Cidr
        | Exists
        | Numeric
        | AnythingBut
        | str
        | int
        | float
        | bool
        | bytes
        | None
    )
"""Anything a builder accepts as one alternative of a field."""

RULE_TYPES = (Prefix, Suffix, EqualsIgnoreCase, Wildcard, Cidr, Exists, Numeric, AnythingBut)
