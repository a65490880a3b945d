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
fields read them. Code is generated on a filter's first match, and kept short: compiling it is
part of a Lambda cold start.

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

__all__ = ["build_matcher"]

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


def _string_test(w: _Writer, field: CompiledField) -> str:
    """An expression testing the str ``v`` against the field's alternatives."""
    if field.inline is None:
        return f"{w.const(field.test)}(v)"
    parts = []
    for kind, value in field.inline:
        if kind == "always":
            return "True"
        name = w.const(value)
        if kind == "in":
            parts.append(f"v in {name}")
        elif kind == "prefix":
            parts.append(f"v.startswith({name})")
        elif kind == "suffix":
            parts.append(f"v.endswith({name})")
        else:
            parts.append(f"(v.lower() if v.isascii() else FOLD(v)) in {name}")
    return " or ".join(parts) or "False"


def _routes_elsewhere(w: _Writer, segments: list[str], nodes: list[str], level: int) -> str:
    """An expression: does a dotted key at dict ``nodes[level]`` offer another route?"""
    keys = [w.const(".".join(segments[level:end])) for end in range(level + 2, len(segments) + 1)]
    return " or ".join(f"{key} in {nodes[level]}" for key in keys)


def _alternates(
    w: _Writer, depth: int, segments: list[str], nodes: list[str], last_level: int, failed: bool
) -> None:
    """Decide after the direct route found nothing usable up to dict ``nodes[last_level]``.

    ``failed``: without another route the field cannot be satisfied (``break``); otherwise
    it is satisfied (an ``exists: false`` field). Another route makes it unsure.
    """
    conditions = [
        check
        for level in range(last_level + 1)
        if (check := _routes_elsewhere(w, segments, nodes, level))
    ]
    if not conditions:
        w.emit(depth, "break" if failed else "pass")
        return
    w.emit(depth, f"if {' or '.join(conditions)}: u = True")
    if failed:
        w.emit(depth, "else: break")


def _field(w: _Writer, depth: int, field: CompiledField) -> None:
    """The code of one field. Locals: ``x1``... the dicts on the way, ``v`` the value found,
    ``s`` the level where the direct route stopped early (0: it did not) and ``n`` the value
    it stopped at."""
    segments = field.path.split(".")
    count = len(segments)
    if count > MAX_INLINE_SEGMENTS:
        w.emit(depth, f"u = True  # {count} segments: for the general matcher")
        return
    absent_only = field.test is None
    mixed = field.test is not None and field.absent_ok
    nodes = ["record"] + [f"x{i}" for i in range(1, count)]
    keys = [w.const(segment) for segment in segments]
    w.emit(depth, f"# field {w.const(field.path)}")  # never the path itself: it is user data
    top = depth
    for level in range(count - 1):
        shared = w.hoisted.get((tuple(segments[: level + 1]), False))
        fetch = shared or f"{nodes[level]}.get({keys[level]})"
        w.emit(depth, f"{nodes[level + 1]} = {fetch}")
        w.emit(depth, f"if type({nodes[level + 1]}) is dict:")
        depth += 1
    end = count - 1
    shared = w.hoisted.get((tuple(segments), True))
    w.emit(depth, f"v = {shared or f'{nodes[end]}.get({keys[end]}, MISSING)'}")
    rare = w.const(_rare_path(segments, field.test, field.absent_ok))
    if absent_only:
        w.emit(depth, "if v is MISSING or type(v) is dict:")
        _alternates(w, depth + 1, segments, nodes, end, failed=False)
        w.emit(depth, "elif type(v) in LEAF: break")
    elif not mixed:
        # A string that fails and a missing value both leave only the dotted routes.
        w.emit(depth, f"if type(v) is str and ({_string_test(w, field)}): pass")
        w.emit(depth, "elif type(v) is str or v is MISSING:")
        _alternates(w, depth + 1, segments, nodes, end, failed=True)
        w.emit(depth, f"elif type(v) in LEAF and {w.const(field.test)}(v): pass")
    else:
        w.emit(depth, "if type(v) is str:")
        w.emit(depth + 1, f"if not ({_string_test(w, field)}):")
        _alternates(w, depth + 2, segments, nodes, end, failed=True)
        w.emit(depth, "elif v is MISSING:")
        _alternates(w, depth + 1, segments, nodes, end, failed=False)
    w.emit(depth, "else:")
    w.emit(depth + 1, f"r = {rare}(v, record)")
    w.emit(depth + 1, "if r is False: break")
    w.emit(depth + 1, "if r is None: u = True")
    if count == 1:
        return
    # The direct route stopped early, at the first value on the way that is not a dict.
    w.emit(depth, "s = 0")
    for level in reversed(range(count - 1)):
        depth -= 1
        w.emit(depth, f"else: s, n = {level + 1}, {nodes[level + 1]}")
    w.emit(top, "if s:")
    w.emit(top + 1, "if n is None or type(n) in LEAF:")
    conditions = []
    for level in range(count - 1):  # dicts record, x1... up to the stop: levels below s
        check = _routes_elsewhere(w, segments, nodes, level)
        if check:
            conditions.append(f"({check})" if level == 0 else f"(s > {level} and ({check}))")
    failed = not (absent_only or mixed)
    if conditions:
        w.emit(top + 2, f"if {' or '.join(conditions)}: u = True")
        if failed:
            w.emit(top + 2, "else: break")
    else:
        w.emit(top + 2, "break" if failed else "pass")
    w.emit(top + 1, "else: u = True  # an array or an unknown type on the way")


