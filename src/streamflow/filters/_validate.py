"""Pattern validation: reject every pattern that Lambda rejects at CreateEventSourceMapping time.

AWS answers a bad pattern with ``InvalidParameterValueException: Invalid filter pattern
definition.`` and nothing more; this module says *where* and *why*, as a
:class:`~streamflow.errors.FilterValidationError` whose ``path`` looks like
``dynamodb.NewImage.status.S[0].numeric``.

The checks of operands (``numeric`` bounds, wildcards, CIDR blocks) live in ``_operands.py``,
shared with the rule factories of ``_rules.py``: the DSL and the JSON front end accept exactly
the same things.
"""

from __future__ import annotations

from collections.abc import Mapping

from streamflow.errors import FilterValidationError
from streamflow.filters._json import compact_json, copy_json, show, utf16_length
from streamflow.filters._operands import (
    check_number,
    check_numeric,
    json_type,
    parse_cidr,
    parse_wildcard,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "MAX_PATTERN_LENGTH",
    "OPERATORS",
    "RESERVED_IN_OR",
    "parse_pattern",
    "validate_pattern",
]

MAX_PATTERN_LENGTH = 4096
"""Longest ``Filter.Pattern`` AWS accepts (Lambda API reference, ``Filter``)."""

OPERATORS = frozenset(
    {
        "prefix",
        "suffix",
        "equals-ignore-case",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
        "wildcard",
    }
)
RESERVED_IN_OR = frozenset(
    {
        "exactly",
        "equals-ignore-case",
        "prefix",
        "suffix",
        "anything-but",
        "exists",
        "wildcard",
        "numeric",
        "cidr",
        "=",
        "<",
        "<=",
        ">",
        ">=",
        "regex",
        "not-wildcard",
        "not-equals-ignore-case",
        "date-after",
        "date-on-or-after",
        "date-before",
        "date-on-or-before",
        "in-date-range",
        "ip-address-in-range",
        "ip-address-not-in-range",
    }
)
"""Names the engine refuses as field names anywhere inside a ``$or`` alternative."""

_ANYTHING_BUT_FORMS = ("prefix", "suffix", "equals-ignore-case", "wildcard")


def _error(path: str, reason: str) -> FilterValidationError:
    return FilterValidationError(path, reason)


# --- operators --------------------------------------------------------------------------------


def _one_key(obj: dict[str, Any], path: str, duplicated: frozenset[int]) -> tuple[str, Any]:
    if len(obj) != 1 or id(obj) in duplicated:
        keys = ", ".join(show(k) for k in obj) or "none"
        raise _error(path, f"an operator object must have exactly one key (found: {keys})")
    return next(iter(obj.items()))


def _check_string(value: object, path: str, operator: str) -> str:
    if not isinstance(value, str):
        raise _error(path, f"{operator} needs a string, not {json_type(value)}")
    return value


def _check_affix(value: object, path: str, operator: str, duplicated: frozenset[int]) -> None:
    """``prefix``/``suffix``: a string, or ``{"equals-ignore-case": "..."}``."""
    if isinstance(value, dict):
        inner, text = _one_key(value, path, duplicated)
        if inner != "equals-ignore-case":
            raise _error(
                f"{path}.{inner}",
                f'{operator} takes a string or {{"equals-ignore-case": "..."}}, not {show(inner)}',
            )
        _check_string(text, f"{path}.{inner}", f"{operator} equals-ignore-case")
        return
    _check_string(value, path, operator)


def _check_anything_but(value: object, path: str, duplicated: frozenset[int]) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        check_number(value, path)
        return
    if isinstance(value, list):
        if not value:
            raise _error(path, "anything-but needs at least one value")
        if all(isinstance(v, str) for v in value):
            return
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            for i, v in enumerate(value):
                check_number(v, f"{path}[{i}]")
            return
        raise _error(
            path,
            "an anything-but list holds only strings or only numbers (no null, booleans, "
            "objects or mixed types)",
        )
    if isinstance(value, dict):
        form, operand = _one_key(value, path, duplicated)
        fpath = f"{path}.{form}"
        if form not in _ANYTHING_BUT_FORMS:
            raise _error(
                fpath,
                f"anything-but accepts a value, a list, or one of "
                f"{', '.join(_ANYTHING_BUT_FORMS)}; not {show(form)}",
            )
        items = operand if isinstance(operand, list) else [operand]
        if isinstance(operand, list) and not operand:
            raise _error(fpath, f"anything-but {form} needs at least one value")
        for i, item in enumerate(items):
            ipath = f"{fpath}[{i}]" if isinstance(operand, list) else fpath
            text = _check_string(item, ipath, f"anything-but {form}")
            if form in ("prefix", "suffix") and not text:
                raise _error(ipath, f"anything-but {form} cannot be empty")
            if form == "wildcard":
                parse_wildcard(text, ipath)
        return
    raise _error(
        path,
        f"anything-but takes a string, a number, a list or an object, not {json_type(value)}",
    )


