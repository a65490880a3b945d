"""Rule objects: one per operator, built by small public factories.

Each factory checks its operands with the same code the JSON validator uses and returns a
frozen, slotted object whose ``repr`` is the call that builds it, and whose
:meth:`to_json` gives the element that goes into a field's array in the pattern::

    >>> prefix("SCORE#")
    prefix('SCORE#')
    >>> prefix("SCORE#").to_json()
    {'prefix': 'SCORE#'}

Exact values need no factory: ``"ACTIVE"``, ``42``, ``True``, ``None`` and ``""`` are rules.

The rule classes are written by hand on a tiny :class:`_Rule` base (slots, equality by value,
immutability) rather than with ``@dataclass``: handlers build their filters at import time,
and ``dataclasses`` (which imports ``inspect``) would add milliseconds to every cold start.

The module runs past 400 lines because each operator's factory carries its documentation and
a runnable example.
"""

from __future__ import annotations

import sys

from streamflow.errors import FilterValidationError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any, Literal, TypeAlias

    NumericOperator = Literal["=", "<", "<=", ">", ">="]
    AnythingButForm = Literal["values", "prefix", "suffix", "equals-ignore-case", "wildcard"]

__all__ = [
    "AnythingBut",
    "Cidr",
    "EqualsIgnoreCase",
    "Exists",
    "Numeric",
    "Prefix",
    "Rule",
    "Suffix",
    "Value",
    "Wildcard",
    "anything_but",
    "between",
    "cidr",
    "equals_ignore_case",
    "exists",
    "json_number",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
]

Number: TypeAlias = "int | float | Decimal"
Value: TypeAlias = "str | int | float | bool | Decimal | bytes | None"
"""An exact value as a rule (``bytes`` only for DynamoDB binary attributes)."""


def _fail(where: str, reason: str) -> FilterValidationError:
    return FilterValidationError(where, reason)


def json_number(value: object, where: str) -> int | float:
    """``value`` as a JSON number; a ``Decimal`` must convert without losing digits.

    Raises:
        FilterValidationError: for anything else (booleans included).
    """
    decimal = sys.modules.get("decimal")  # a Decimal can only exist if decimal is imported
    if decimal is not None and isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _fail(where, f"{value} is not a finite number")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if decimal.Decimal(repr(as_float)) != value:
            raise _fail(where, f"{value} has more digits than a JSON number can carry through AWS")
        return as_float
    from streamflow.filters._operands import check_number

    return check_number(value, where)


class _Rule:
    """Base of the rule objects: slotted, immutable, equal when of one type and same fields."""

    __slots__: tuple[str, ...] = ()
    _order: tuple[str, ...] = ()
    """The fields in constructor order."""

    def __init__(self, *values: object) -> None:
        for name, value in zip(self._order, values, strict=True):
            object.__setattr__(self, name, value)

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._order)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._fields()))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __reduce__(self) -> tuple[type[_Rule], tuple[object, ...]]:
        return (type(self), self._fields())


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"needs a string, not {type(value).__name__}")
    return value


class Prefix(_Rule):
    """Matches strings that start with ``value`` (``ignore_case``: compared case-insensitively)."""

    __slots__ = ("ignore_case", "value")
    _order = ("value", "ignore_case")
    value: str
    ignore_case: bool

    def __init__(self, value: str, ignore_case: bool = False) -> None:
        super().__init__(value, ignore_case)

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        if self.ignore_case:
            return {"prefix": {"equals-ignore-case": self.value}}
        return {"prefix": self.value}

    def __repr__(self) -> str:
        flag = ", ignore_case=True" if self.ignore_case else ""
        return f"prefix({self.value!r}{flag})"


class Suffix(_Rule):
    """Matches strings that end with ``value`` (``ignore_case``: compared case-insensitively)."""

    __slots__ = ("ignore_case", "value")
    _order = ("value", "ignore_case")
    value: str
    ignore_case: bool

    def __init__(self, value: str, ignore_case: bool = False) -> None:
        super().__init__(value, ignore_case)

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        if self.ignore_case:
            return {"suffix": {"equals-ignore-case": self.value}}
        return {"suffix": self.value}

    def __repr__(self) -> str:
        flag = ", ignore_case=True" if self.ignore_case else ""
        return f"suffix({self.value!r}{flag})"


