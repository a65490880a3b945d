"""Internal: the converters that :mod:`streamflow.models._compile` picks per annotation.

A converter takes a decoded value and returns the field's value, or raises :class:`Invalid`
carrying ``(path, reason)`` pairs. Paths are relative (``""``, ``".name"``, ``"[2]"``) and
grow while the failure unwinds, as in :mod:`streamflow.codec`; containers try every member,
so one ``Invalid`` holds every problem below it. Each :class:`Compiled` annotation also names
the *exact* classes it keeps unchanged, so plain ``str`` and ``int`` values skip the call.

The module runs a little over the 400-line guide on purpose: it is one flat list of small
converters, one per kind of annotation, and splitting it would only scatter them.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NoReturn

from streamflow.errors import _name_segment, _shown, _Signal

__all__ = [
    "MISSING",
    "SCALARS",
    "Compiled",
    "Converter",
    "Invalid",
    "describe",
    "enumeration",
    "fixed_tuple",
    "literal",
    "mapping",
    "sequence",
    "set_of",
    "show",
    "union",
]

MISSING = "required attribute is missing"
"""The reason given for a field with no default whose attribute the item lacks."""

Converter = Callable[[Any], Any]
"""A compiled converter: a decoded value in, the field's value out, or :class:`Invalid`."""

_NoneType = type(None)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_FLOAT_MAX = 1.7976931348623157e308
_INT_DIGITS = 4300  # Python's own int() limit on text: a Decimal past it is not an int here


class Invalid(_Signal):
    """Internal: one or more ``(relative path, reason)`` problems found in a value."""

    __slots__ = ("problems",)

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(problems)
        self.problems = problems


@dataclasses.dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled annotation: ``fn`` (None: pass anything through) and classes it keeps as-is.

    Callers test ``value.__class__ in exact`` first and call ``fn`` only when that fails, so
    ``fn`` never sees an exact value (``Optional[X]`` relies on it: None is in ``exact``).
    """

    fn: Converter | None
    exact: frozenset[type]


_PASS = Compiled(None, frozenset())


# --- messages ---------------------------------------------------------------------------------


def fail(reason: str) -> NoReturn:
    raise Invalid([("", reason)])


def kind(value: object) -> str:
    if value is None:
        return "None (use Optional[...] to allow it)"
    return type(value).__name__


def show(value: object) -> str:
    """A value as a message shows it: at most 40 characters, never raising."""
    return _shown(value, 40)


def _number(value: Decimal) -> str:
    """A Decimal as messages show it: its text, at most 40 characters."""
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(tp: object) -> str:
    """An annotation as messages show it: ``int``, ``list[str]``, ``int | None``."""
    origin = typing.get_origin(tp)
    if origin is typing.Union or origin is types.UnionType:
        return " | ".join(describe(arg) for arg in typing.get_args(tp))
    if tp is None or tp is _NoneType:
        return "None"
    if isinstance(tp, type) and origin is None:
        return tp.__name__
    return repr(tp).replace("typing.", "").replace("decimal.", "").replace("datetime.", "")


# --- scalars ----------------------------------------------------------------------------------


def _str(value: Any) -> str:
    if isinstance(value, str):
        return value
    fail(f"expected str, got {kind(value)}")


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    fail(f"expected bytes, got {kind(value)}")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    fail(f"expected bool, got {kind(value)}")


def _none(value: Any) -> None:
    if value is not None:
        fail(f"expected None, got {kind(value)}")


def _int(value: Any) -> int:
    if isinstance(value, Decimal):
        whole = _whole(value)
        if whole is not None:
            return whole
        if value.is_finite() and value == value.to_integral_value():
            fail(f"expected int, got number {_number(value)} of more than {_INT_DIGITS} digits")
        fail(f"expected int, got non-integral number {_number(value)}")
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        fail(f"expected int, got non-integral number {value!r}")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    fail(f"expected int, got {kind(value)}")


def _whole(value: Decimal | float) -> int | None:
    """``value`` as an ``int`` if it is a whole number of at most 4,300 digits, else None
    (``int()`` of ``Decimal("1E+999999999999999999")`` would try to fill the memory)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if value.is_finite() and value.adjusted() < _INT_DIGITS and value == value.to_integral_value():
        return int(value)
    return None


def _float(value: Any) -> float:
    if isinstance(value, float):
        return value
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        try:
            result = float(value)
        except OverflowError:  # an int past 1.8e308 (a Decimal becomes inf instead)
            pass
        else:
            if -_FLOAT_MAX <= result <= _FLOAT_MAX:
                return result
        fail(f"number {show(value)} does not fit a float")
    fail(f"expected float, got {kind(value)}")


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))  # the float's shortest text: 0.1 -> Decimal('0.1')
    fail(f"expected Decimal, got {kind(value)}")


