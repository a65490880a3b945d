"""The general matcher: every route, every array element, array consistency, any depth.

The generated matcher (``_codegen.py``) answers most records with a few ``dict.get`` calls;
when it meets an array on the way, a dotted key in the record, or a value of a type it does
not know, it hands the whole branch to :func:`match_branch` here.

Semantics (AWS's engine, ``rulesForJSONEvent``): the record is seen as a list of leaf
fields ``(dotted path, value)``, each remembering which element of which array it came from.
A branch matches when every value field can pick a matching leaf such that any two picks
agree on the element of every array they both pass through, and every ``exists: false``
field finds no leaf that agrees with the picks of the value fields that sort *before* it
(the engine walks fields in sorted path order, so only those constrain it).

Where keys with dots give a field several routes, :func:`solve` takes the question over: it
searches the array elements the fields share, not every way of giving each field a route.
In general the question is NP-complete (a chain of dotted keys "v", "v.v", ... over arrays
can encode 3-SAT), so some records stay exponential in the arrays they chain; never in the
number of fields alone.

Nothing here recurses in Python: nested walks are generators driven by :func:`run`, so a
record nested 100,000 levels deep is just a longer list.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator

from streamflow.filters._leaf import LEAF_TYPES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, TypeAlias

__all__ = ["Absent", "Step", "Wanted", "leaves_at", "match_branch", "routes", "run", "solve"]

Wanted: TypeAlias = "tuple[int, str | None, Callable[[Any], bool]]"
"""A value field still looking for its leaf: (sort index, remaining path, test)."""
Absent: TypeAlias = "tuple[int, str | None]"
"""An ``exists: false`` field: (sort index, remaining path). ``None`` path: this node."""
Step: TypeAlias = "Generator[tuple[Any, list[Wanted], list[Absent]], bool, bool]"


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
        groups: dict[str, tuple[list[Wanted], list[Absent]]] = {}
        for index, rest, test in wanted:
            options = routes(node, rest)  # type: ignore[arg-type]
            if len(options) != 1:
                if not options:
                    return False
                # Dotted keys offer several routes: which field takes which one is a
                # search of its own, done without trying every combination.
                return solve(node, wanted, absent)
            ((key, tail),) = options
            groups.setdefault(key, ([], []))[0].append((index, tail, test))
        for index, rest in absent:
            for key, tail in routes(node, rest):  # type: ignore[arg-type]
                groups.setdefault(key, ([], []))[1].append((index, tail))
        for key, (group_wanted, group_absent) in groups.items():
            if not (yield node[key], group_wanted, group_absent):
                return False
        return True
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


# --- several routes: a search over array elements, not over combinations of routes -----------

Trail: TypeAlias = "tuple[int, int, Trail] | None"
"""The arrays a leaf sits in, innermost first, as a linked list of (array, element) links."""
Trie: TypeAlias = "dict[int, Any]"
"""A field's leaves by the elements they need: {array: {element: Trie}}, or _END: True."""
State: TypeAlias = "tuple[int, frozenset[tuple[int, int]]]"
"""A point of :func:`solve`'s search: next field, elements chosen in arrays still shared."""
_END = -1
_DONE: Any = object()


def _place(places: dict[tuple[int, Any], int], parent: int, step: Any) -> int:
    """A number for the node reached from ``parent`` through a key or an index.

    Numbering by place rather than by ``id`` keeps one list reached along two paths two
    arrays, as the walk in :func:`_step` sees it.
    """
    number = places.get((parent, step))
    if number is None:
        number = places[(parent, step)] = len(places) + 1
    return number


