"""Generate the fast matcher: straight-line Python that reads a record with ``dict.get``.

For each branch, each field becomes a few lines that follow the field's path through nested
dicts and test the value it finds (a set lookup, ``startswith``...), with no function call on
the common path. A field's answer is one of three:

* satisfied: go on with the next field;
* cannot be satisfied: ``break`` to the next branch;
* unsure (an array on the way, a dotted key offering another route, a type the code does not
  know): note it, and if every other field is satisfied, ask the branch's general matcher.

A failed lookup is only definitive if no *dotted* key offers another route to the same path
(``{"dynamodb.NewImage": ...}`` is the same as ``{"dynamodb": {"NewImage": ...}}`` to AWS),
so the few candidate keys are looked up too (``"dynamodb.NewImage" in record``...): about 20
ns each, far cheaper than scanning a dict's keys for dots.

Strings, missing values and routes that stop early (an attribute or image that is not there)
are decided inline; the rarer values (arrays, objects, leaves of another type that fail) go to
a small closure per field. The first two levels of the record are fetched once when several
fields read them, and a deeper path that several fields read (routes on one key attribute) is
walked once, by the first of them that runs. Code is generated on a filter's first match, and
kept short: compiling it is part of a Lambda cold start.

:func:`build_dispatcher` writes the same code for a router: every route's branches in one
function that returns which routes match, so a record costs one call, not one per route tried,
and the routes share their look-ups.

Every value the code uses (keys, sets, predicates) is passed in through the namespace as a
constant, never written into the source, so patterns cannot inject code. This is the same
technique ``attrs`` uses for the ``__init__`` it writes. The source of a matcher is kept in
its ``__source__`` attribute for debugging.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from streamflow.filters._compile import BranchPlan, CompiledField
from streamflow.filters._leaf import LEAF_TYPES, Predicate, fold_case

__all__ = ["RouteTest", "build_dispatcher", "build_matcher"]

_MISSING: Any = object()

MAX_INLINE_SEGMENTS = 12
"""Longer paths are left to the general matcher (deeply nested code is slow to compile)."""
MAX_INLINE_FIELDS = 400
"""Past this many fields in all (huge ``$or`` expansions), only the general matcher is used."""


def _rare_path(
    segments: list[str], test: Predicate | None, absent_ok: bool
) -> Callable[[Any, dict[str, Any]], bool | None]:
    """A closure for the values generated code leaves out of line.

    ``finish(value, record)`` judges a value at the end of the direct route that the inline
    code did not settle (a leaf that fails, an object, an array, an unknown type): True
    (satisfied), False (cannot be) or None (unsure: ask the general matcher). Kept out of line
    so the generated code stays short: compiling it is part of a cold start.
    """
    no_leaf = absent_ok  # nothing at the path satisfies only exists:false
    levels = [
        (tuple(".".join(segments[i:j]) for j in range(i + 2, len(segments) + 1)), segments[i])
        for i in range(len(segments) - 1)
    ]

    def elsewhere(record: dict[str, Any], answer: bool) -> bool | None:
        """``answer``, unless a dotted key offers another route to the path (then unsure)."""
        node: Any = record
        for keys, segment in levels:
            for key in keys:
                if key in node:
                    return None
            node = node.get(segment)
            if type(node) is not dict:
                break
        return answer

    def finish(value: Any, record: dict[str, Any]) -> bool | None:
        kind = type(value)
        if kind in LEAF_TYPES:
            if test is not None and test(value):
                return True
            return elsewhere(record, False) if test is not None else False
        if kind is dict or value is _MISSING:
            return elsewhere(record, no_leaf)
        if kind is not list:
            return None
        leaves = unsure = False
        for item in value:
            item_kind = type(item)
            if item_kind in LEAF_TYPES:
                if test is None:
                    return False  # a leaf is present: exists:false fails
                if test(item):
                    return True
                leaves = True
            elif item_kind is not dict:
                unsure = True  # a nested array or an unknown type
        if unsure:
            return None
        return elsewhere(record, False if leaves else no_leaf)

    return finish


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        # Lookups several fields share, done once at the top: (route prefix, is terminal) -> var
        self.hoisted: dict[tuple[tuple[str, ...], bool], str] = {}
        # Paths several fields read, walked once: path -> the walk's local
        self.walks: dict[str, str] = {}
        self.namespace: dict[str, Any] = {
            "MISSING": _MISSING,
            "LEAF": LEAF_TYPES,
            "FOLD": fold_case,
        }

    def const(self, value: Any) -> str:
        name = f"c{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _string_test(w: _Writer, field: CompiledField, v: str = "v") -> str:
    """An expression testing the str in local ``v`` against the field's alternatives."""
    if field.inline is None:
        return f"{w.const(field.test)}({v})"
    parts = []
    for kind, value in field.inline:
        if kind == "always":
            return "True"
        name = w.const(value)
        if kind == "in":
            parts.append(f"{v} in {name}")
        elif kind == "prefix":
            parts.append(f"{v}.startswith({name})")
        elif kind == "suffix":
            parts.append(f"{v}.endswith({name})")
        else:
            parts.append(f"({v}.lower() if {v}.isascii() else FOLD({v})) in {name}")
    return " or ".join(parts) or "False"


