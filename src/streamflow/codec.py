"""DynamoDB AttributeValues to Python values and back, exactly.

A DynamoDB stream record carries every attribute in its typed wire form, an object with one
*type descriptor* key: ``{"S": "text"}``, ``{"N": "42"}``, ``{"M": {...}}``. This module
turns those into plain Python values and back, for all ten descriptors:

========== ================================== ==========================================
descriptor wire value                         Python value
========== ================================== ==========================================
``S``      string                             ``str``
``N``      string of digits                   ``int`` or ``Decimal`` (see *numbers*)
``B``      base64 text (Lambda) or ``bytes``  ``bytes``
``BOOL``   ``true`` / ``false``               ``bool``
``NULL``   ``true``                           ``None``
``M``      object of AttributeValues          ``dict``
``L``      array of AttributeValues           ``list``
``SS``     array of strings                   ``set[str]``
``NS``     array of number strings            ``set[int | Decimal]``
``BS``     array of base64 text or ``bytes``  ``set[bytes]``
========== ================================== ==========================================

Numbers are exact. ``numbers="auto"`` (the default) gives ``int`` for integral values and
``decimal.Decimal`` otherwise; ``numbers="decimal"`` gives ``Decimal`` always (what boto3's
``TypeDeserializer`` does); ``numbers="float"`` gives ``float`` and is lossy: opt in only when
you know your numbers fit a double. Number text that DynamoDB itself would reject (more than 38
significant digits, magnitude outside 1E-130..9.99E+125, NaN, Infinity, malformed) raises
:class:`~streamflow.errors.AttributeDecodeError`: nothing is silently rounded.

Binary values arrive as base64 text in a Lambda event and as ``bytes`` from boto3's
GetRecords; both decode to ``bytes``.

Every problem raises :class:`~streamflow.errors.AttributeDecodeError` or
:class:`~streamflow.errors.AttributeEncodeError` with the attribute path
(``NewImage.meta.history[2].deep``) and the reason; never a bare ``KeyError``, ``TypeError``
or ``RecursionError``. Nesting is limited to DynamoDB's 32 levels.
"""

from __future__ import annotations

import binascii
import math
import sys
from collections.abc import Mapping
from decimal import Decimal

from streamflow.errors import AttributeDecodeError, AttributeEncodeError, _name_segment

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)

__all__ = [
    "MAX_NESTING_DEPTH",
    "BinaryMode",
    "NumberMode",
    "deserialize",
    "deserialize_item",
    "item_size",
    "serialize",
    "serialize_item",
]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Literal

    NumberMode = Literal["auto", "decimal", "float"]
    """How ``N`` values decode: ``"auto"`` (int or Decimal), ``"decimal"`` or ``"float"``."""

    BinaryMode = Literal["bytes", "base64"]
    """How ``B``/``BS`` values encode: ``bytes`` (boto3's form) or base64 text (Lambda's)."""
else:  # at run time the names exist, as plain ``str``: the Literal types are for checkers
    NumberMode = BinaryMode = str

MAX_NESTING_DEPTH = 32
"""DynamoDB's limit on nested ``M``/``L`` levels; deeper values raise."""

_MAX_DIGITS = 38
_MIN_ADJUSTED = -130
_MAX_ADJUSTED = 125
_NUMBER_TEXT = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_BASE64_TEXT = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"


def _fullmatch(pattern: str, text: str) -> bool:
    """Regular expressions serve only rare slow paths: ``re`` loads on first use, which
    keeps it out of a Lambda function's cold start."""
    import re

    return re.fullmatch(pattern, text, re.ASCII) is not None


class _Fail(Exception):
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


def _json_type(value: object) -> str:
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


# --- numbers ------------------------------------------------------------------------------


def _checked_decimal(text: str) -> Decimal:
    """Parse number text as DynamoDB would accept it, or raise _Fail."""
    if not _fullmatch(_NUMBER_TEXT, text):
        raise _Fail(f"malformed number {text!r}")
    number = Decimal(text)
    _check_range(number, text)
    return number


