"""Decoding: AttributeValues to Python values (a checked fast path with a validating fallback),
and the small interface records decode images and single attributes through.

A little over 400 lines on purpose: the fast path must accept exactly what the validating
path accepts, and the two are kept side by side so that a change to one is seen with the other
(``tests/test_codec_fast_path.py`` checks that they agree).
"""

from __future__ import annotations

import binascii
import sys
from collections.abc import Mapping
from decimal import Decimal

from streamflow.codec._wire import (
    BASE64_TEXT,
    MAX_DIGITS,
    MAX_NESTING_DEPTH,
    Fail,
    fullmatch,
    json_type,
    number_auto,
    number_decimal,
    number_float,
    plain_str,
    segment,
    shown,
)
from streamflow.errors import AttributeDecodeError

__all__ = [
    "decode_attribute",
    "decode_image",
    "decode_or_none",
    "decoder_for",
    "deserialize",
    "deserialize_item",
]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from streamflow.codec._wire import NumberMode

# --- binary -------------------------------------------------------------------------------


def _binary(value: object) -> bytes:
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        try:
            return _strict_base64(value)
        except (binascii.Error, ValueError):
            raise Fail("invalid base64 text in a binary value") from None
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise Fail(f"binary value must be base64 text or bytes, got {json_type(value)}")


if sys.version_info >= (3, 11):

    def _strict_base64(text: str) -> bytes:
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10 has no strict mode

    def _strict_base64(text: str) -> bytes:
        if len(text) % 4 or not fullmatch(BASE64_TEXT, text):
            raise ValueError("not strict base64")
        return binascii.a2b_base64(text)


# --- decoding: the validating path --------------------------------------------------------


def _slow_value(av: object, number: Callable[[str], Any], depth: int) -> Any:
    """Decode one AttributeValue held at nesting ``depth``, checking everything.

    This is the reference decoder. The fast path hands it every value it is not sure of,
    and redoes a whole image with it when anything looks wrong, so the two cannot disagree
    on what is valid; failures raise ``Fail``, which collects the path while unwinding.
    """
    if not isinstance(av, Mapping) or len(av) != 1:
        raise _shape_failure(av)
    ((tag, inner),) = av.items()
    # Subclasses are welcome here (a StrEnum member, an OrderedDict, a tuple): the fast path
    # takes only the exact JSON types, and hands anything else over.
    if tag == "S":
        if isinstance(inner, str):
            return plain_str(inner)
    elif tag == "N":
        if isinstance(inner, str):
            return number(plain_str(inner))
    elif tag == "BOOL":
        if type(inner) is bool:
            return inner
    elif tag == "NULL":
        if inner is True:
            return None
        raise Fail(f"NULL value must be true, got {shown(inner)}")
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
        if number is number_float:
            # Duplicates are judged on the exact numbers, as DynamoDB does; distinct numbers
            # that round to one float then merge, which is the lossy policy's documented cost.
            return {float(member) for member in _set(tag, inner, _number_text(number_decimal))}
        return _set(tag, inner, _number_text(number))
    elif tag == "BS":
        return _set(tag, inner, _binary)
    else:
        raise Fail(f"unknown type descriptor {shown(tag)}")
    raise Fail(f"{tag} value must be {_EXPECTED[tag]}, got {json_type(inner)}")


def _slow_container(
    pairs: Iterable[tuple[Any, Any]], number: Callable[[str], Any], depth: int
) -> dict[Any, Any]:
    """Decode a map's items, or a list's items keyed by index, with :func:`_slow_value`."""
    out: dict[Any, Any] = {}
    for key, av in pairs:
        try:
            out[key] = _slow_value(av, number, depth)
        except Fail as fail:
            fail.trail.append(segment(key))
            raise
    return out


