"""Why a record does not match: the first failing field of each branch, in words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamflow.filters._compile import CompiledField, CompiledPattern
from streamflow.filters._walk import OBJECT, leaves_at

__all__ = ["Mismatch", "explain"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """Why a record fails one branch of a filter.

    Attributes:
        path: the dotted pattern path that failed, e.g. ``dynamodb.NewImage.status.S``
            (empty when no single field is to blame).
        reason: what the record holds there and why that does not match.
        branch: which ``$or`` alternative this is about (0 for a pattern without ``$or``).

    >>> from streamflow.filters import Filter
    >>> Filter.insert().explain({"eventName": "REMOVE"})[0].path
    'eventName'
    """

    path: str
    reason: str
    branch: int = 0

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


def _show(value: Any, limit: int = 60) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _field_failure(record: Any, field: CompiledField) -> str | None:
    """Why ``field`` cannot be satisfied on its own, or None if it can."""
    test, absent_ok = field.test, field.absent_ok
    found = list(leaves_at(record, field.path))
    leaves = [leaf for leaf in found if leaf is not OBJECT]
    if test is not None and any(test(leaf) for leaf in leaves):
        return None
    if not leaves:
        if absent_ok:
            return None
        if found:
            hint = ""
            if field.path.startswith("dynamodb.") and field.path.count(".") == 2:
                hint = (
                    "; DynamoDB attribute values carry a type descriptor: name it in the path "
                    f"(e.g. {field.path}.S)"
                )
            return f"holds an object, not a value{hint}"
        return "is missing"
    wanted = _show(field.alternatives)
    if test is None:
        return f"must not exist, but the record has {_show(leaves[0])}"
    got = _show(leaves[0]) if len(leaves) == 1 else f"{len(leaves)} values, e.g. {_show(leaves[0])}"
    return f"{got} does not match {wanted}"


def _common_prefix(paths: list[str]) -> str:
    if not paths:
        return ""
    first = paths[0].split(".")
    size = len(first)
    for path in paths[1:]:
        parts = path.split(".")
        size = min(size, len(parts))
        for i in range(size):
            if parts[i] != first[i]:
                size = i
                break
    return ".".join(first[:size])


def explain(compiled: CompiledPattern, record: Any, *, matched: bool) -> list[Mismatch]:
    """One :class:`Mismatch` per branch when the record does not match, else ``[]``."""
    if matched:
        return []
    found: list[Mismatch] = []
    for index, fields in enumerate(compiled.fields):
        for field in fields:
            reason = _field_failure(record, field)
            if reason is not None:
                found.append(Mismatch(field.path, reason, index))
                break
        else:
            found.append(
                Mismatch(
                    _common_prefix([f.path for f in fields]),
                    "each field matches on its own, but not together: values taken from "
                    "different elements of the same array do not combine (array consistency), "
                    "and exists:false also looks at the element the other fields matched in",
                    index,
                )
            )
    return found