def _trails(
    node: Any,
    path: str | None,
    test: Callable[[Any], bool] | None,
    places: dict[tuple[int, Any], int],
) -> list[Trail]:
    """The trails of the leaves at ``path`` under ``node`` that pass ``test`` (None: all)."""
    found: list[Trail] = []
    stack: list[tuple[Any, str | None, int, Trail]] = [(node, path, 0, None)]
    while stack:
        item, rest, place, trail = stack.pop()
        if isinstance(item, dict):
            if rest is not None:
                for key, tail in routes(item, rest):
                    stack.append((item[key], tail, _place(places, place, key), trail))
        elif isinstance(item, list):
            for position, element in enumerate(item):
                link = (place, position, trail)
                stack.append((element, rest, _place(places, place, position), link))
        elif rest is None and type(item) in LEAF_TYPES and (test is None or test(item)):
            found.append(trail)
    return found


def _consistent(trie: Trie, chosen: dict[int, int]) -> Iterator[Trail]:
    """The leaves of ``trie`` that agree with ``chosen``, each as the links it adds to it."""
    stack: list[tuple[Trie, Trail]] = [(trie, None)]
    while stack:
        level, added = stack.pop()
        for array, elements in level.items():
            if array == _END:
                yield added
                continue
            element = chosen.get(array)
            if element is None:
                stack.extend((child, (array, i, added)) for i, child in elements.items())
            elif element in elements:
                stack.append((elements[element], added))


def solve(node: Any, wanted: list[Wanted], absent: list[Absent]) -> bool:
    """:func:`_step`'s question, answered by a search over the arrays the fields share.

    Every leaf each field could use is listed with its trail (the array elements it sits in).
    Fields are then taken in sort order, as the engine takes them: a value field picks a leaf
    whose trail agrees with the elements chosen so far; an ``exists: false`` field fails if
    such a leaf exists at its path. What is left to decide depends only on the position and on
    the elements chosen in arrays that a later field can reach, so each such state is explored
    once. The cost grows with the number of these states (the element choices fields share),
    not with the number of ways to give each field a route.
    """
    fields: list[tuple[int, str | None, Callable[[Any], bool] | None]] = sorted(
        [*wanted, *((index, rest, None) for index, rest in absent)], key=lambda f: f[0]
    )
    places: dict[tuple[int, Any], int] = {}
    found: list[list[Trail]] = []
    for _, path, test in fields:
        trails = _trails(node, path, test, places)
        if test is not None and not trails:
            return False
        found.append(trails)
    # Only arrays reached by two fields or more can make fields disagree.
    owner: dict[int, int] = {}
    last: dict[int, int] = {}
    for position, trails in enumerate(found):
        for trail in trails:
            link = trail
            while link is not None:
                array, _, link = link
                if owner.setdefault(array, position) != position:
                    last[array] = position
    tries: list[Trie] = []
    for trails in found:
        trie: Trie = {}
        for trail in trails:
            links: list[tuple[int, int]] = []
            link = trail
            while link is not None:
                array, element, link = link
                if array in last:
                    links.append((array, element))
            level = trie
            for array, element in reversed(links):  # outermost array first
                level = level.setdefault(array, {}).setdefault(element, {})
            level[_END] = True
        tries.append(trie)
    count = len(fields)
    failed: set[State] = set()
    frames: list[tuple[State, int, dict[int, int], Iterator[Trail]]] = []
    position, chosen = 0, dict[int, int]()
    while True:
        if position == count:
            return True
        state = (position, frozenset(chosen.items()))
        if state not in failed:
            options = _consistent(tries[position], chosen)
            if fields[position][2] is None:  # exists: false: no leaf may agree
                options = iter(()) if next(options, _DONE) is not _DONE else iter((None,))
            frames.append((state, position, chosen, options))
        while frames:
            state, at, before, options = frames[-1]
            added = next(options, _DONE)
            if added is _DONE:
                failed.add(state)
                frames.pop()
                continue
            position = at + 1
            chosen = {a: e for a, e in before.items() if last[a] >= position}
            while added is not None:
                array, element, added = added
                if last[array] >= position:
                    chosen[array] = element
            break
        else:
            return False


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
