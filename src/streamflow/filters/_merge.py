"""Fitting many routes' filters into a mapping's 5 (or 10): patterns that differ in one field's
list of values are merged into one pattern whose list holds both.

Within a pattern, the fields are AND-ed and each field's list is OR-ed. Two patterns equal
but for the list at one path ``p`` match ``A and (p in L1)`` and ``A and (p in L2)``; their OR
is ``A and (p in L1 + L2)``: one pattern, the same records. Only lists of plain values and of
``prefix``/``suffix``/``equals-ignore-case`` rules are merged, whose elements are OR-ed
alternatives whatever else the list holds; patterns with ``$or`` are left as they are.
"""

from __future__ import annotations

from streamflow.filters._filter import Filter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

__all__ = ["merge_filters"]

_MERGEABLE_RULES = frozenset({"prefix", "suffix", "equals-ignore-case"})


def merge_filters(filters: Sequence[Filter], limit: int) -> list[Filter]:
    """``filters`` with pairs merged while there are more than ``limit`` of them and two
    can be merged; the result matches exactly the records ``filters`` match.

    >>> from streamflow.filters import prefix
    >>> merged = merge_filters(
    ...     [Filter.insert().key("PK", prefix("A#")), Filter.insert().key("PK", prefix("B#"))], 1
    ... )
    >>> merged[0].pattern["dynamodb"]
    {'Keys': {'PK': {'S': [{'prefix': 'A#'}, {'prefix': 'B#'}]}}}
    """
    out = list(filters)
    while len(out) > limit:
        pair = _mergeable_pair(out)
        if pair is None:
            break
        first, second, merged = pair
        out[first] = merged
        del out[second]
    return out


def _mergeable_pair(filters: list[Filter]) -> tuple[int, int, Filter] | None:
    for first in range(len(filters)):
        for second in range(first + 1, len(filters)):
            pattern = _merged(filters[first].pattern, filters[second].pattern)
            if pattern is not None:
                try:
                    return first, second, Filter.from_pattern(pattern)
                except ValueError:  # past the 4096-character limit: leave the pair
                    continue
    return None


def _merged(left: Any, right: Any) -> Any:
    """The one pattern equal to ``left OR right``, when they differ in one list; else None."""
    if not isinstance(left, dict) or not isinstance(right, dict) or left.keys() != right.keys():
        return None
    if "$or" in left:
        return None
    differing = [key for key in left if left[key] != right[key]]
    if len(differing) != 1:
        return None
    [key] = differing
    a, b = left[key], right[key]
    if isinstance(a, list) and isinstance(b, list):
        if not (_mergeable(a) and _mergeable(b)):
            return None
        combined = list(a) + [value for value in b if value not in a]
        return {**left, key: combined}
    inner = _merged(a, b)
    return None if inner is None else {**left, key: inner}


def _mergeable(values: list[Any]) -> bool:
    for value in values:
        if isinstance(value, dict):
            if len(value) != 1 or next(iter(value)) not in _MERGEABLE_RULES:
                return False
        elif isinstance(value, list):
            return False
    return True