def _routes_elsewhere(w: _Writer, segments: list[str], nodes: list[str], level: int) -> str:
    """An expression: does a dotted key at dict ``nodes[level]`` offer another route?"""
    keys = [w.const(".".join(segments[level:end])) for end in range(level + 2, len(segments) + 1)]
    return " or ".join(f"{key} in {nodes[level]}" for key in keys)


def _alternates(
    w: _Writer,
    depth: int,
    segments: list[str],
    nodes: list[str],
    last_level: int,
    failed: bool,
    cache: str | None = None,
) -> None:
    """Decide after the direct route found nothing usable up to dict ``nodes[last_level]``.

    ``failed``: without another route the field cannot be satisfied (``break``); otherwise
    it is satisfied (an ``exists: false`` field). Another route makes it unsure. ``cache``:
    a local that keeps the answer for the other fields on the same path (None: not known).
    """
    conditions = [
        check
        for level in range(last_level + 1)
        if (check := _routes_elsewhere(w, segments, nodes, level))
    ]
    if not conditions:
        w.emit(depth, "break" if failed else "pass")
        return
    elsewhere = " or ".join(conditions)
    if cache is not None:
        w.emit(depth, f"if {cache} is None: {cache} = {elsewhere}")
        elsewhere = cache
    w.emit(depth, f"if {elsewhere}: u = True")
    if failed:
        w.emit(depth, "else: break")


def _value_test(
    w: _Writer,
    depth: int,
    field: CompiledField,
    segments: list[str],
    nodes: list[str],
    cache: str | None = None,
    v: str = "v",
    t: str | None = None,
) -> None:
    """Test the value at the end of the direct route (``MISSING`` if not there), in local
    ``v``; ``t``: a local that holds its type already (a shared look-up's, which the field
    reads in place rather than copy)."""
    end = len(segments) - 1
    rare = w.const(_rare_path(segments, field.test, field.absent_ok))
    if field.test is None:  # only exists: false
        w.emit(depth, f"if {v} is MISSING or type({v}) is dict:")
        _alternates(w, depth + 1, segments, nodes, end, False, cache)
        w.emit(depth, f"elif type({v}) in LEAF: break")
    elif not field.absent_ok:
        if t is None:
            w.emit(depth, f"t = type({v})")  # asked up to three times below: asked once
            t = "t"
        # A string that fails and a missing value both leave only the dotted routes.
        w.emit(depth, f"if {t} is str and ({_string_test(w, field, v)}): pass")
        w.emit(depth, f"elif {t} is str or {v} is MISSING:")
        _alternates(w, depth + 1, segments, nodes, end, True, cache)
        w.emit(depth, f"elif {t} in LEAF and {w.const(field.test)}({v}): pass")
    else:
        w.emit(depth, f"if type({v}) is str:")
        w.emit(depth + 1, f"if not ({_string_test(w, field, v)}):")
        _alternates(w, depth + 2, segments, nodes, end, True, cache)
        w.emit(depth, f"elif {v} is MISSING:")
        _alternates(w, depth + 1, segments, nodes, end, False, cache)
    w.emit(depth, "else:")
    w.emit(depth + 1, f"r = {rare}({v}, record)")
    w.emit(depth + 1, "if r is False: break")
    w.emit(depth + 1, "if r is None: u = True")


def _stopped(
    w: _Writer, depth: int, field: CompiledField, segments: list[str], nodes: list[str]
) -> None:
    """Decide when the direct route stopped early: at level ``s``, on ``n``, not a dict."""
    w.emit(depth, "if n is None or type(n) in LEAF:")
    conditions = []
    for level in range(len(segments) - 1):  # dicts record, x1... up to the stop: below s
        check = _routes_elsewhere(w, segments, nodes, level)
        if check:
            conditions.append(f"({check})" if level == 0 else f"(s > {level} and ({check}))")
    failed = field.test is not None and not field.absent_ok
    if conditions:
        w.emit(depth + 1, f"if {' or '.join(conditions)}: u = True")
        if failed:
            w.emit(depth + 1, "else: break")
    else:
        w.emit(depth + 1, "break" if failed else "pass")
    w.emit(depth, "else: u = True  # an array or an unknown type on the way")