def _hoist(w: _Writer, plans: Sequence[BranchPlan]) -> None:
    """Fetch the record's first two levels once when several fields read them.

    ``eventName`` and ``dynamodb``/``dynamodb.NewImage`` are read by most filters of a
    criteria; a shared local saves a ``dict.get`` per later use. A terminal fetch keeps the
    ``MISSING`` default (to tell a missing field from ``null``); an intermediate one does not.
    """
    uses: dict[tuple[tuple[str, ...], bool], int] = {}
    for plan in plans:
        for field in plan.fields:
            segments = tuple(field.path.split("."))
            if len(segments) > MAX_INLINE_SEGMENTS:
                continue
            for size in range(1, min(2, len(segments)) + 1):
                use = (segments[:size], size == len(segments))
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
        w.hoisted[(route, terminal)] = name


def build_matcher(plans: Sequence[BranchPlan]) -> Callable[[Any], bool]:
    """The matcher for ``plans`` (branches OR-ed): any JSON value in, a bool out."""
    if sum(len(plan.fields) for plan in plans) > MAX_INLINE_FIELDS:

        def general(record: Any) -> bool:
            return any(plan.slow(record) for plan in plans)

        return general
    w = _Writer()
    body = _Writer()
    body.namespace = w.namespace
    body.hoisted = w.hoisted
    _hoist(w, plans)
    for index, plan in enumerate(plans):
        # Cheapest, most selective fields first; exists:false (rarely decisive) last.
        order = sorted(plan.fields, key=lambda f: (f.test is None, f.path.count("."), f.path))
        body.emit(1, f"while True:  # branch {index}")
        body.emit(2, "u = False")
        for field in order:
            _field(body, 2, field)
        body.emit(2, "if not u: return True")
        body.emit(2, f"if {body.const(plan.slow)}(record): return True")
        body.emit(2, "break")
    generic = w.const(lambda record: any(plan.slow(record) for plan in plans))
    head = w.lines
    w.lines = []
    w.emit(0, "def match(record):")
    w.emit(1, f"if type(record) is not dict: return {generic}(record)")
    w.lines += head
    w.lines += body.lines
    w.emit(1, "return False")
    source = "\n".join(w.lines) + "\n"
    namespace = dict(w.namespace)
    exec(compile(source, "<streamflow filter matcher>", "exec"), namespace)
    match: Callable[[Any], bool] = namespace["match"]
    match.__source__ = source  # type: ignore[attr-defined]
    return match