def _check_range(number: Decimal, shown: object) -> None:
    if type(shown) is int and shown.bit_length() > 4000:  # too long for str() to write out
        shown = f"({shown.bit_length()}-bit integer)"
    if not number.is_finite():
        raise _Fail(f"{shown!r} is not a finite number")
    if number.is_zero():
        return
    digits = number.as_tuple().digits
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:
        significant -= 1
    if significant > _MAX_DIGITS:
        raise _Fail(
            f"number {shown!s} has {significant} significant digits; DynamoDB keeps at most 38"
        )
    adjusted = number.adjusted()
    if adjusted > _MAX_ADJUSTED or adjusted < _MIN_ADJUSTED:
        raise _Fail(f"number {shown!s} is outside DynamoDB's range 1E-130 to 9.99E+125")


def _plain_parts(text: str) -> tuple[str, str] | None:
    """Split ``-123.456`` into its whole and fraction digits, when it is that plain form
    with at most 38 digits: such text is always within DynamoDB's limits."""
    whole, dot, fraction = text.partition(".")
    if (
        len(text) <= _MAX_DIGITS + 2
        and text.isascii()
        and (fraction.isdigit() or not dot)
        and (whole.isdigit() or (whole[:1] == "-" and whole[1:].isdigit()))
        and len(whole) + len(fraction) <= _MAX_DIGITS + (whole[:1] == "-")
    ):
        return whole, fraction
    return None


def _number_auto(text: str) -> int | Decimal:
    parts = _plain_parts(text)
    if parts is None:
        number = _checked_decimal(text)
        return int(number) if number == number.to_integral_value() else number
    whole, fraction = parts
    if fraction.rstrip("0"):
        return Decimal(text)
    return int(whole)


def _number_decimal(text: str) -> Decimal:
    return _checked_decimal(text) if _plain_parts(text) is None else Decimal(text)


def _number_float(text: str) -> float:
    return float(_number_decimal(text))


# --- binary -------------------------------------------------------------------------------


def _binary(value: object) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        try:
            return _strict_base64(value)
        except (binascii.Error, ValueError):
            raise _Fail("invalid base64 text in a binary value") from None
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise _Fail(f"binary value must be base64 text or bytes, got {_json_type(value)}")


if sys.version_info >= (3, 11):

    def _strict_base64(text: str) -> bytes:
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10 has no strict mode

    def _strict_base64(text: str) -> bytes:
        if len(text) % 4 or not _fullmatch(_BASE64_TEXT, text):
            raise ValueError("not strict base64")
        return binascii.a2b_base64(text)


# --- decoding: the validating path --------------------------------------------------------


def _slow_value(av: object, number: Callable[[str], Any], depth: int) -> Any:
    """Decode one AttributeValue held at nesting ``depth``, checking everything.

    This is the reference decoder. The fast path hands it every value it is not sure of,
    and redoes a whole image with it when anything looks wrong, so the two cannot disagree
    on what is valid; failures raise ``_Fail``, which collects the path while unwinding.
    """
    if not isinstance(av, Mapping) or len(av) != 1:
        raise _shape_failure(av)
    ((tag, inner),) = av.items()
    # Subclasses are welcome here (a StrEnum member, an OrderedDict, a tuple): the fast path
    # takes only the exact JSON types, and hands anything else over.
    if tag == "S":
        if isinstance(inner, str):
            return _plain_str(inner)
    elif tag == "N":
        if isinstance(inner, str):
            return number(_plain_str(inner))
    elif tag == "BOOL":
        if type(inner) is bool:
            return inner
    elif tag == "NULL":
        if inner is True:
            return None
        raise _Fail(f"NULL value must be true, got {inner!r}")
    elif tag == "M":
        if isinstance(inner, Mapping):
            _check_depth(depth)
            return _slow_container(inner.items(), number, depth + 1)
    elif tag == "L":
        if isinstance(inner, (list, tuple)):
            _check_depth(depth)
            return list(_slow_container(enumerate(inner), number, depth + 1).values())
    elif tag == "B":
        return _binary(inner)
    elif tag == "SS":
        return _set(tag, inner, _string)
    elif tag == "NS":
        if number is _number_float:
            # Duplicates are judged on the exact numbers, as DynamoDB does; distinct numbers
            # that round to one float then merge, which is the lossy policy's documented cost.
            return {float(member) for member in _set(tag, inner, _number_text(_number_decimal))}
        return _set(tag, inner, _number_text(number))
    elif tag == "BS":
        return _set(tag, inner, _binary)
    else:
        raise _Fail(f"unknown type descriptor {tag!r}")
    raise _Fail(f"{tag} value must be {_EXPECTED[tag]}, got {_json_type(inner)}")


