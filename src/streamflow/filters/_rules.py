"""The public rule factories: one per operator, each checking its operands.

Each factory checks its operands with the same code the JSON validator uses and returns a
rule object (``_rule_objects.py``) whose ``repr`` is the call that builds it, and whose
``to_json()`` gives the element that goes into a field's array in the pattern::

    >>> prefix("SCORE#")
    prefix('SCORE#')
    >>> prefix("SCORE#").to_json()
    {'prefix': 'SCORE#'}

Exact values need no factory: ``"ACTIVE"``, ``42``, ``True``, ``None`` and ``""`` are rules.
"""

from __future__ import annotations

import sys

from streamflow.errors import FilterValidationError
from streamflow.filters._rule_objects import (
    RULE_TYPES,
    AnythingBut,
    Cidr,
    EqualsIgnoreCase,
    Exists,
    Numeric,
    Prefix,
    Suffix,
    Wildcard,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from decimal import Decimal
    from typing import Any, Literal, TypeAlias

    from streamflow.filters._rule_objects import AnythingButForm, Rule

    NumericOperator = Literal["=", "<", "<=", ">", ">="]

__all__ = [
    "anything_but",
    "between",
    "cidr",
    "equals_ignore_case",
    "exists",
    "numeric",
    "prefix",
    "suffix",
    "wildcard",
]

Number: TypeAlias = "int | float | Decimal"


def _fail(where: str, reason: str) -> FilterValidationError:
    return FilterValidationError(where, reason)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"needs a string, not {type(value).__name__}")
    return value


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
    from streamflow.filters._operands import NUMERIC_OPERATORS, check_numeric, json_number

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
    from streamflow.filters._operands import json_number

    try:
        return json_number(item, "anything-but")
    except FilterValidationError:
        decimal = sys.modules.get("decimal")
        if decimal is not None and isinstance(item, decimal.Decimal) and item.is_finite():
            return item
        raise