def _datetime(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            result = _parse_datetime(value)
        except ValueError:
            fail(f"expected an ISO-8601 datetime, got {show(value)}")
    elif isinstance(value, datetime):
        result = value
    elif isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        try:
            result = _from_epoch(value)
        except (ArithmeticError, ValueError):  # decimal.Overflow is an ArithmeticError
            fail(f"epoch seconds {show(value)} are out of range for a datetime")
    else:
        fail(f"expected ISO-8601 text or epoch seconds, got {kind(value)}")
    if result.tzinfo is None:
        return result.replace(tzinfo=timezone.utc)
    return result


def _parse_datetime(text: str) -> datetime:
    if text.endswith(("Z", "z")):  # fromisoformat accepts "Z" only from Python 3.11
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(_normalise_iso(text))


def _normalise_iso(text: str) -> str:
    """Rewrite forms 3.10's fromisoformat rejects: any count of fraction digits, ``+0000``."""
    import re  # only on this rare path: keeps the import of streamflow.models cheap

    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?(?:[.,](\d+))?(?:([+-]\d{2}):?(\d{2}))?",
        text,
    )
    if match is None:
        raise ValueError(text)
    day, minutes, seconds, fraction, offset_hours, offset_minutes = match.groups()
    out = f"{day}T{minutes}{seconds or ':00'}"
    if fraction:
        out += "." + fraction[:6].ljust(6, "0")
    if offset_hours:
        out += f"{offset_hours}:{offset_minutes}"
    return out


def _from_epoch(value: int | float | Decimal) -> datetime:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(value)
        micros = int((value * 1_000_000).to_integral_value())
        return _EPOCH + timedelta(microseconds=micros)
    return _EPOCH + timedelta(seconds=value)


def _date(value: Any) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            fail(f"expected an ISO-8601 date, got {show(value)}")
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    fail(f"expected ISO-8601 date text, got {kind(value)}")


SCALARS: dict[object, Compiled] = {
    str: Compiled(_str, frozenset({str})),
    int: Compiled(_int, frozenset({int})),
    float: Compiled(_float, frozenset({float})),
    Decimal: Compiled(_decimal, frozenset({Decimal})),
    bytes: Compiled(_bytes, frozenset({bytes})),
    bool: Compiled(_bool, frozenset({bool})),
    None: Compiled(_none, frozenset({_NoneType})),
    _NoneType: Compiled(_none, frozenset({_NoneType})),
    datetime: Compiled(_datetime, frozenset()),
    date: Compiled(_date, frozenset()),
    Any: _PASS,
    object: _PASS,
}


# --- choices: Literal and Enum ----------------------------------------------------------------


def _choice(table: Mapping[tuple[type, object], object], expected: str) -> Converter:
    """Look ``(class, value)`` up in ``table``, so ``True`` never matches ``1``."""

    def convert(value: Any) -> Any:
        try:
            found = table.get((value.__class__, value), table)
            if found is table and isinstance(value, (Decimal, float)):
                whole = _whole(value)
                if whole is not None:
                    found = table.get((int, whole), table)
        except (TypeError, ValueError, OverflowError):  # unhashable, NaN or infinite
            found = table
        if found is table:
            fail(f"expected {expected}, got {show(value)}")
        return found

    return convert


def literal(tp: object) -> Compiled:
    """``Literal[...]``: one of the listed values, of the same type (``True`` is not ``1``)."""
    table: dict[tuple[type, object], object] = {}
    for choice in typing.get_args(tp):
        table[(type(choice), choice)] = choice
        if isinstance(choice, enum.Enum):
            table.setdefault((type(choice.value), choice.value), choice)
    shown = ", ".join(repr(choice) for choice in typing.get_args(tp))
    return Compiled(_choice(table, f"one of {shown}"), frozenset())


def enumeration(tp: type[enum.Enum]) -> Compiled:
    """An Enum, by member value; then the enum's own ``_missing_`` hook, if it has one."""
    table = {(type(member.value), member.value): member for member in tp}
    expected = f"a value of {tp.__name__} ({', '.join(repr(value) for _, value in table)})"
    lookup = _choice(table, expected)
    has_bools = any(isinstance(member.value, bool) for member in tp)

    def convert(value: Any) -> Any:
        try:
            return lookup(value)
        except Invalid:
            if isinstance(value, bool) and not has_bools:
                raise
            try:  # the enum's own _missing_ hook may know the value
                return tp(value)
            except (ValueError, TypeError):
                raise Invalid([("", f"expected {expected}, got {show(value)}")]) from None

    return Compiled(convert, frozenset())


# --- unions -----------------------------------------------------------------------------------


def union(members: list[Compiled], *, nullable: bool, expected: str) -> Compiled:
    """``X | Y | ...``: an exact class match passes; otherwise each member, left to right."""
    if any(member.fn is None for member in members):
        return _PASS
    exact = frozenset().union(*(member.exact for member in members))
    if nullable:
        exact |= {_NoneType}

    if len(members) == 1:  # Optional[X]: None is in ``exact``; anything else is X's to judge
        return Compiled(members[0].fn, exact)
    functions = [member.fn for member in members if member.fn is not None]

    def convert(value: Any) -> Any:
        # An exact class match returns before this is called; otherwise left to right.
        failures: list[list[tuple[str, str]]] = []
        for fn in functions:
            try:
                return fn(value)
            except Invalid as invalid:
                failures.append(invalid.problems)
        deep = [problems for problems in failures if any(path for path, _ in problems)]
        if len(deep) == 1:  # only one member got past the outer shape: its problems help most
            raise Invalid(deep[0])
        fail(f"expected {expected}, got {kind(value)}")

    return Compiled(convert, exact)