def _walk(w: _Writer, depth: int, segments: list[str], nodes: list[str], keys: list[str]) -> int:
    """Follow the direct route: one nested ``if`` per dict on the way. Returns the depth of
    the innermost block, where ``nodes[-1]`` is a dict; each level's ``else`` is the caller's.
    """
    for level in range(len(segments) - 1):
        shared = w.hoisted.get((tuple(segments[: level + 1]), False))
        fetch = shared or f"{nodes[level]}.get({keys[level]})"
        w.emit(depth, f"{nodes[level + 1]} = {fetch}")
        w.emit(depth, f"if type({nodes[level + 1]}) is dict:")
        depth += 1
    return depth


def _field(w: _Writer, depth: int, field: CompiledField) -> None:
    """The code of one field. Locals: ``x1``... the dicts on the way, ``v`` the value found
    (unless a shared local holds it), ``t`` its type, ``s`` the level where the direct route
    stopped early (0: it did not) and ``n`` the value it stopped at."""
    segments = field.path.split(".")
    count = len(segments)
    if count > MAX_INLINE_SEGMENTS:
        w.emit(depth, f"u = True  # {count} segments: for the general matcher")
        return
    keys = [w.const(segment) for segment in segments]
    w.emit(depth, f"# field {w.const(field.path)}")  # never the path itself: it is user data
    end = count - 1
    walk = w.walks.get(field.path)
    if walk is not None:
        # A path several fields read: walked once, by the first field that gets here. The
        # walk's local ``walk`` is None before, then 0 (the value in ``walk``v, its type in
        # ``walk``t) or the level where it stopped (the value there in ``walk``n); ``walk``a
        # caches whether dotted keys offer other routes.
        nodes = ["record"] + [f"{walk}x{i}" for i in range(1, count)]
        w.emit(depth, f"if {walk} is None:")
        inner = _walk(w, depth + 1, segments, nodes, keys)
        w.emit(inner, f"{walk}v = {nodes[end]}.get({keys[end]}, MISSING)")
        w.emit(inner, f"{walk}t = type({walk}v)")
        w.emit(inner, f"{walk} = 0")
        for level in reversed(range(end)):
            inner -= 1
            w.emit(inner, f"else: {walk}, {walk}n = {level + 1}, {nodes[level + 1]}")
        w.emit(depth, f"if not {walk}:")
        _value_test(w, depth + 1, field, segments, nodes, f"{walk}a", f"{walk}v", f"{walk}t")
        w.emit(depth, "else:")
        w.emit(depth + 1, f"s, n = {walk}, {walk}n")
        _stopped(w, depth + 1, field, segments, nodes)
        return
    nodes = ["record"] + [f"x{i}" for i in range(1, count)]
    inner = _walk(w, depth, segments, nodes, keys)
    shared = w.hoisted.get((tuple(segments), True))
    if shared:
        _value_test(w, inner, field, segments, nodes, v=shared, t=f"{shared}t")
    else:
        w.emit(inner, f"v = {nodes[end]}.get({keys[end]}, MISSING)")
        _value_test(w, inner, field, segments, nodes)
    if count == 1:
        return
    # The direct route stopped early, at the first value on the way that is not a dict.
    w.emit(inner, "s = 0")
    for level in reversed(range(end)):
        inner -= 1
        w.emit(inner, f"else: s, n = {level + 1}, {nodes[level + 1]}")
    w.emit(depth, "if s:")
    _stopped(w, depth + 1, field, segments, nodes)