def _slow_container(
    pairs: Iterable[tuple[Any, Any]], number: Callable[[str], Any], depth: int
) -> dict[Any, Any]:
    """Decode a map's items, or a list's items keyed by index, with :func:`_slow_value`."""
    out: dict[Any, Any] = {}
    for key, av in pairs:
        try:
            out[key] = _slow_value(av, number, depth)
        except _Fail as fail:
            fail.trail.append(f"[{key}]" if type(key) is int else _name_segment(key))
            raise
    return out


def _check_depth(depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise _Fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")


_EXPECTED = {
    "S": "a string",
    "N": "a string of digits",
    "M": "an object",
    "L": "an array",
    "BOOL": "a boolean",
}


def _shape_failure(av: object) -> _Fail:
    if not isinstance(av, Mapping):
        return _Fail(f"expected an AttributeValue object, got {_json_type(av)}")
    if not av:
        return _Fail("empty AttributeValue: no type descriptor")
    keys = ", ".join(sorted(map(str, av)))
    return _Fail(f"AttributeValue must have exactly one type descriptor, got {keys}")


def _plain_str(value: str) -> str:
    """``value`` as an exact ``str`` (a subclass's own ``__str__`` is not consulted)."""
    return value if type(value) is str else str.__str__(value)


def _string(value: object) -> str:
    if isinstance(value, str):
        return _plain_str(value)
    raise _Fail(f"string set member must be a string, got {_json_type(value)}")


def _number_text(number: Callable[[str], Any]) -> Callable[[object], Any]:
    def member(value: object) -> Any:
        if isinstance(value, str):
            return number(_plain_str(value))
        raise _Fail(f"number set member must be a string of digits, got {_json_type(value)}")

    return member


def _set(tag: str, inner: object, member: Callable[[Any], Any]) -> set[Any]:
    if not isinstance(inner, (list, tuple)):
        raise _Fail(f"{tag} value must be an array, got {_json_type(inner)}")
    if not inner:
        raise _Fail(f"{tag} set is empty; DynamoDB sets hold at least one member")
    out = set()
    for index, item in enumerate(inner):
        try:
            out.add(member(item))
        except _Fail as fail:
            fail.trail.append(f"[{index}]")
            raise
    if len(out) != len(inner):
        raise _Fail(f"{tag} set has duplicate members")
    return out


# --- decoding: the fast path --------------------------------------------------------------

# What the fast path may raise on input it did not expect; the validating path then redoes
# the whole value and raises the precise error (or, for a value that is valid after all,
# returns it).
_FAST_FAILURES = (_Fail, LookupError, TypeError, ValueError, ArithmeticError, AttributeError)
_ONLY_STR = {str}


class _Decoder:
    """One number policy's decoder: ``value`` and ``mapping`` (fast path with fallback),
    ``fast``, the optimistic loop alone, and ``number``, the policy's number parser."""

    __slots__ = ("fast", "mapping", "number", "value")

    def __init__(
        self,
        fast: Callable[[Iterable[tuple[Any, Any]], int], dict[Any, Any]],
        number: Callable[[str], Any],
    ) -> None:
        self.fast = fast
        self.number = number

        def mapping(attributes: dict[Any, Any], depth: int) -> dict[Any, Any]:
            try:
                return fast(attributes.items(), depth)
            except _FAST_FAILURES:
                return _slow_container(attributes.items(), number, depth)

        def value(av: Any, depth: int) -> Any:
            try:
                return fast(((0, av),), depth)[0]
            except _FAST_FAILURES:
                return _slow_value(av, number, depth)

        self.mapping = mapping
        self.value = value


def _make_decoder(
    number: Callable[[str], Any], whole: Callable[[str], Any], fraction: Callable[[str], Any]
) -> _Decoder:
    """Build the decoder for one number policy.

    ``number`` is the policy's validating parser; ``whole`` and ``fraction`` convert text
    already known to be plain digits (at most 38 of them), without and with a fraction.

    The fast path is one loop per container, with no call per string, number, boolean or
    null. It accepts only what it has fully checked; a value it is unsure of goes to
    :func:`_slow_value`, and input it trips on raises (see ``_FAST_FAILURES``).
    """
    strict_base64 = _strict_base64
    max_digits = _MAX_DIGITS
    max_depth = MAX_NESTING_DEPTH
    only_str = _ONLY_STR

    def fast(pairs: Iterable[tuple[Any, Any]], depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, av in pairs:
            if type(av) is not dict:
                raise TypeError
            (tag,) = av  # ValueError unless exactly one descriptor
            inner = av[tag]
            if tag == "S" and type(inner) is str:
                out[key] = inner
            elif tag == "N" and type(inner) is str:
                if inner.isdigit() and len(inner) <= max_digits and inner.isascii():
                    out[key] = whole(inner)
                elif (
                    (digits := inner.replace(".", "", 1)).isdigit()
                    and len(digits) <= max_digits
                    and digits.isascii()
                    and inner[-1] not in "0."  # so auto's int-or-Decimal is plain to see
                ):
                    out[key] = fraction(inner)
                else:
                    out[key] = number(inner)
            elif tag == "M" and type(inner) is dict and depth < max_depth:
                out[key] = fast(inner.items(), depth + 1)
            elif tag == "BOOL" and type(inner) is bool:
                out[key] = inner
            elif tag == "NULL" and inner is True:
                out[key] = None
            elif tag == "L" and type(inner) is list and depth < max_depth:
                out[key] = list(fast(enumerate(inner), depth + 1).values())
            elif (
                tag == "SS"
                and type(inner) is list
                and set(map(type, inner)) == only_str
                and len(members := set(inner)) == len(inner)
            ):
                out[key] = members
            elif (
                tag == "NS"
                and type(inner) is list
                and set(map(type, inner)) == only_str
                and len(text := "".join(inner)) <= max_digits
                and text.isdigit()
                and text.isascii()
                and len(members := set(map(whole, inner))) == len(inner)
            ):
                out[key] = members  # an empty member raises in whole(): the slow path explains
            elif tag == "B" and type(inner) is str:
                out[key] = strict_base64(inner)
            else:
                out[key] = _slow_value(av, number, depth)
        return out

    return _Decoder(fast, number)


_DECODERS: dict[str, _Decoder] = {
    "auto": _make_decoder(_number_auto, int, Decimal),
    "decimal": _make_decoder(_number_decimal, Decimal, Decimal),
    "float": _make_decoder(_number_float, float, float),
}


def _decoder(numbers: str) -> _Decoder:
    try:
        return _DECODERS[numbers]
    except KeyError:
        raise ValueError(f"numbers must be 'auto', 'decimal' or 'float', got {numbers!r}") from None


def deserialize(attribute_value: Mapping[str, Any], *, numbers: NumberMode = "auto") -> Any:
    """Decode one DynamoDB AttributeValue into a Python value.

    Args:
        attribute_value: an object with one type descriptor, e.g. ``{"N": "42"}``.
        numbers: ``"auto"`` (int or Decimal), ``"decimal"`` or ``"float"`` (lossy).

    Returns:
        The Python value: see the module's table.

    Raises:
        AttributeDecodeError: the value is malformed; its ``path`` says where.

    >>> deserialize({"M": {"score": {"N": "30"}, "tags": {"SS": ["a"]}}})
    {'score': 30, 'tags': {'a'}}
    >>> deserialize({"N": "0.375"})
    Decimal('0.375')
    """
    try:
        return _decoder(numbers).value(attribute_value, 0)
    except _Fail as fail:
        raise AttributeDecodeError(fail.path(""), fail.reason) from None


def deserialize_item(
    image: Mapping[str, Any], *, numbers: NumberMode = "auto", path: str = ""
) -> dict[str, Any]:
    """Decode an item (a map of attribute names to AttributeValues), e.g. a ``NewImage``.

    Args:
        image: the item in wire form.
        numbers: ``"auto"`` (int or Decimal), ``"decimal"`` or ``"float"`` (lossy).
        path: a prefix for error paths, e.g. ``"NewImage"``.

    Returns:
        A new ``dict`` of attribute names to Python values.

    Raises:
        AttributeDecodeError: an attribute is malformed; its ``path`` says which.

    >>> deserialize_item({"PK": {"S": "USER#7"}, "total": {"N": "40"}})
    {'PK': 'USER#7', 'total': 40}
    """
    decoder = _decoder(numbers)
    if type(image) is not dict:
        if not isinstance(image, Mapping):
            reason = f"an item must be an object, got {_json_type(image)}"
            raise AttributeDecodeError(path, reason)
        image = dict(image)
    try:
        return decoder.mapping(image, 0)
    except _Fail as fail:
        raise AttributeDecodeError(fail.path(path), fail.reason) from None


def _decode_image(image: Any, numbers: str, path: str) -> dict[str, Any]:
    """:func:`deserialize_item` without its argument checks, for records' hot path."""
    if type(image) is not dict:
        return deserialize_item(image, numbers=numbers, path=path)  # type: ignore[arg-type]
    try:
        return _DECODERS[numbers].mapping(image, 0)
    except _Fail as fail:
        raise AttributeDecodeError(fail.path(path), fail.reason) from None


def _decode_or_none(image: dict[str, Any], numbers: str) -> dict[str, Any] | None:
    """``image`` decoded by the fast path alone, or ``None`` if it holds anything wrong.

    For records, which decode keys when they are made and leave a malformed one to raise
    its error where it always has: on first read of ``keys``.
    """
    try:
        return _DECODERS[numbers].fast(image.items(), 0)
    except _FAST_FAILURES:
        return None


def _decode_attribute(av: Any, numbers: str, path: str, name: str) -> Any:
    """Decode one attribute of an image; errors carry ``path.name``. Used by records.

    A single text or small integer, what a handler reads most, is taken here directly:
    the decoder's container loop is the larger share of one value's cost.
    """
    if type(av) is dict and len(av) == 1:
        inner = av.get("S")
        if type(inner) is str:
            return inner
        inner = av.get("N")
        if (
            numbers == "auto"
            and type(inner) is str
            and inner.isdigit()
            and len(inner) <= _MAX_DIGITS
            and inner.isascii()
        ):
            return int(inner)
    try:
        return _DECODERS[numbers].value(av, 0)
    except _Fail as fail:
        fail.trail.append(_name_segment(name))
        raise AttributeDecodeError(fail.path(path), fail.reason) from None


# --- encoding -----------------------------------------------------------------------------


def _encode_number(value: int | float | Decimal) -> str:
    if type(value) is int:
        if -(10**_MAX_DIGITS) < value < 10**_MAX_DIGITS:
            return str(value)
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise _Fail(f"{value!r} has no DynamoDB form: numbers must be finite")
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


def _encode(value: Any, depth: int, binary: str) -> dict[str, Any]:
    if isinstance(value, str):
        # the text itself: str() of a (str, Enum) member is its name, "Color.RED"
        return {"S": _plain_str(value)}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": _encode_number(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": _encode_binary(value, binary)}
    if isinstance(value, Mapping):
        if depth >= MAX_NESTING_DEPTH:
            raise _Fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Fail(f"map keys must be strings, got {type(key).__name__} {key!r}")
            try:
                out[_plain_str(key)] = _encode(item, depth + 1, binary)
            except _Fail as fail:
                fail.trail.append(_name_segment(key))
                raise
        return {"M": out}
    if isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING_DEPTH:
            raise _Fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_encode(item, depth + 1, binary))
            except _Fail as fail:
                fail.trail.append(f"[{index}]")
                raise
        return {"L": items}
    if isinstance(value, (set, frozenset)):
        return _encode_set(value, binary)
    hint = ""
    if hasattr(value, "isoformat"):
        hint = "; store dates and times as ISO-8601 text or epoch numbers"
    raise _Fail(f"{type(value).__name__} has no DynamoDB form{hint}")


