"""DynamoDB-aware pattern fragments: attribute values keep their type descriptor.

In a stream record an attribute is ``{"status": {"S": "ACTIVE"}}``, so the descriptor is part
of the path a filter must name: ``dynamodb.NewImage.status.S``. This module picks the
descriptor from the rules (``"x"`` -> ``S``, ``5`` -> ``N`` as the text ``"5"``, ``True`` ->
``BOOL``, ``None`` -> ``NULL: true``, ``b"..."`` -> ``B`` as base64), converts the values to
the form the record carries them in, and refuses rules that can never match.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from streamflow.errors import FilterValidationError
from streamflow.filters._operands import json_number
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
    from typing import Any

__all__ = [
    "DESCRIPTORS",
    "EVENT_NAMES",
    "IMAGES",
    "LEAF_DESCRIPTORS",
    "attribute_fragment",
    "generic_value",
    "number_text",
]

DESCRIPTORS = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")
"""Every DynamoDB AttributeValue type descriptor."""
LEAF_DESCRIPTORS = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS")
"""The descriptors whose value is a leaf (or an array of leaves) that filters can see."""
KEY_DESCRIPTORS = ("S", "N", "B")
IMAGES = ("Keys", "NewImage", "OldImage")
EVENT_NAMES = ("INSERT", "MODIFY", "REMOVE")

_NUMERIC_HELP = (
    "numeric() never matches a DynamoDB attribute: stream records carry N values as text "
    '({"N": "42"}), and numeric comparisons only match JSON numbers. Match exact values '
    "instead (e.g. .new_image('Score', 30, 31, 32)), keep a flag or bucket attribute you can "
    "match as a string, or filter in the handler; real JSON numbers such as "
    "dynamodb.SizeBytes work with .where()"
)


def _fail(where: str, reason: str) -> FilterValidationError:
    return FilterValidationError(where, reason)


def _is_decimal(value: object) -> bool:
    decimal = sys.modules.get("decimal")
    return decimal is not None and isinstance(value, decimal.Decimal)


def number_text(value: object, where: str = "") -> str:
    """The text DynamoDB puts in an ``N`` value: no exponent, no trailing zeros, every digit.

    Written by the codec (:func:`streamflow.codec.serialize`), so that filters and the events
    of :mod:`streamflow.testing` spell a number the same way, as the stream does.

    Raises:
        FilterValidationError: for a boolean, a non-number, a non-finite number, or a number
            DynamoDB cannot store (more than 38 significant digits, or a magnitude outside
            1E-130 to 9.99E+125), which no record can hold.

    >>> number_text(30), number_text(2.50), number_text(1e20)
    ('30', '2.5', '100000000000000000000')
    """
    if isinstance(value, bool) or not (isinstance(value, (int, float)) or _is_decimal(value)):
        raise _fail(where, f"an N value needs a number, not {type(value).__name__}")
    from streamflow.codec import serialize
    from streamflow.errors import AttributeEncodeError

    try:
        text: str = serialize(value)["N"]
    except AttributeEncodeError as exc:
        raise _fail(where, f"{exc.reason}, so no record holds it") from None
    return text


_NUMBER_CHARACTERS = frozenset("0123456789+-.eE")


def canonical_number(text: str) -> str | None:
    """The text DynamoDB would put in an ``N`` value written as ``text``, or None when
    ``text`` is no number DynamoDB can store (so no ``N`` value is ever that text).

    DynamoDB stores numbers, not their spelling: ``"1.50"``, ``"01.5"`` and ``"15E-1"``
    all come back (and reach the stream) as ``"1.5"``.

    >>> canonical_number("1.50"), canonical_number("1E+2"), canonical_number("abc")
    ('1.5', '100', None)
    """
    if not text or not _NUMBER_CHARACTERS.issuperset(text):
        return None  # also keeps out what Decimal reads but DynamoDB refuses: "1_0", " 1"
    from decimal import Decimal, InvalidOperation

    try:
        return number_text(Decimal(text))
    except (InvalidOperation, FilterValidationError):
        return None


def _n_text(rule: str, where: str) -> str:
    """A string given for an ``N`` value, in the form DynamoDB writes that number."""
    canonical = canonical_number(rule)
    if canonical is None:
        raise _fail(
            where,
            f"{rule!r} is not a number DynamoDB can store, so it never matches an N value "
            "(pass the number itself, e.g. 30 or Decimal('2.5'))",
        )
    return canonical


def _descriptor_of(rule: object, where: str) -> str | None:
    """The descriptor a rule implies, or None when it implies none (``exists``)."""
    if isinstance(rule, bool):
        return "BOOL"
    if rule is None:
        return "NULL"
    if isinstance(rule, str):
        return "S"
    if isinstance(rule, (bytes, bytearray)):
        return "B"
    if isinstance(rule, (int, float)) or _is_decimal(rule):
        return "N"
    if isinstance(rule, (Prefix, Suffix, EqualsIgnoreCase, Wildcard, Cidr)):
        return "S"
    if isinstance(rule, AnythingBut):
        numbers = rule.form == "values" and not isinstance(rule.values[0], str)
        return "N" if numbers else "S"
    if isinstance(rule, Numeric):
        raise _fail(where, _NUMERIC_HELP)
    if isinstance(rule, Exists):
        return None
    raise _fail(where, f"{rule!r} is not a rule")


def _as_text_rule(rule: object) -> Any:
    """A string or a string rule as its pattern element, else None."""
    if isinstance(rule, (Prefix, Suffix, EqualsIgnoreCase, Wildcard, Cidr)):
        return rule.to_json()
    if isinstance(rule, str):
        return rule
    return None


def _convert(rule: object, descriptor: str, where: str) -> Any:
    """``rule`` as the pattern element that matches a ``descriptor`` value in a record."""
    if isinstance(rule, Numeric):
        raise _fail(where, _NUMERIC_HELP)
    if isinstance(rule, Exists):
        return rule.to_json()
    text = _as_text_rule(rule)
    if descriptor in ("S", "SS", "B", "BS"):
        if text is not None:
            return text
        if isinstance(rule, AnythingBut) and _descriptor_of(rule, where) == "S":
            return rule.to_json()
        if descriptor in ("B", "BS") and isinstance(rule, (bytes, bytearray)):
            import base64

            return base64.b64encode(bytes(rule)).decode("ascii")
    elif descriptor in ("N", "NS"):
        if isinstance(rule, str):
            return _n_text(rule, where)  # "1.50" would never match: the record says "1.5"
        if text is not None:
            return text
        if isinstance(rule, AnythingBut):
            if rule.form == "values":
                texts = tuple(
                    _n_text(v, where) if isinstance(v, str) else number_text(v, where)
                    for v in rule.values
                )
                return AnythingBut("values", texts, rule.single).to_json()
            return rule.to_json()
        if not isinstance(rule, bool) and (isinstance(rule, (int, float)) or _is_decimal(rule)):
            return number_text(rule, where)
    elif descriptor == "BOOL" and isinstance(rule, bool):
        return rule
    elif descriptor == "NULL" and rule is None:
        return True
    raise _fail(where, f"{rule!r} can never match a {descriptor} value")


def attribute_fragment(
    names: str | Sequence[str],
    rules: tuple[Any, ...],
    descriptor: str | None,
    *,
    where: str,
    allowed: Sequence[str] = DESCRIPTORS,
    nested: bool = True,
) -> dict[str, Any]:
    """The pattern fragment for one attribute inside an image (``{"status": {"S": [...]}}``).

    Args:
        names: the attribute name, or a sequence of names for a value nested in maps
            (``("meta", "client")`` -> ``meta.M.client.S``).
        rules: the alternatives (values and rule objects).
        descriptor: an explicit type descriptor, or None to infer it from the rules.
        where: the builder call, for error messages.
        allowed: the descriptors allowed here (key attributes are S, N or B only).
        nested: whether ``names`` may name a value inside maps (not for key attributes).

    Raises:
        FilterValidationError: for rules that can never match, or that disagree on the type.
    """
    if isinstance(names, str):
        path = [names]
    elif isinstance(names, Sequence) and not isinstance(names, (bytes, bytearray)) and nested:
        path = list(names)  # a value inside maps: ("meta", "client") is meta.M.client
    else:
        also = " or a sequence of names" if nested else " (a key is never inside a map)"
        raise _fail(
            where,
            f"an attribute name must be a non-empty string{also}, not {type(names).__name__}",
        )
    if not path or not all(isinstance(n, str) and n for n in path):
        raise _fail(where, "an attribute name must be a non-empty string")
    if "$or" in path:
        raise _fail(where, "an attribute named '$or' cannot be filtered: AWS reads it as $or")
    if not rules:
        raise _fail(where, "give at least one value or rule")
    if descriptor is not None:
        if descriptor not in allowed:
            raise _fail(where, f"type must be one of {', '.join(allowed)}, not {descriptor!r}")
    else:
        implied = {d for d in (_descriptor_of(rule, where) for rule in rules) if d is not None}
        if len(implied) > 1:
            raise _fail(
                where,
                f"these rules imply different types ({', '.join(sorted(implied))}); pass type=, "
                "or use any_of() with one call per type",
            )
        if implied:
            descriptor = implied.pop()
            if descriptor not in allowed:
                raise _fail(where, f"a {descriptor} value cannot appear here")
        elif len(rules) == 1 and isinstance(rules[0], Exists) and not rules[0].present:
            # Absent means: no descriptor holds a value. AND of exists:false on each one.
            absent = [{"exists": False}]
            leaf = {d: list(absent) for d in LEAF_DESCRIPTORS if d in allowed}
            return _nest(path, leaf)
        else:
            raise _fail(
                where,
                "exists(True) needs type= (the type descriptor is part of the path: "
                "an attribute is only 'present' through its S, N, B... value)",
            )
    if descriptor in ("M", "L"):
        raise _fail(
            where,
            f"a {descriptor} value is not a leaf and can never match; name the nested value "
            "instead, e.g. ('meta', 'client') for meta.M.client.S, or use .where() with the "
            "full path",
        )
    alternatives = [_convert(rule, descriptor, where) for rule in rules]
    return _nest(path, {descriptor: alternatives})


def _nest(names: list[str], leaf: dict[str, Any]) -> dict[str, Any]:
    """``["meta", "client"]`` + leaf -> ``{"meta": {"M": {"client": leaf}}}``."""
    fragment: dict[str, Any] = {names[-1]: leaf}
    for name in reversed(names[:-1]):
        fragment = {name: {"M": fragment}}
    return fragment


def generic_value(rule: object, where: str) -> Any:
    """A rule for a plain JSON path (``.where()``): values stay JSON values."""
    if isinstance(rule, RULE_TYPES):
        return rule.to_json()
    if rule is None or isinstance(rule, (str, bool)):
        return rule
    if isinstance(rule, (bytes, bytearray)):
        raise _fail(
            where,
            "bytes only make sense for DynamoDB binary attributes: use .new_image(name, b'...') "
            "or pass the base64 text",
        )
    if not (isinstance(rule, (int, float)) or _is_decimal(rule)):
        raise _fail(
            where,
            f"{rule!r} is not a rule: give values (str, int, float, Decimal, bool, None) or "
            "rule objects such as prefix(), each as its own argument",
        )
    return json_number(rule, where)
