"""Encoding: Python values to AttributeValues as DynamoDB stores them, and item sizes."""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from decimal import Decimal

from streamflow.codec._wire import (
    MAX_NESTING_DEPTH,
    Fail,
    encode_number,
    plain_str,
    segment,
    shown,
)
from streamflow.errors import AttributeEncodeError

__all__ = ["item_size", "serialize", "serialize_item"]

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

    from streamflow.codec._wire import BinaryMode


def _encode(value: Any, depth: int, binary: str) -> dict[str, Any]:
    if isinstance(value, str):
        # the text itself: str() of a (str, Enum) member is its name, "Color.RED"
        return {"S": plain_str(value)}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": encode_number(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"B": _encode_binary(value, binary)}
    if isinstance(value, Mapping):
        _check_depth(depth)
        out = {}
        for key, item in value.items():
            name = _map_key(key)
            try:
                out[name] = _encode(item, depth + 1, binary)
            except Fail as fail:
                fail.trail.append(segment(name))
                raise
        return {"M": out}
    if isinstance(value, (list, tuple)):
        _check_depth(depth)
        items = []
        for index, item in enumerate(value):
            try:
                items.append(_encode(item, depth + 1, binary))
            except Fail as fail:
                fail.trail.append(f"[{index}]")
                raise
        return {"L": items}
    if isinstance(value, (set, frozenset)):
        return _encode_set(value, binary)
    hint = ""
    if hasattr(value, "isoformat"):
        hint = "; store dates and times as ISO-8601 text or epoch numbers"
    raise Fail(f"{type(value).__name__} has no DynamoDB form{hint}")


def _check_depth(depth: int) -> None:
    if depth >= MAX_NESTING_DEPTH:
        raise Fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")


def _map_key(key: object) -> str:
    if not isinstance(key, str):
        raise Fail(f"map keys must be strings, got {type(key).__name__} {shown(key)}")
    return plain_str(key)


def _encode_binary(value: bytes | bytearray | memoryview, binary: str) -> bytes | str:
    data = bytes(value)
    if binary == "base64":
        return binascii.b2a_base64(data, newline=False).decode("ascii")
    return data


def _encode_set(value: set[Any] | frozenset[Any], binary: str) -> dict[str, Any]:
    kind = _set_type(value)
    members: list[Any]
    if kind == "SS":
        members = sorted(map(plain_str, value))
    elif kind == "NS":
        members = [encode_number(member) for member in value]
        if len({Decimal(text) for text in members}) != len(members):
            raise Fail("number set has duplicate members once written as DynamoDB numbers")
        members.sort(key=Decimal)
    else:
        # by content: a memoryview and bytes do not compare with "<"
        members = [_encode_binary(member, binary) for member in sorted(map(bytes, value))]
    return {kind: members}


def _set_type(value: set[Any] | frozenset[Any]) -> str:
    """``SS``, ``NS`` or ``BS``: the one kind of every member of a non-empty set."""
    if not value:
        raise Fail("empty set; DynamoDB sets hold at least one member")
    kinds = {_set_kind(member) for member in value}
    if len(kinds) != 1:
        raise Fail("set mixes types; a DynamoDB set holds only strings, numbers or binary")
    return kinds.pop()


def _set_kind(member: object) -> str:
    if isinstance(member, str):
        return "SS"
    if isinstance(member, (int, float, Decimal)) and not isinstance(member, bool):
        return "NS"
    if isinstance(member, (bytes, bytearray, memoryview)):
        return "BS"
    raise Fail(f"set member {shown(member)} is not a string, number or bytes")


def _check_binary_mode(binary: str) -> None:
    if binary not in ("bytes", "base64"):
        raise ValueError(f"binary must be 'bytes' or 'base64', got {shown(binary)}")


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
    except Fail as fail:
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
            raise AttributeEncodeError("", f"attribute names must be strings, got {shown(name)}")
        try:
            out[plain_str(name)] = _encode(value, 0, binary)
        except Fail as fail:
            fail.trail.append(segment(plain_str(name)))
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
        AttributeEncodeError: a value has no DynamoDB form; its ``path`` says which.

    >>> item_size({"PK": "USER#7", "total": 40})
    15
    """
    if not isinstance(item, Mapping):
        raise AttributeEncodeError("", f"an item must be a mapping, got {type(item).__name__}")
    size = 0
    for name, value in item.items():
        if not isinstance(name, str):
            raise AttributeEncodeError("", f"attribute names must be strings, got {shown(name)}")
        try:
            size += _text_size(name) + _value_size(value, 0)
        except Fail as fail:
            fail.trail.append(segment(plain_str(name)))
            raise AttributeEncodeError(fail.path(""), fail.reason) from None
    return size


def _value_size(value: Any, depth: int) -> int:
    """The size of one value, checked as :func:`_encode` checks it (nesting included)."""
    if isinstance(value, str):
        return _text_size(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, (int, float, Decimal)):
        # significant digits, read from the text DynamoDB stores (no decimal context involved)
        digits = len(encode_number(value).lstrip("-").replace(".", "").strip("0")) or 1
        return (digits + 1) // 2 + 1
    if isinstance(value, (bytes, bytearray, memoryview)):
        return len(bytes(value))
    if isinstance(value, Mapping):
        _check_depth(depth)
        size = 3
        for key, item in value.items():
            name = _map_key(key)
            try:
                size += _text_size(name) + _value_size(item, depth + 1) + 1
            except Fail as fail:
                fail.trail.append(segment(name))
                raise
        return size
    if isinstance(value, (list, tuple)):
        _check_depth(depth)
        size = 3
        for index, item in enumerate(value):
            try:
                size += _value_size(item, depth + 1) + 1
            except Fail as fail:
                fail.trail.append(f"[{index}]")
                raise
        return size
    if isinstance(value, (set, frozenset)):
        _set_type(value)
        return sum(_value_size(member, depth + 1) for member in value)
    raise Fail(f"{type(value).__name__} has no DynamoDB form")


def _text_size(text: str) -> int:
    try:
        return len(text.encode())
    except UnicodeEncodeError:  # json.loads reads "\ud800" into such a str
        raise Fail("text holds a lone surrogate, which UTF-8 cannot encode") from None