def _encode_binary(value: bytes | bytearray | memoryview, binary: str) -> bytes | str:
    data = bytes(value)
    if binary == "base64":
        return binascii.b2a_base64(data, newline=False).decode("ascii")
    return data


def _encode_set(value: set[Any] | frozenset[Any], binary: str) -> dict[str, Any]:
    if not value:
        raise _Fail("empty set; DynamoDB sets hold at least one member")
    kinds = {_set_kind(member) for member in value}
    if len(kinds) != 1:
        raise _Fail("set mixes types; a DynamoDB set holds only strings, numbers or binary")
    (kind,) = kinds
    members: list[Any]
    if kind == "SS":
        members = sorted(map(_plain_str, value))
    elif kind == "NS":
        members = [_encode_number(member) for member in value]
        if len({Decimal(text) for text in members}) != len(members):
            raise _Fail("number set has duplicate members once written as DynamoDB numbers")
        members.sort(key=Decimal)
    else:
        # by content: a memoryview and bytes do not compare with "<"
        members = [_encode_binary(member, binary) for member in sorted(map(bytes, value))]
    return {kind: members}


def _set_kind(member: object) -> str:
    if isinstance(member, str):
        return "SS"
    if isinstance(member, (int, float, Decimal)) and not isinstance(member, bool):
        return "NS"
    if isinstance(member, (bytes, bytearray, memoryview)):
        return "BS"
    raise _Fail(f"set member {member!r} is not a string, number or bytes")


