"""Generate the fast matcher: straight-line Python that reads a record with ``dict.get``.

The matcher of a filter (or of a criteria: its filters' branches, OR-ed) is one function,
``match(record)``: each branch is a ``while`` block that runs its fields' code
(``_codegen_field.py``) and ``break``s as soon as one cannot be satisfied. The first two
levels of the record are fetched once when several fields read them (``event_name``,
``dynamodb``, ``new_image``), and a deeper path that several fields read (routes on one key
attribute) is walked once, by the first of them that runs. Code is generated on a filter's
first match, and kept short: compiling it is part of a Lambda cold start.

:func:`build_dispatcher` writes the same code for a router: every route's branches in one
function that returns which routes match, so a record costs one call, not one per route tried,
and the routes share their look-ups.

Every value the code uses (keys, sets, predicates) is passed in through the namespace as a
constant, never written into the source, so patterns cannot inject code. This is the same
technique ``attrs`` uses for the ``__init__`` it writes. The source reads like code someone
wrote (``_codegen_source.py`` names its locals after the paths they follow); it is kept in
the function's ``__source__`` attribute and shown by tracebacks and pdb.
"""

from __future__ import annotations

from streamflow.filters._codegen_field import MAX_INLINE_SEGMENTS, field_code
from streamflow.filters._codegen_source import Source

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, TypeAlias

    from streamflow.filters._compile import BranchPlan

__all__ = ["MAX_INLINE_FIELDS", "RouteTest", "build_dispatcher", "build_matcher"]

MAX_INLINE_FIELDS = 400
"""Past this many fields in all (huge ``$or`` expansions), only the general matcher is used."""


def _share_walks(src: Source, plans: Sequence[BranchPlan]) -> None:
    """Walk once each path of three or more segments that several fields read (routes on
    the same key attribute: ``dynamodb.Keys.PK.S``), and start it unwalked.

    Shorter paths are hoisted by :func:`_hoist`. Walked lazily rather than at the top: a
    record that fails earlier fields never pays for it.
    """
    uses: dict[str, int] = {}
    for plan in plans:
        for field in plan.fields:
            if 3 <= field.path.count(".") + 1 <= MAX_INLINE_SEGMENTS:
                uses[field.path] = uses.get(field.path, 0) + 1
    for path, count in uses.items():
        if count >= 2:
            segments = path.split(".")
            src.walks.add(path)
            src.emit(1, f"{src.local('stop', segments)} = {src.local('dotted', segments)} = None")


def _hoist(src: Source, plans: Sequence[BranchPlan]) -> None:
    """Fetch the record's first two levels once when several fields read them.

    ``eventName`` and ``dynamodb``/``dynamodb.NewImage`` are read by most filters of a
    criteria; a shared local saves a ``dict.get`` per later use. A terminal fetch keeps the
    ``MISSING`` default (to tell a missing field from ``null``), and its type is taken once
    too; an intermediate one does not. A path :func:`_share_walks` walks once counts once.
    """
    uses: dict[tuple[tuple[str, ...], bool], int] = {}
    walked = set()
    for plan in plans:
        # A look-up counts once per branch: most branches stop at their first field.
        reads: dict[tuple[tuple[str, ...], bool], None] = {}
        for field in plan.fields:
            segments = tuple(field.path.split("."))
            if len(segments) > MAX_INLINE_SEGMENTS or field.path in walked:
                continue
            if field.path in src.walks:
                walked.add(field.path)
            for size in range(1, min(2, len(segments)) + 1):
                reads[segments[:size], size == len(segments)] = None
        for use in reads:
            uses[use] = uses.get(use, 0) + 1
    for (route, terminal), count in sorted(uses.items(), key=lambda item: len(item[0][0])):
        if count < 2:
            continue
        name = src.value(route) if terminal else src.node(route)
        key = src.key(route[-1])
        default = ", MISSING" if terminal else ""
        if len(route) == 1:
            src.emit(1, f"{name} = record.get({key}{default})")
        else:
            parent = src.hoisted.get((route[:1], False))
            if parent is None:
                parent = src.node(route[:1])
                src.emit(1, f"{parent} = record.get({src.key(route[0])})")
            fetch = f"{parent}.get({key}{default}) if type({parent}) is dict else None"
            src.emit(1, f"{name} = {fetch}")
        if terminal:
            src.emit(1, f"{src.local('type', route)} = type({name})")
        src.hoisted[(route, terminal)] = name