def _check_operator(obj: dict[str, Any], path: str, duplicated: frozenset[int]) -> None:
    name, value = _one_key(obj, path, duplicated)
    opath = f"{path}.{name}"
    if name not in OPERATORS:
        lowered = name.lower() if isinstance(name, str) else name
        if lowered in OPERATORS:
            reason = f"operator names are case-sensitive: use {show(lowered)}"
        elif name == "exactly":
            reason = '"exactly" is an engine-internal operator that Lambda does not document'
        else:
            known = ", ".join(sorted(OPERATORS))
            reason = f"unknown operator {show(name)} (known: {known})"
        raise _error(opath, reason)
    if name in ("prefix", "suffix"):
        _check_affix(value, opath, name, duplicated)
    elif name == "equals-ignore-case":
        _check_string(value, opath, name)
    elif name == "wildcard":
        parse_wildcard(_check_string(value, opath, name), opath)
    elif name == "cidr":
        parse_cidr(_check_string(value, opath, name), opath)
    elif name == "exists":
        if not isinstance(value, bool):
            raise _error(opath, f"exists takes true or false, not {json_type(value)}")
    elif name == "numeric":
        check_numeric(value, opath)
    else:
        _check_anything_but(value, opath, duplicated)


def _check_values(values: list[Any], path: str, duplicated: frozenset[int]) -> None:
    if not values:
        raise _error(path, "empty arrays are not allowed: list at least one value or operator")
    for i, value in enumerate(values):
        vpath = f"{path}[{i}]"
        if value is None or isinstance(value, (str, bool)):
            continue
        if isinstance(value, (int, float)):
            check_number(value, vpath)
        elif isinstance(value, dict):
            _check_operator(value, vpath, duplicated)
        elif isinstance(value, list):
            raise _error(vpath, "nested arrays are not allowed")
        else:
            raise _error(vpath, f"{type(value).__name__} is not a JSON value")


def validate_pattern(pattern: object, *, duplicated: frozenset[int] = frozenset()) -> None:
    """Raise :class:`FilterValidationError` unless ``pattern`` is a pattern AWS accepts.

    Args:
        pattern: the parsed pattern (a dict).
        duplicated: ids of JSON objects that had a repeated key in the raw text.

    Raises:
        FilterValidationError: with the path of the first problem in document order.
    """
    if not isinstance(pattern, dict):
        raise _error("", f"a filter pattern must be a JSON object, not {json_type(pattern)}")
    # Depth-first in document order, without recursion: patterns may nest deeply.
    stack: list[tuple[dict[str, Any], str, bool]] = [(pattern, "", False)]
    while stack:
        obj, path, in_or = stack.pop()
        if not obj:
            raise _error(path, "empty objects are not allowed")
        children: list[tuple[dict[str, Any], str, bool]] = []
        for key, value in obj.items():
            if not isinstance(key, str):
                raise _error(path, f"object keys must be strings, not {type(key).__name__}")
            kpath = f"{path}.{key}" if path else key
            if key == "$or":
                if not isinstance(value, list) or len(value) < 2:
                    raise _error(kpath, "$or needs an array of at least two objects")
                for i, alternative in enumerate(value):
                    if not isinstance(alternative, dict):
                        raise _error(
                            f"{kpath}[{i}]",
                            f"$or alternatives must be objects, not {json_type(alternative)}",
                        )
                    children.append((alternative, f"{kpath}[{i}]", True))
                continue
            if in_or and key in RESERVED_IN_OR:
                raise _error(
                    kpath,
                    f"{show(key)} is an operator keyword and cannot be a field name inside $or",
                )
            if isinstance(value, dict):
                children.append((value, kpath, in_or))
            elif isinstance(value, list):
                _check_values(value, kpath, duplicated)
            else:
                raise _error(
                    kpath,
                    f"a field must hold an array of values or an object, not a bare "
                    f"{json_type(value)} (write [{show(value)}])",
                )
        stack.extend(reversed(children))


# --- entry point ------------------------------------------------------------------------------


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON")


def parse_pattern(pattern: object) -> tuple[dict[str, Any], str]:
    """Validate a pattern given as a mapping or as JSON text; return it with its compact text.

    Raises:
        FilterValidationError: for anything AWS would reject.
    """
    if isinstance(pattern, (bytes, bytearray)):
        try:
            pattern = pattern.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error("", f"pattern bytes are not UTF-8: {exc}") from None
    if isinstance(pattern, str):
        length = utf16_length(pattern)
        if length > MAX_PATTERN_LENGTH:
            raise _error(
                "", f"the pattern is {length} characters; AWS allows at most {MAX_PATTERN_LENGTH}"
            )
        duplicated: set[int] = set()

        def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            obj = dict(pairs)
            if len(obj) != len(pairs):
                duplicated.add(id(obj))
            return obj

        import json

        try:
            parsed = json.loads(
                pattern, object_pairs_hook=pairs_hook, parse_constant=_reject_constant
            )
        except RecursionError:
            raise _error("", "the pattern nests too deeply") from None
        except ValueError as exc:
            raise _error("", f"invalid JSON: {exc}") from None
        validate_pattern(parsed, duplicated=frozenset(duplicated))
        return parsed, compact_json(parsed)
    if not isinstance(pattern, Mapping):
        raise _error("", f"a pattern is a mapping or its JSON text, not {type(pattern).__name__}")
    if not isinstance(pattern, dict):
        pattern = dict(pattern)
    validate_pattern(pattern)
    try:
        text = compact_json(pattern)
    except RecursionError:
        raise _error("", "the pattern nests too deeply") from None
    length = utf16_length(text)
    if length > MAX_PATTERN_LENGTH:
        raise _error(
            "",
            f"the pattern is {length} characters as compact JSON; AWS allows at most "
            f"{MAX_PATTERN_LENGTH}",
        )
    # An independent copy: later changes to the caller's dict cannot reach the filter.
    return copy_json(pattern), text