class EqualsIgnoreCase(_Rule):
    """Matches strings equal to ``value`` ignoring case (per character, simple mapping)."""

    __slots__ = ("value",)
    _order = ("value",)
    value: str

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"equals-ignore-case": self.value}

    def __repr__(self) -> str:
        return f"equals_ignore_case({self.value!r})"


class Wildcard(_Rule):
    """Matches strings against ``pattern``, where ``*`` stands for any run of characters."""

    __slots__ = ("pattern",)
    _order = ("pattern",)
    pattern: str

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"wildcard": self.pattern}

    def __repr__(self) -> str:
        return f"wildcard({self.pattern!r})"


class Cidr(_Rule):
    """Matches strings that are IPv4/IPv6 addresses inside ``block``."""

    __slots__ = ("block",)
    _order = ("block",)
    block: str

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"cidr": self.block}

    def __repr__(self) -> str:
        return f"cidr({self.block!r})"


class Exists(_Rule):
    """``present=True``: a value (null counts) is there; ``False``: no value is there."""

    __slots__ = ("present",)
    _order = ("present",)
    present: bool

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"exists": self.present}

    def __repr__(self) -> str:
        return f"exists({self.present!r})"


class Numeric(_Rule):
    """Matches JSON numbers by comparison: ``(op, n)`` or ``(">"|">=", lo, "<"|"<=", hi)``."""

    __slots__ = ("operands",)
    _order = ("operands",)
    operands: tuple[str | int | float, ...]

    def to_json(self) -> dict[str, Any]:
        """The pattern element for this rule."""
        return {"numeric": list(self.operands)}

    def __repr__(self) -> str:
        return f"numeric({', '.join(repr(o) for o in self.operands)})"


