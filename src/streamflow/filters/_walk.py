"""The general matcher: every route, every array element, array consistency, any depth.

The fast probes in ``_compile.py`` answer most records with a few ``dict.get`` calls; when
they meet an array on the way, a dotted key in the record, or a value of a type they do not
know, they hand the whole branch to :func:`match_branch` here.

Semantics (AWS's engine, ``rulesForJSONEvent``): the record is seen as a list of leaf
fields ``(dotted path, value)``, each remembering which element of which array it came from.
A branch matches when every value field can pick a matching leaf such that any two picks
agree on the element of every array they both pass through, and every ``exists: false``
field finds no leaf that agrees with the picks of the value fields that sort *before* it
(the engine walks fields in sorted path order, so only those constrain it).

Nothing here recurses in Python: nested walks are generators driven by :func:`run`, so a
record nested 100,000 levels deep is just a longer list.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from itertools import product
from typing import Any

from streamflow.filters._leaf import LEAF_TYPES

__all__ = ["Absent", "Step", "Wanted", "leaves_at", "match_branch", "routes", "run"]

Wanted = tuple[int, "str | None", Callable[[Any], bool]]
"""A value field still looking for its leaf: (sort index, remaining path, test)."""
Absent = tuple[int, "str | None"]
"""An ``exists: false`` field: (sort index, remaining path). ``None`` path: this node."""
Step = Generator[tuple[Any, list[Wanted], list[Absent]], bool, bool]


def routes(node: dict[str, Any], remaining: str) -> list[tuple[str, str | None]]:
    """The keys of ``node`` that lead along ``remaining`` and what is left after each.

    A pattern path ``a.b.c`` is reached through a key ``a`` (then ``b.c``), a key ``a.b``
    (then ``c``) or a key ``a.b.c`` (then nothing, ``None``): dots in keys and nesting are
    the same thing to AWS.
    """
    found: list[tuple[str, str | None]] = []
    if len(node) <= remaining.count("."):
        # Fewer keys than candidate prefixes (long paths): test each key instead.
        for key in node:
            if not isinstance(key, str) or not remaining.startswith(key):
                continue
            size = len(key)
            if size == len(remaining):
                found.append((key, None))
            elif remaining[size] == ".":
                found.append((key, remaining[size + 1 :]))
        found.sort(key=lambda route: len(route[0]))
        return found
    dot = remaining.find(".")
    while dot >= 0:
        key = remaining[:dot]
        if key in node:
            found.append((key, remaining[dot + 1 :]))
        dot = remaining.find(".", dot + 1)
    if remaining in node:
        found.append((remaining, None))
    return found


def _step(node: Any, wanted: list[Wanted], absent: list[Absent]) -> Step:
    """Can the fields ``wanted`` and ``absent`` be satisfied together inside ``node``?"""
    if isinstance(node, dict):
        if any(rest is None for _, rest, _ in wanted):
            return False  # an object is not a leaf
        absent = [a for a in absent if a[1] is not None]
        choices = []
        for field in wanted:
            options = routes(node, field[1])  # type: ignore[arg-type]
            if len(options) > 1:
                # Dotted keys offer several routes. Keep those where the field can match
                # on its own: a route it fails alone it fails in any company, and without
                # this a field that fails everywhere would multiply the combinations tried
                # below (2**n for n fields with two routes each).
                kept = []
                for key, rest in options:
                    if (yield node[key], [(field[0], rest, field[2])], []):
                        kept.append((key, rest))
                options = kept
            if not options:
                return False
            choices.append(options)
        absent_routes = [(index, routes(node, rest)) for index, rest in absent]  # type: ignore[arg-type]
        for choice in product(*choices):
            groups: dict[str, tuple[list[Wanted], list[Absent]]] = {}
            for (index, _, test), (key, rest) in zip(wanted, choice, strict=True):
                groups.setdefault(key, ([], []))[0].append((index, rest, test))
            for index, options in absent_routes:
                for key, rest in options:
                    groups.setdefault(key, ([], []))[1].append((index, rest))
            for key, (group_wanted, group_absent) in groups.items():
                if not (yield node[key], group_wanted, group_absent):
                    break
            else:
                return True
        return False
    if isinstance(node, list):
        # All value fields that reach this array must use the same element. An exists:false
        # field is held to that element only if a value field sorting before it is here too;
        # otherwise a leaf in any element counts against it.
        first = min((index for index, _, _ in wanted), default=None)
        free = [a for a in absent if first is None or a[0] < first]
        if free:
            for element in node:
                if not (yield element, [], free):
                    return False
        if not wanted:
            return True
        held = [a for a in absent if first is not None and a[0] > first]
        for element in node:
            if (yield element, wanted, held):
                return True
        return False
    if type(node) in LEAF_TYPES:
        for _, rest, test in wanted:
            if rest is not None or not test(node):
                return False
        return all(rest is not None for _, rest in absent)
    return not wanted  # a value of an unknown type holds no leaves


def run(node: Any, wanted: list[Wanted], absent: list[Absent]) -> bool:
    """Evaluate :func:`_step` with an explicit stack instead of Python recursion."""
    stack: list[Step] = [_step(node, wanted, absent)]
    answer: bool | None = None
    while True:
        try:
            request = next(stack[-1]) if answer is None else stack[-1].send(answer)
        except StopIteration as stop:
            stack.pop()
            if not stack:
                return bool(stop.value)
            answer = bool(stop.value)
        else:
            stack.append(_step(*request))
            answer = None


def match_branch(record: Any, modes: list[tuple[list[Wanted], list[Absent]]]) -> bool:
    """True if ``record`` satisfies the branch in any of its ``modes``.

    A field that lists both ``exists: false`` and values can be satisfied either way; each
    mode is one such choice for every field of that kind.
    """
    return any(run(record, wanted, absent) for wanted, absent in modes)


def leaves_at(record: Any, path: str) -> Iterator[Any]:
    """Every leaf the record holds at the dotted ``path`` (all routes, all array elements).

    Yields the :data:`OBJECT` marker for each object found exactly at the path, so callers can
    tell "missing" from "holds an object, not a value".
    """
    stack: list[tuple[Any, str | None]] = [(record, path)]
    while stack:
        node, rest = stack.pop()
        if isinstance(node, list):
            stack.extend((element, rest) for element in reversed(node))
        elif isinstance(node, dict):
            if rest is None:
                yield OBJECT
            else:
                stack.extend((node[key], tail) for key, tail in reversed(routes(node, rest)))
        elif rest is None and type(node) in LEAF_TYPES:
            yield node


class _ObjectMarker:
    def __repr__(self) -> str:
        return "<object>"


OBJECT: Any = _ObjectMarker()
"""Marker yielded by :func:`leaves_at` for an object found where a value was expected."""