def _share_walks(w: _Writer, plans: Sequence[BranchPlan]) -> None:
    """Name a shared walk for each path of three or more segments that several fields read
    (routes on the same key attribute: ``dynamodb.Keys.PK.S``), and start it unwalked.

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
            name = f"p{len(w.walks)}"
            w.walks[path] = name
            w.emit(1, f"{name} = {name}a = None")


def _hoist(w: _Writer, plans: Sequence[BranchPlan]) -> None:
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
            if field.path in w.walks:
                walked.add(field.path)
            for size in range(1, min(2, len(segments)) + 1):
                reads[segments[:size], size == len(segments)] = None
        for use in reads:
            uses[use] = uses.get(use, 0) + 1
    for (route, terminal), count in sorted(uses.items(), key=lambda item: len(item[0][0])):
        if count < 2:
            continue
        name = f"h{len(w.hoisted)}"
        key = w.const(route[-1])
        default = ", MISSING" if terminal else ""
        if len(route) == 1:
            w.emit(1, f"{name} = record.get({key}{default})")
        else:
            parent = w.hoisted.get((route[:1], False))
            if parent is None:
                parent = f"h{len(w.hoisted)}p"
                w.emit(1, f"{parent} = record.get({w.const(route[0])})")
            w.emit(1, f"{name} = {parent}.get({key}{default}) if type({parent}) is dict else None")
        if terminal:
            w.emit(1, f"{name}t = type({name})")
        w.hoisted[(route, terminal)] = name


def _branches(body: _Writer, plans: Sequence[BranchPlan], *, loop: str, hit: str) -> None:
    """Each branch as a ``while`` block that ``break``s as soon as a field cannot be satisfied.

    ``loop`` opens the block (``while True:``, or ``while not hit:`` to skip the branches
    after one that matched); ``hit`` is the statement that a matching branch runs.
    """
    for index, plan in enumerate(plans):
        # Cheapest, most selective fields first; exists:false (rarely decisive) last.
        order = sorted(plan.fields, key=lambda f: (f.test is None, f.path.count("."), f.path))
        body.emit(1, f"{loop}  # branch {index}")
        body.emit(2, "u = False")
        for field in order:
            _field(body, 2, field)
        body.emit(2, f"if not u: {hit}")
        body.emit(2, f"if {body.const(plan.slow)}(record): {hit}")
        body.emit(2, "break")


def _function(w: _Writer, body: _Writer, name: str, generic: Callable[[Any], Any]) -> Any:
    """Assemble and compile ``def name(record)``: the non-dict guard, ``w``'s hoisted lookups,
    then ``body``."""
    head = w.lines
    w.lines = []
    w.emit(0, f"def {name}(record):")
    w.emit(1, f"if type(record) is not dict: return {w.const(generic)}(record)")
    w.lines += head
    w.lines += body.lines
    source = "\n".join(w.lines) + "\n"
    namespace = dict(w.namespace)
    exec(compile(source, "<streamflow filter matcher>", "exec"), namespace)
    function = namespace[name]
    function.__source__ = source
    return function


def _writers() -> tuple[_Writer, _Writer]:
    """A writer for the function's head (hoisted lookups) and one for its body, sharing
    constants and hoisted names."""
    w = _Writer()
    body = _Writer()
    body.namespace = w.namespace
    body.hoisted = w.hoisted
    body.walks = w.walks
    return w, body


def build_matcher(plans: Sequence[BranchPlan]) -> Callable[[Any], bool]:
    """The matcher for ``plans`` (branches OR-ed): any JSON value in, a bool out."""
    if sum(len(plan.fields) for plan in plans) > MAX_INLINE_FIELDS:

        def general(record: Any) -> bool:
            return any(plan.slow(record) for plan in plans)

        return general
    w, body = _writers()
    _share_walks(w, plans)
    _hoist(w, plans)
    _branches(body, plans, loop="while True:", hit="return True")
    body.emit(1, "return False")
    match: Callable[[Any], bool] = _function(
        w, body, "match", lambda record: any(plan.slow(record) for plan in plans)
    )
    return match


RouteTest = tuple[Sequence[BranchPlan] | None, Callable[[Any], bool]]
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

    def each(record: Any) -> int:
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
        return each
    w, body = _writers()
    _share_walks(w, inline)
    _hoist(w, inline)
    if not first:
        body.emit(1, "mask = 0")
    for bit, (plans, matches) in zip(bits, routes, strict=True):
        # The bits are this function's own numbers, never user data.
        body.emit(1, f"# route {bit.bit_length() - 1}")
        if plans is None:
            found = "return" if first else "mask |="
            body.emit(1, f"if {body.const(matches)}(record): {found} {bit}")
        elif not plans:  # no filters: every record
            body.emit(1, f"return {bit}" if first else f"mask |= {bit}")
            if first:
                break  # the routes after it are never reached
        elif first:
            _branches(body, plans, loop="while True:", hit=f"return {bit}")
        else:
            body.emit(1, "hit = False")
            _branches(body, plans, loop="while not hit:", hit="hit = True; break")
            body.emit(1, f"if hit: mask |= {bit}")
    body.emit(1, "return 0" if first else "return mask")
    dispatch: Callable[[Any], int] = _function(w, body, "dispatch", each)
    return dispatch