# --- containers -------------------------------------------------------------------------------


def _convert_items(
    values: Any, item: Compiled, out: list[Any], *, show_values: bool = False
) -> list[tuple[str, str]]:
    """Append each converted value to ``out``; return the problems (``[i]`` or by value)."""
    fn, exact = item.fn, item.exact
    problems: list[tuple[str, str]] = []
    append = out.append
    for index, value in enumerate(values):
        if fn is None or value.__class__ in exact:
            append(value)
            continue
        try:
            append(fn(value))
        except Invalid as invalid:
            if show_values:  # set members have no index; name the member instead
                problems.extend(
                    ("", f"member {show(value)}: {reason}") for _, reason in invalid.problems
                )
            else:
                problems.extend((f"[{index}]{path}", reason) for path, reason in invalid.problems)
    return problems


def sequence(item: Compiled, result: type[Any], expected: str) -> Compiled:
    """``list[T]``, ``Sequence[T]``, ``tuple[T, ...]``: a list (or tuple) in, ``result`` out."""

    fn, exact = item.fn, item.exact

    def convert(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            hint = " (use set[...] or frozenset[...] for a DynamoDB set)"
            fail(f"expected {expected}, got {kind(value)}" + (hint if _is_set(value) else ""))
        if fn is None or _all_exact(value, exact):  # the common case: copy, convert nothing
            return result(value)
        out: list[Any] = []
        problems = _convert_items(value, item, out)
        if problems:
            raise Invalid(problems)
        return out if result is list else result(out)

    return Compiled(convert, frozenset())


def _all_exact(values: Any, exact: frozenset[type]) -> bool:
    for value in values:  # noqa: SIM110 (a loop beats all() over a generator here)
        if value.__class__ not in exact:
            return False
    return True


def _is_set(value: object) -> bool:
    return isinstance(value, (set, frozenset))


def set_of(item: Compiled, result: type[Any], expected: str) -> Compiled:
    """``set[T]``, ``frozenset[T]``: a DynamoDB set or a list in, ``result`` out."""

    def convert(value: Any) -> Any:
        if not isinstance(value, (set, frozenset, list, tuple)):
            fail(f"expected {expected} (a DynamoDB set or list), got {kind(value)}")
        if item.fn is None or _all_exact(value, item.exact):
            try:
                return result(value)
            except TypeError as error:
                fail(f"members must be hashable: {error}")
        out: list[Any] = []
        is_set = _is_set(value)
        problems = _convert_items(value, item, out, show_values=is_set)
        if problems:  # a set's order is arbitrary: sort its problems to keep messages stable
            raise Invalid(sorted(problems) if is_set else problems)
        try:
            return result(out)
        except TypeError as error:
            fail(f"members must be hashable: {error}")

    return Compiled(convert, frozenset())


def fixed_tuple(items: list[Compiled], expected: str) -> Compiled:
    """``tuple[A, B]``: a list of exactly that many values, each converted by its own item."""

    def convert(value: Any) -> Any:
        if not isinstance(value, (list, tuple)):
            fail(f"expected {expected}, got {kind(value)}")
        if len(value) != len(items):
            fail(f"expected {expected} with {len(items)} items, got {len(value)}")
        out: list[Any] = []
        problems: list[tuple[str, str]] = []
        for index, (item, member) in enumerate(zip(items, value, strict=True)):
            if item.fn is None or member.__class__ in item.exact:
                out.append(member)
                continue
            try:
                out.append(item.fn(member))
            except Invalid as invalid:
                problems.extend((f"[{index}]{path}", reason) for path, reason in invalid.problems)
        if problems:
            raise Invalid(problems)
        return tuple(out)

    return Compiled(convert, frozenset())


def mapping(item: Compiled, expected: str) -> Compiled:
    """``dict[str, T]``, ``Mapping[str, T]``: a map in, a new ``dict`` out."""

    fn, exact = item.fn, item.exact

    def convert(value: Any) -> Any:
        if not isinstance(value, Mapping):
            fail(f"expected {expected}, got {kind(value)}")
        out: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for key, member in value.items():
            if not isinstance(key, str):
                problems.append(("", f"key {show(key)} is not a str"))
            elif fn is None or member.__class__ in exact:
                out[key] = member
            else:
                try:
                    out[key] = fn(member)
                except Invalid as invalid:
                    segment = _name_segment(key)
                    problems.extend((segment + path, reason) for path, reason in invalid.problems)
        if problems:
            raise Invalid(problems)
        return out

    return Compiled(convert, frozenset())