class AnythingBut(_Rule):
    """Matches any present value except the excluded ones (see :func:`anything_but`).

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
                raise _fail(
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


def prefix(value: str, *, ignore_case: bool = False) -> Prefix:
    """Match strings that start with ``value``.

    Args:
        value: the prefix; ``""`` matches every string (but no number).
        ignore_case: compare case-insensitively (``{"prefix": {"equals-ignore-case": ...}}``).

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``value`` is not a string.

    >>> prefix("SCORE#").to_json()
    {'prefix': 'SCORE#'}
    >>> prefix("score#", ignore_case=True).to_json()
    {'prefix': {'equals-ignore-case': 'score#'}}
    """
    return Prefix(_text(value, "prefix"), ignore_case=bool(ignore_case))


def suffix(value: str, *, ignore_case: bool = False) -> Suffix:
    """Match strings that end with ``value``.

    Args:
        value: the suffix; ``""`` matches every string (but no number).
        ignore_case: compare case-insensitively (``{"suffix": {"equals-ignore-case": ...}}``).

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``value`` is not a string.

    >>> suffix(".png").to_json()
    {'suffix': '.png'}
    """
    return Suffix(_text(value, "suffix"), ignore_case=bool(ignore_case))


def equals_ignore_case(value: str) -> EqualsIgnoreCase:
    """Match strings equal to ``value`` ignoring case.

    Characters are compared one by one with simple case mapping, as Java does: ``"ÄÖÜ"``
    equals ``"äöü"``, but ``"straße"`` does not equal ``"STRASSE"``.

    Args:
        value: the string; ``""`` matches only the empty string.

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``value`` is not a string.

    >>> equals_ignore_case("active").to_json()
    {'equals-ignore-case': 'active'}
    """
    return EqualsIgnoreCase(_text(value, "equals-ignore-case"))


def wildcard(pattern: str) -> Wildcard:
    """Match strings against a wildcard pattern: ``*`` is any run of characters, even none.

    Write ``\\*`` for a literal star and ``\\\\`` for a literal backslash; ``**`` is refused.
    AWS documents ``wildcard`` for EventBridge buses only: :func:`~streamflow.filters.lint`
    warns about it.

    Args:
        pattern: the wildcard pattern.

    Returns:
        The rule.

    Raises:
        FilterValidationError: for a bad escape or ``**``.

    >>> wildcard("arn:*:table/Orders*").to_json()
    {'wildcard': 'arn:*:table/Orders*'}
    """
    from streamflow.filters._operands import parse_wildcard

    parse_wildcard(_text(pattern, "wildcard"), "wildcard")
    return Wildcard(pattern)


def cidr(block: str) -> Cidr:
    """Match strings that are IP addresses inside a CIDR block (IPv4 or IPv6).

    Args:
        block: e.g. ``"10.0.0.0/24"``; host bits may be set (``"10.0.0.7/24"`` means the
            same block). AWS refuses ``/32`` and ``/128``: match the plain address instead.

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``block`` is not a CIDR block.

    >>> cidr("10.0.0.0/24").to_json()
    {'cidr': '10.0.0.0/24'}
    """
    from streamflow.filters._operands import parse_cidr

    parse_cidr(_text(block, "cidr"), "cidr")
    return Cidr(block)


def exists(present: bool = True, /) -> Exists:
    """Match on presence: ``exists()`` needs a value (null counts), ``exists(False)`` none.

    Only leaf values count: an object is "no value", so on a DynamoDB attribute the type
    descriptor must be part of the path (the DynamoDB builders do this for you).

    Args:
        present: the operand of ``{"exists": ...}``.

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``present`` is not a bool.

    >>> exists(False).to_json()
    {'exists': False}
    """
    if not isinstance(present, bool):
        raise _fail("exists", f"needs True or False, not {type(present).__name__}")
    return Exists(present)


def numeric(
    op: NumericOperator,
    value: Number,
    op2: Literal["<", "<="] | None = None,
    value2: Number | None = None,
) -> Numeric:
    """Compare JSON numbers: ``numeric(">", 5)`` or ``numeric(">=", 0, "<", 10)``.

    Only real JSON numbers match (never strings, so never a DynamoDB ``N`` value, which
    stream records carry as text). Numbers are compared exactly by value: ``300`` equals
    ``300.0``; decimals are IEEE-754 doubles.

    Args:
        op: ``"="``, ``"<"``, ``"<="``, ``">"`` or ``">="``; a range starts with ``">"`` or
            ``">="``.
        value: the operand.
        op2: for a range, ``"<"`` or ``"<="``.
        value2: for a range, the upper bound (greater than ``value``).

    Returns:
        The rule.

    Raises:
        FilterValidationError: for an unknown operator, a bad range or a non-number.

    >>> numeric(">=", 0, "<", 10).to_json()
    {'numeric': ['>=', 0, '<', 10]}
    """
    from streamflow.filters._operands import NUMERIC_OPERATORS, check_numeric

    if not isinstance(op, str) or op not in NUMERIC_OPERATORS:
        raise _fail("numeric", f"unknown operator {op!r} (use =, <, <=, >, >=)")
    operands: list[str | int | float] = [op, json_number(value, f"numeric {op}")]
    if op2 is not None or value2 is not None:
        if op2 is None or value2 is None:
            raise _fail("numeric", "a range needs both op2 and value2")
        operands += [op2, json_number(value2, f"numeric {op2}")]
    check_numeric(operands, "numeric")
    return Numeric(tuple(operands))


def between(low: Number, high: Number) -> Numeric:
    """Match JSON numbers in the closed range ``[low, high]`` (``numeric(">=", low, "<=", high)``).

    Args:
        low: the lower bound.
        high: the upper bound, greater than ``low``.

    Returns:
        The rule.

    Raises:
        FilterValidationError: if ``low >= high`` or a bound is not a number.

    >>> between(1, 5)
    numeric('>=', 1, '<=', 5)
    """
    return numeric(">=", low, "<=", high)


def _form_of(rule: object) -> tuple[AnythingButForm, str]:
    if isinstance(rule, Prefix) and not rule.ignore_case:
        if not rule.value:
            raise _fail("anything-but", "anything_but(prefix('')) is refused by AWS")
        return "prefix", rule.value
    if isinstance(rule, Suffix) and not rule.ignore_case:
        if not rule.value:
            raise _fail("anything-but", "anything_but(suffix('')) is refused by AWS")
        return "suffix", rule.value
    if isinstance(rule, EqualsIgnoreCase):
        return "equals-ignore-case", rule.value
    if isinstance(rule, Wildcard):
        return "wildcard", rule.pattern
    raise _fail(
        "anything-but",
        f"anything_but() takes values or prefix()/suffix()/equals_ignore_case()/wildcard() "
        f"rules, not {rule!r}",
    )


def anything_but(*excluded: str | int | float | Decimal | list[Any] | Rule) -> AnythingBut:
    """Match any present value except the excluded ones.

    ``anything_but("a")``, ``anything_but("a", "b")`` (strings only or numbers only),
    ``anything_but(prefix("tmp/"))``, and likewise with ``suffix()``,
    ``equals_ignore_case()`` or ``wildcard()`` (several of the same kind are allowed).

    A missing field never matches; ``null``, values of another type and arrays holding at
    least one non-excluded value do. The prefix/suffix/equals-ignore-case/wildcard forms are
    documented for EventBridge buses only (:func:`~streamflow.filters.lint` warns).

    Args:
        excluded: the values or rules to exclude (or a single list of values).

    Returns:
        The rule.

    A ``Decimal`` with more digits than a JSON number carries is kept whole for an ``N``
    attribute, where the DSL writes it as text; on a plain JSON path it is refused.

    Raises:
        FilterValidationError: for no values, mixed kinds, booleans or ``None``.

    >>> anything_but("DELETED", "ARCHIVED").to_json()
    {'anything-but': ['DELETED', 'ARCHIVED']}
    >>> anything_but(prefix("tmp/")).to_json()
    {'anything-but': {'prefix': 'tmp/'}}
    """
    single = len(excluded) == 1 and not isinstance(excluded[0], list)
    items: list[Any] = (
        list(excluded[0])
        if len(excluded) == 1 and isinstance(excluded[0], list)
        else list(excluded)
    )
    if not items:
        raise _fail("anything-but", "anything_but() needs at least one value")
    if all(isinstance(item, RULE_TYPES) for item in items):
        forms = [_form_of(item) for item in items]
        kinds = {form for form, _ in forms}
        if len(kinds) != 1:
            raise _fail("anything-but", f"all rules must be of one kind, got {sorted(kinds)}")
        return AnythingBut(forms[0][0], tuple(value for _, value in forms), single)
    if all(isinstance(item, str) for item in items):
        return AnythingBut("values", tuple(items), single)
    if any(isinstance(item, (bool, str)) or item is None for item in items):
        raise _fail(
            "anything-but",
            "anything_but() takes only strings or only numbers (no booleans, None or mixes)",
        )
    decimal = sys.modules.get("decimal")
    for item in items:
        if not isinstance(item, (int, float)) and not (
            decimal is not None and isinstance(item, decimal.Decimal)
        ):
            raise _fail(
                "anything-but",
                f"anything_but() takes strings, numbers, a list of them, or prefix()/suffix()/"
                f"equals_ignore_case()/wildcard() rules, not {item!r}",
            )
    numbers = tuple(_excluded_number(item) for item in items)
    return AnythingBut("values", numbers, single)


def _excluded_number(item: Any) -> Any:
    """A number for :func:`anything_but`: a JSON number, or a finite ``Decimal`` with more
    digits than a JSON number carries, kept whole for an ``N`` attribute (which writes it as
    text); on a plain JSON path such a value is refused when the rule is used."""
    try:
        return json_number(item, "anything-but")
    except FilterValidationError:
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(item, decimal.Decimal) and item.is_finite():
            return item
        raise
