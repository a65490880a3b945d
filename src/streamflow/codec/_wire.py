"""The wire form's rules, shared by decoding and encoding: DynamoDB's limits, number text
read and written exactly, and the internal failure that gathers an attribute path."""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from streamflow.errors import _SHOWN_BITS, _name_segment, _Signal
from streamflow.errors import _shown as shown

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Literal

__all__ = [
    "BASE64_TEXT",
    "MAX_DIGITS",
    "MAX_NESTING_DEPTH",
    "BinaryMode",
    "Fail",
    "NumberMode",
    "encode_number",
    "fullmatch",
    "json_type",
    "number_auto",
    "number_decimal",
    "number_float",
    "plain_str",
    "segment",
    "shown",
]

if TYPE_CHECKING:
    from typing import Literal

    NumberMode = Literal["auto", "decimal", "float"]
    """How ``N`` values decode: ``"auto"`` (int or Decimal), ``"decimal"`` or ``"float"``."""

    BinaryMode = Literal["bytes", "base64"]
    """How ``B``/``BS`` values encode: ``bytes`` (boto3's form) or base64 text (Lambda's)."""
else:  # at run time the names exist, as plain ``str``: the Literal types are for checkers
    NumberMode = BinaryMode = str

MAX_NESTING_DEPTH = 32
"""DynamoDB's limit on nested ``M``/``L`` levels; deeper values raise."""

MAX_DIGITS = 38
_MIN_ADJUSTED = -130
_MAX_ADJUSTED = 125
_NUMBER_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
BASE64_TEXT = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"


def fullmatch(pattern: str, text: str) -> bool:
    """Regular expressions serve only rare slow paths: ``re`` loads on first use, which
    keeps it out of a Lambda function's cold start."""
    import re

    return re.fullmatch(pattern, text, re.ASCII) is not None


class Fail(_Signal):
    """Internal: a problem found deep in a value; the path is added while it unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.trail: list[str] = []  # innermost first: ".key" or "[index]"

    def path(self, prefix: str) -> str:
        inner = "".join(reversed(self.trail))
        if prefix:
            return prefix + inner
        return inner[1:] if inner.startswith(".") else inner


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def plain_str(value: str) -> str:
    """``value`` as an exact ``str`` (a subclass's own ``__str__`` is not consulted)."""
    return value if type(value) is str else str.__str__(value)


# --- error messages -----------------------------------------------------------------------

_SHOWN = 60  # characters of a value that an error message shows


def _number_text(value: object) -> str:
    """A number as a message shows it: its text (``str``, not ``repr``), bounded."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and value.bit_length() > _SHOWN_BITS:
        return shown(value)
    else:
        try:
            text = str(value)
        except Exception:  # a broken __str__ of a number subclass
            return shown(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def segment(key: object) -> str:
    """One step of an error's path: ``[index]`` for a list index, ``.name`` (or ``["a.b"]``)
    for a map key; a key that is not text (a Python-built map) as its bounded ``repr``."""
    if type(key) is int and key.bit_length() <= 64:
        return f"[{key}]"
    if isinstance(key, str):
        return _name_segment(key)
    return f"[{shown(key)}]"


# --- numbers ------------------------------------------------------------------------------


def _checked_decimal(text: str) -> Decimal:
    """Parse number text as DynamoDB would accept it, or raise Fail."""
    if not fullmatch(_NUMBER_TEXT, text):
        raise Fail(f"malformed number {shown(text)}")
    try:
        number = Decimal(text)
    except ArithmeticError:  # an exponent past Decimal's own limit of 10**18
        return _beyond_decimal(text)
    if number.is_nan():  # the same, under a decimal context that does not trap it
        return _beyond_decimal(text)
    _check_range(number, text)
    return number


def _beyond_decimal(text: str) -> Decimal:
    """Well-formed text whose exponent has 19 or more digits (``1e99999999999999999999``),
    which ``Decimal`` cannot hold. Zero is zero whatever its exponent (DynamoDB trims a
    number's zeros), as ``0e-200`` is; any other digits put it outside DynamoDB's range,
    as no text is long enough to bring such an exponent back into it."""
    mantissa = text.partition("e")[0].partition("E")[0]
    if mantissa.lstrip("+-").replace(".", "").strip("0"):
        raise Fail(f"number {_number_text(text)} is outside DynamoDB's range 1E-130 to 9.99E+125")
    return Decimal("-0" if mantissa[:1] == "-" else "0")


def _check_range(number: Decimal, value: object) -> None:
    """Raise Fail unless ``number`` (read from ``value``, which messages show) is finite,
    has at most 38 significant digits and is zero or within 1E-130..9.99E+125. No operation
    here depends on (or signals under) the caller's decimal context."""
    if not number.is_finite():
        raise Fail(f"{shown(value)} is not a finite number")
    if number.is_zero():
        return
    digits = number.as_tuple().digits
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > MAX_DIGITS:
        raise Fail(
            f"number {_number_text(value)} has {significant} significant digits; "
            "DynamoDB keeps at most 38"
        )
    adjusted = number.adjusted()
    if adjusted > _MAX_ADJUSTED or adjusted < _MIN_ADJUSTED:
        raise Fail(f"number {_number_text(value)} is outside DynamoDB's range 1E-130 to 9.99E+125")


def _plain_parts(text: str) -> tuple[str, str] | None:
    """Split ``-123.456`` into its whole and fraction digits, when it is that plain form
    with at most 38 digits: such text is always within DynamoDB's limits."""
    whole, dot, fraction = text.partition(".")
    if (
        len(text) <= MAX_DIGITS + 2
        and text.isascii()
        and (fraction.isdigit() or not dot)
        and (whole.isdigit() or (whole[:1] == "-" and whole[1:].isdigit()))
        and len(whole) + len(fraction) <= MAX_DIGITS + (whole[:1] == "-")
    ):
        return whole, fraction
    return None


def number_auto(text: str) -> int | Decimal:
    parts = _plain_parts(text)
    if parts is None:
        number = _checked_decimal(text)
        return int(number) if number == number.to_integral_value() else number
    whole, fraction = parts
    if fraction.rstrip("0"):
        return Decimal(text)
    return int(whole)


def number_decimal(text: str) -> Decimal:
    return _checked_decimal(text) if _plain_parts(text) is None else Decimal(text)


def number_float(text: str) -> float:
    return float(number_decimal(text))


# --- encoding -----------------------------------------------------------------------------


def encode_number(value: int | float | Decimal) -> str:
    if type(value) is int:
        if -(10**MAX_DIGITS) < value < 10**MAX_DIGITS:
            return str(value)
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Fail(f"{value!r} has no DynamoDB form: numbers must be finite")
        number = Decimal(repr(value))  # the shortest text that reads back as this float
    elif isinstance(value, Decimal):
        number = value
    else:
        number = Decimal(int(value))
    _check_range(number, value)
    if number.is_zero():
        return "0"
    return _canonical_text(number)


def _canonical_text(number: Decimal) -> str:
    """The text DynamoDB stores and streams for a number: no exponent, no trailing zeros
    (``Decimal("1.50")`` is ``"1.5"``, ``1e20`` is ``"100000000000000000000"``), every digit
    kept (no rounding to the decimal context's 28 digits)."""
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite: checked by the caller
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing:
        digits, exponent = digits[: len(digits) - trailing], exponent + trailing
    if exponent == 0 and not sign:
        return "".join(map(str, digits))
    return format(Decimal((sign, digits, exponent)), "f")