def _check_depth(depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise Fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")


_EXPECTED = {
    "S": "a string",
    "N": "a string of digits",
    "M": "an object",
    "L": "an array",
    "BOOL": "a boolean",
}


def _shape_failure(av: object) -> Fail:
    if not isinstance(av, Mapping):
        return Fail(f"expected an AttributeValue object, got {json_type(av)}")
    if not av:
        return Fail("empty AttributeValue: no type descriptor")
    keys = ", ".join(sorted(tag if isinstance(tag, str) else shown(tag) for tag in av))
    if len(keys) > 60:
        keys = keys[:57] + "..."
    return Fail(f"AttributeValue must have exactly one type descriptor, got {keys}")


def _string(value: object) -> str:
    if isinstance(value, str):
        return plain_str(value)
    raise Fail(f"string set member must be a string, got {json_type(value)}")


def _number_text(number: Callable[[str], Any]) -> Callable[[object], Any]:
    def member(value: object) -> Any:
        if isinstance(value, str):
            return number(plain_str(value))
        raise Fail(f"number set member must be a string of digits, got {json_type(value)}")

    return member


def _set(tag: str, inner: object, member: Callable[[Any], Any]) -> set[Any]:
    if not isinstance(inner, (list, tuple)):
        raise Fail(f"{tag} value must be an array, got {json_type(inner)}")
    if not inner:
        raise Fail(f"{tag} set is empty; DynamoDB sets hold at least one member")
    out = set()
    for index, item in enumerate(inner):
        try:
            out.add(member(item))
        except Fail as fail:
            fail.trail.append(f"[{index}]")
            raise
    if len(out) != len(inner):
        raise Fail(f"{tag} set has duplicate members")
    return out


# --- decoding: the fast path --------------------------------------------------------------

# What the fast path may raise on input it did not expect; the validating path then redoes
# the whole value and raises the precise error (or, for a value that is valid after all,
# returns it).
_FAST_FAILURES = (Fail, LookupError, TypeError, ValueError, ArithmeticError, AttributeError)
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
    max_digits = MAX_DIGITS
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
    "auto": _make_decoder(number_auto, int, Decimal),
    "decimal": _make_decoder(number_decimal, Decimal, Decimal),
    "float": _make_decoder(number_float, float, float),
}


def decoder_for(numbers: str) -> _Decoder:
    try:
        return _DECODERS[numbers]
    except (KeyError, TypeError):  # TypeError: unhashable
        raise ValueError(
            f"numbers must be 'auto', 'decimal' or 'float', got {shown(numbers)}"
        ) from None


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
        return decoder_for(numbers).value(attribute_value, 0)
    except Fail as fail:
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
    decoder = decoder_for(numbers)
    if type(image) is not dict:
        if not isinstance(image, Mapping):
            reason = f"an item must be an object, got {json_type(image)}"
            raise AttributeDecodeError(path, reason)
        image = dict(image)
    try:
        return decoder.mapping(image, 0)
    except Fail as fail:
        raise AttributeDecodeError(fail.path(path), fail.reason) from None


def decode_image(image: Any, numbers: str, path: str) -> dict[str, Any]:
    """:func:`deserialize_item` without its argument checks, for records' hot path."""
    if type(image) is not dict:
        return deserialize_item(image, numbers=numbers, path=path)  # type: ignore[arg-type]
    try:
        return _DECODERS[numbers].mapping(image, 0)
    except Fail as fail:
        raise AttributeDecodeError(fail.path(path), fail.reason) from None


def decode_or_none(image: dict[str, Any], numbers: str) -> dict[str, Any] | None:
    """``image`` decoded by the fast path alone, or ``None`` if it holds anything wrong.

    For records, which decode keys when they are made and leave a malformed one to raise
    its error where it always has: on first read of ``keys``.
    """
    try:
        return _DECODERS[numbers].fast(image.items(), 0)
    except _FAST_FAILURES:
        return None


def decode_attribute(av: Any, numbers: str, path: str, name: str) -> Any:
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
            and len(inner) <= MAX_DIGITS
            and inner.isascii()
        ):
            return int(inner)
    try:
        return _DECODERS[numbers].value(av, 0)
    except Fail as fail:
        fail.trail.append(segment(name))
        raise AttributeDecodeError(fail.path(path), fail.reason) from None