def _check_binary_mode(binary: str) -> None:
    if binary not in ("bytes", "base64"):
        raise ValueError(f"binary must be 'bytes' or 'base64', got {binary!r}")


def serialize(value: Any, *, binary: BinaryMode = "bytes") -> dict[str, Any]:
    """Encode a Python value as a DynamoDB AttributeValue.

    ``str`` becomes ``S``; ``bool`` ``BOOL``; ``int``, ``Decimal`` and finite ``float``
    ``N``, written as DynamoDB stores it (no exponent, no trailing zeros; a float read as its
    shortest round-trip text); ``None`` ``NULL``; bytes
    ``B``; mappings ``M``; lists and tuples ``L``; non-empty sets of one kind ``SS``, ``NS``
    or ``BS`` (written in sorted order).

    Args:
        value: the value to encode.
        binary: ``"bytes"`` for boto3 calls, ``"base64"`` for the JSON of a Lambda event.

    Returns:
        The AttributeValue, a one-key ``dict``.

    Raises:
        AttributeEncodeError: the value, or something inside it, has no DynamoDB form (an
            empty or mixed set, NaN, a number out of DynamoDB's range, a ``datetime``...).

    >>> serialize({"score": 30, "tags": {"b", "a"}})
    {'M': {'score': {'N': '30'}, 'tags': {'SS': ['a', 'b']}}}
    """
    _check_binary_mode(binary)
    try:
        return _encode(value, 0, binary)
    except _Fail as fail:
        raise AttributeEncodeError(fail.path(""), fail.reason) from None


