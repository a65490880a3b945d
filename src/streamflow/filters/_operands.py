"""Operands of the operators, checked and parsed once for the validator and the rule factories.

``numeric`` bounds, wildcard patterns and CIDR blocks are accepted by exactly the same code
whether they come from JSON (``_validate.py``) or from the DSL (``_rules.py``).
"""

from __future__ import annotations

import math
import sys

from streamflow.errors import FilterValidationError
from streamflow.filters._json import show

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    import ipaddress

__all__ = [
    "NUMERIC_OPERATORS",
    "check_number",
    "check_numeric",
    "json_number",
    "json_type",
    "looks_like_ip",
    "parse_cidr",
    "parse_wildcard",
]

NUMERIC_OPERATORS = frozenset({"=", "<", "<=", ">", ">="})
_IPV6_CHARS = frozenset("0123456789abcdefABCDEF:")
_MAX_DOUBLE = 1.7976931348623157e308


def _error(path: str, reason: str) -> FilterValidationError:
    return FilterValidationError(path, reason)


def json_type(value: object) -> str:
    """The JSON type name of ``value``, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def check_number(value: object, path: str, *, what: str = "value") -> int | float:
    """Return ``value`` if it is a JSON number AWS can hold, else raise.

    Booleans are not numbers; NaN, infinities and numbers beyond the IEEE-754 double range are
    refused (they have no JSON form, or the engine cannot compare them).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _error(path, f"{what} must be a JSON number, not {json_type(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _error(path, f"{what} must be a finite number, not {value!r}")
    if isinstance(value, int) and abs(value) > _MAX_DOUBLE:
        # Not written out: Python refuses to turn ints of thousands of digits into text.
        size = f"a {value.bit_length()}-bit integer"
        raise _error(path, f"{what} is outside the IEEE-754 double range ({size})")
    return value


def json_number(value: object, where: str) -> int | float:
    """``value`` as a JSON number; a ``Decimal`` must convert without losing digits.

    Raises:
        FilterValidationError: for anything else (booleans included).
    """
    decimal = sys.modules.get("decimal")  # a Decimal can only exist if decimal is imported
    if decimal is not None and isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _error(where, f"{value} is not a finite number")
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        if decimal.Decimal(repr(as_float)) != value:
            raise _error(where, f"{value} has more digits than a JSON number can carry through AWS")
        return as_float
    return check_number(value, where)


def check_numeric(operands: object, path: str) -> None:
    """Check a ``numeric`` operand: ``[op, n]`` or ``[">"|">=", lo, "<"|"<=", hi]``."""
    if not isinstance(operands, list):
        raise _error(path, f'numeric needs an array such as [">", 0], not {json_type(operands)}')
    if len(operands) not in (2, 4):
        raise _error(
            path,
            f'numeric needs [op, number] or [">"|">=", low, "<"|"<=", high], '
            f"got {len(operands)} element(s)",
        )
    op = operands[0]
    if not isinstance(op, str) or op not in NUMERIC_OPERATORS:
        raise _error(
            f"{path}[0]",
            f"unknown numeric operator {show(op)} (use =, <, <=, >, >=)",
        )
    low = check_number(operands[1], f"{path}[1]", what=f"the operand of {op}")
    if len(operands) == 2:
        return
    if op not in (">", ">="):
        raise _error(
            f"{path}[0]",
            f'a numeric range starts with its lower bound (">" or ">="), not {op!r}',
        )
    op2 = operands[2]
    if op2 not in ("<", "<="):
        raise _error(
            f"{path}[2]",
            f'the second operator of a numeric range must be "<" or "<=", not {show(op2)}',
        )
    high = check_number(operands[3], f"{path}[3]", what=f"the operand of {op2}")
    if not low < high:
        raise _error(path, f"the lower bound {low} must be below the upper bound {high}")


# --- wildcard ---------------------------------------------------------------------------------


def parse_wildcard(text: str, path: str) -> list[str]:
    """Split a wildcard pattern into the literal pieces between its unescaped ``*``.

    ``"a*b\\\\*c"`` gives ``["a", "b*c"]``: ``\\*`` is a literal star, ``\\\\`` a literal
    backslash; any other backslash escape and consecutive ``**`` are refused, as AWS does.
    """
    pieces: list[str] = []
    current: list[str] = []
    previous_star = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            following = text[i + 1 : i + 2]
            if following not in ("*", "\\"):
                found = repr("\\" + following) if following else "a trailing backslash"
                raise _error(
                    path, f"a backslash in a wildcard may only escape '*' or '\\' (found {found})"
                )
            current.append(following)
            previous_star = False
            i += 2
            continue
        if char == "*":
            if previous_star:
                raise _error(path, "consecutive '*' characters are not allowed in a wildcard")
            pieces.append("".join(current))
            current = []
            previous_star = True
        else:
            current.append(char)
            previous_star = False
        i += 1
    pieces.append("".join(current))
    return pieces


# --- IP addresses -----------------------------------------------------------------------------


def looks_like_ip(text: str) -> int:
    """4 or 6 when ``text`` has the shape the engine treats as an IPv4/IPv6 literal, else 0.

    The engine only parses strings that look like ``digits.digits.digits.digits`` or consist of
    hex digits and colons; anything else (host names, ``::ffff:1.2.3.4``, zone ids) is a string.
    """
    if ":" in text:
        return 6 if _IPV6_CHARS.issuperset(text) else 0
    parts = text.split(".")
    if len(parts) == 4 and all(part.isascii() and part.isdigit() for part in parts):
        return 4
    return 0


def parse_cidr(text: str, path: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse a ``cidr`` operand as AWS does; host bits may be set (the block is its network)."""
    import ipaddress

    address, slash, bits = text.partition("/")
    if not slash or "/" in bits:
        raise _error(path, f"a CIDR block needs exactly one '/', as in \"10.0.0.0/24\": {text!r}")
    if not (bits.isascii() and bits.isdigit()):
        raise _error(path, f"the mask bits of a CIDR block must be an integer: {text!r}")
    version = looks_like_ip(address)
    try:
        ip = ipaddress.ip_address(address) if version else None
    except ValueError:
        ip = None
    if ip is None or ip.version != version:
        raise _error(path, f"{address!r} is not an IPv4 or IPv6 address")
    limit = 31 if version == 4 else 127
    if int(bits) > limit:
        single = f'the plain address "{address}"'
        raise _error(
            path,
            f"AWS accepts at most /{limit} for IPv{version}; to match one address use {single}",
        )
    return ipaddress.ip_network(f"{address}/{int(bits)}", strict=False)