def _branches(
    src: Source, plans: Sequence[BranchPlan], *, loop: str, hit: str, prefix: str = ""
) -> None:
    """Each branch as a ``while`` block that ``break``s as soon as a field cannot be satisfied.

    ``loop`` opens the block (``while True:``, or ``while not hit:`` to skip the branches
    after one that matched); ``hit`` is the statement that a matching branch runs;
    ``prefix`` starts the names of the branches' general matchers (``route_1_``).
    """
    for index, plan in enumerate(plans):
        # Cheapest, most selective fields first; exists:false (rarely decisive) last.
        order = sorted(plan.fields, key=lambda f: (f.test is None, f.path.count("."), f.path))
        src.emit(1, f"{loop}  # branch {index}")
        src.emit(2, "unsure = False")
        for field in order:
            field_code(src, 2, field)
        src.emit(2, f"if not unsure: {hit}")
        src.emit(2, f"if {src.const(plan.slow, f'{prefix}branch_{index}_general')}(record): {hit}")
        src.emit(2, "break")


def build_matcher(plans: Sequence[BranchPlan]) -> Callable[[Any], bool]:
    """The matcher for ``plans`` (branches OR-ed): any JSON value in, a bool out."""

    def general(record: Any) -> bool:
        return any(plan.slow(record) for plan in plans)

    if sum(len(plan.fields) for plan in plans) > MAX_INLINE_FIELDS:
        return general
    src = Source("match", general, "general")
    _share_walks(src, plans)
    _hoist(src, plans)
    _branches(src, plans, loop="while True:", hit="return True")
    src.emit(1, "return False")
    match: Callable[[Any], bool] = src.compile()
    return match


RouteTest: TypeAlias = "tuple[Sequence[BranchPlan] | None, Callable[[Any], bool]]"
"""One route for :func:`build_dispatcher`: its filters' branches (OR-ed; empty: every record
matches), or ``None`` to call its predicate as it is; and its predicate (``matches``)."""


def build_dispatcher(routes: Sequence[RouteTest], *, first: bool) -> Callable[[Any], int]:
    """One function that matches a record against every route: the routes that match, as a
    bit mask (bit ``i`` for route ``i``). With ``first`` it stops at the first that matches
    and returns its bit alone. 0: no route matches.

    Each route's verdict is exactly its predicate's: the same branches, in the same generated
    code. A router calls this once per record instead of one matcher per route it tries, and
    the lookups the routes share (``eventName``, ``dynamodb``...) are done once.
    """
    bits = [1 << position for position in range(len(routes))]

    def route_by_route(record: Any) -> int:
        """Route by route, with each route's own predicate."""
        mask = 0
        for bit, (_, matches) in zip(bits, routes, strict=True):
            if matches(record):
                if first:
                    return bit
                mask |= bit
        return mask

    inline = [plan for plans, _ in routes if plans for plan in plans]
    if sum(len(plan.fields) for plan in inline) > MAX_INLINE_FIELDS:
        return route_by_route
    src = Source("dispatch", route_by_route, "route_by_route")
    _share_walks(src, inline)
    _hoist(src, inline)
    if not first:
        src.emit(1, "mask = 0")
    for position, (plans, matches) in enumerate(routes):
        bit = bits[position]  # the bits are this function's own numbers, never user data
        prefix = f"route_{position}_"
        src.emit(1, f"# route {position}")
        if plans is None:
            found = "return" if first else "mask |="
            src.emit(1, f"if {src.const(matches, f'{prefix}matches')}(record): {found} {bit}")
        elif not plans:  # no filters: every record
            src.emit(1, f"return {bit}" if first else f"mask |= {bit}")
            if first:
                break  # the routes after it are never reached
        elif first:
            _branches(src, plans, loop="while True:", hit=f"return {bit}", prefix=prefix)
        else:
            src.emit(1, "hit = False")
            _branches(src, plans, loop="while not hit:", hit="hit = True; break", prefix=prefix)
            src.emit(1, f"if hit: mask |= {bit}")
    src.emit(1, "return 0" if first else "return mask")
    dispatch: Callable[[Any], int] = src.compile()
    return dispatch