def serialize_item(item: Mapping[str, Any], *, binary: BinaryMode = "bytes") -> dict[str, Any]:
    """Encode a mapping of attribute names to Python values as a DynamoDB item.

    Args:
        item: attribute names to values.
        binary: ``"bytes"`` for boto3 calls, ``"base64"`` for the JSON of a Lambda event.

    Returns:
        A new ``dict`` of attribute names to AttributeValues.

    Raises:
        AttributeEncodeError: an attribute has no DynamoDB form; its ``path`` says which.

    >>> serialize_item({"PK": "USER#7", "total": 40})
    {'PK': {'S': 'USER#7'}, 'total': {'N': '40'}}
    """
    _check_binary_mode(binary)
    if not isinstance(item, Mapping):
        raise AttributeEncodeError("", f"an item must be a mapping, got {type(item).__name__}")
    out = {}
    for name, value in item.items():
        if not isinstance(name, str):
            raise AttributeEncodeError("", f"attribute names must be strings, got {name!r}")
        try:
            out[_plain_str(name)] = _encode(value, 0, binary)
        except _Fail as fail:
            fail.trail.append(_name_segment(name))
            raise AttributeEncodeError(fail.path(""), fail.reason) from None
    return out


# --- sizes --------------------------------------------------------------------------------


def item_size(item: Mapping[str, Any]) -> int:
    """The size DynamoDB bills for an item, by its documented sizing rules.

    Each attribute counts its name's UTF-8 bytes plus its value: strings their UTF-8 bytes,
    binary its bytes, numbers one byte per two significant digits plus one, booleans and
    nulls one byte, sets the sum of their members, and maps and lists three bytes plus one
    byte and the size of each element (names included for maps). The result is what write
    and read capacity units are computed from (1 WCU per started KB).

    Args:
        item: attribute names to Python values (as :func:`deserialize_item` returns).

    Returns:
        The size in bytes.

    Raises:
        AttributeEncodeError: a value has no DynamoDB form.

    >>> item_size({"PK": "USER#7", "total": 40})
    15
    """
    try:
        return sum(len(name.encode()) + _value_size(value) for name, value in item.items())
    except _Fail as fail:
        raise AttributeEncodeError(fail.path(""), fail.reason) from None


def _value_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float, Decimal)):
        digits = Decimal(_encode_number(value)).normalize().as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(bytes(value))
    if isinstance(value, Mapping):
        return 3 + sum(len(str(k).encode()) + _value_size(v) + 1 for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return 3 + sum(_value_size(v) + 1 for v in value)
    if isinstance(value, (set, frozenset)):
        return sum(_value_size(v) for v in value)
    raise _Fail(f"{type(value).__name__} has no DynamoDB form")
