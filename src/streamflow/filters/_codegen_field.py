"""The generated code of one field: follow its path through nested dicts, test the value.

Each field becomes a few lines that follow the field's path with ``dict.get`` and test the
value found (a set look-up, ``startswith``...), with no function call on the common path. A
field's answer is one of three:

* satisfied: go on with the next field;
* cannot be satisfied: ``break`` to the next branch;
* unsure (an array on the way, a dotted key offering another route, a type the code does not
  know): set ``unsure``, and if every other field is satisfied, ask the branch's general
  matcher.

A failed look-up is only definitive if no *dotted* key offers another route to the same path
(``{"dynamodb.NewImage": ...}`` is the same as ``{"dynamodb": {"NewImage": ...}}`` to AWS),
so the few candidate keys are looked up too (``DYNAMODB_DOT_NEW_IMAGE in record``...): about
20 ns each, far cheaper than scanning a dict's keys for dots.

Strings, missing values and routes that stop early (an attribute or image that is not there)
are decided inline; the rarer values (arrays, objects, leaves of another type that fail) go to
a small closure per field, :func:`settler`.
"""

from __future__ import annotations

from streamflow.filters._codegen_source import MISSING
from streamflow.filters._leaf import LEAF_TYPES

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from streamflow.filters._codegen_source import Source
    from streamflow.filters._compile import CompiledField
    from streamflow.filters._leaf import Predicate

__all__ = ["MAX_INLINE_SEGMENTS", "field_code", "settler"]

MAX_INLINE_SEGMENTS = 12
"""Longer paths are left to the general matcher (deeply nested code is slow to compile)."""


def settler(
    segments: list[str], test: Predicate | None, absent_ok: bool
) -> Callable[[Any, dict[str, Any]], bool | None]:
    """A closure for the values generated code leaves out of line.

    ``settle(value, record)`` judges a value at the end of the direct route that the inline
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

    def settle(value: Any, record: dict[str, Any]) -> bool | None:
        kind = type(value)
        if kind in LEAF_TYPES:
            if test is not None and test(value):
                return True
            return elsewhere(record, False) if test is not None else False
        if kind is dict or value is MISSING:
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

    return settle


def _grouped(condition: str) -> str:
    """``condition`` in parentheses if it is an ``or`` of several."""
    return f"({condition})" if " or " in condition else condition


def _string_test(src: Source, field: CompiledField, label: str, value: str) -> str:
    """An expression testing the str in local ``value`` against the field's alternatives:
    ``"True"`` if every string passes, ``"False"`` if none does."""
    if field.inline is None:
        return f"{src.const(field.test, f'{label}_test')}({value})"
    label = label.upper()
    parts = []
    for kind, operand in field.inline:
        if kind == "always":
            return "True"
        if kind == "in":
            parts.append(f"{value} in {src.const(operand, f'{label}_VALUES')}")
        elif kind in ("prefix", "suffix"):  # a tuple of them
            name = f"{label}_{kind.upper()}{'ES' if len(operand) > 1 else ''}"
            method = "startswith" if kind == "prefix" else "endswith"
            parts.append(f"{value}.{method}({src.const(operand, name)})")
        else:
            folded = src.const(operand, f"{label}_FOLDED")
            parts.append(f"({value}.lower() if {value}.isascii() else FOLD({value})) in {folded}")
    return " or ".join(parts) or "False"


def _routes_elsewhere(src: Source, segments: list[str], nodes: list[str], level: int) -> str:
    """An expression: does a dotted key at dict ``nodes[level]`` offer another route? Written
    once per path and level, asked for by each branch that reads the path."""
    memo = (".".join(segments), level)
    if memo not in src.elsewhere:
        ends = range(level + 2, len(segments) + 1)
        keys = [src.key(".".join(segments[level:end])) for end in ends]
        src.elsewhere[memo] = " or ".join(f"{key} in {nodes[level]}" for key in keys)
    return src.elsewhere[memo]


def _alternates(
    src: Source,
    depth: int,
    segments: list[str],
    nodes: list[str],
    last_level: int,
    failed: bool,
    dotted: str | None,
) -> None:
    """Decide after the direct route found nothing usable up to dict ``nodes[last_level]``.

    ``failed``: without another route the field cannot be satisfied (``break``); otherwise
    it is satisfied (an ``exists: false`` field). Another route makes it unsure. ``dotted``:
    a local that keeps the answer for the other fields on the same path (None: not known).
    """
    conditions = [
        check
        for level in range(last_level + 1)
        if (check := _routes_elsewhere(src, segments, nodes, level))
    ]
    if not conditions:
        src.emit(depth, "break" if failed else "pass")
        return
    elsewhere = " or ".join(conditions)
    if dotted is not None:
        src.emit(depth, f"if {dotted} is None: {dotted} = {elsewhere}")
        elsewhere = dotted
    src.emit(depth, f"if {elsewhere}: unsure = True")
    if failed:
        src.emit(depth, "else: break")


def _value_test(
    src: Source,
    depth: int,
    field: CompiledField,
    segments: list[str],
    nodes: list[str],
    typed: bool,
    dotted: str | None = None,
) -> None:
    """Test the value at the end of the direct route, in its local (``MISSING`` if not
    there); ``typed``: its type local is set already (a shared look-up or walk)."""
    end = len(segments) - 1
    value, value_type = src.value(segments), src.local("type", segments)
    label = src.label(segments)
    settle = src.const(settler(segments, field.test, field.absent_ok), f"settle_{label}")
    if field.test is None:  # only exists: false
        src.emit(depth, f"if {value} is MISSING or type({value}) is dict:")
        _alternates(src, depth + 1, segments, nodes, end, False, dotted)
        src.emit(depth, f"elif type({value}) in LEAF: break")
    elif not field.absent_ok:
        if not typed:
            src.emit(depth, f"{value_type} = type({value})")  # asked up to three times below
        # A string that fails and a missing value both leave only the dotted routes.
        string_test = _string_test(src, field, label, value)
        if string_test == "False":  # no string passes (numeric, say)
            src.emit(depth, f"if {value_type} is str or {value} is MISSING:")
        else:
            passes = "" if string_test == "True" else f" and {_grouped(string_test)}"
            src.emit(depth, f"if {value_type} is str{passes}: pass")
            src.emit(depth, f"elif {value_type} is str or {value} is MISSING:")
        _alternates(src, depth + 1, segments, nodes, end, True, dotted)
        test = src.const(field.test, f"{label}_test")
        src.emit(depth, f"elif {value_type} in LEAF and {test}({value}): pass")
    else:
        src.emit(depth, f"if type({value}) is str:")
        src.emit(depth + 1, f"if not ({_string_test(src, field, label, value)}):")
        _alternates(src, depth + 2, segments, nodes, end, True, dotted)
        src.emit(depth, f"elif {value} is MISSING:")
        _alternates(src, depth + 1, segments, nodes, end, False, dotted)
    src.emit(depth, "else:")
    src.emit(depth + 1, f"verdict = {settle}({value}, record)")
    src.emit(depth + 1, "if verdict is False: break")
    src.emit(depth + 1, "if verdict is None: unsure = True")


def _stopped(
    src: Source,
    depth: int,
    field: CompiledField,
    segments: list[str],
    nodes: list[str],
    stop: str,
    stop_value: str,
) -> None:
    """Decide when the direct route stopped early: at level ``stop``, on ``stop_value``, a
    value that is not a dict."""
    src.emit(depth, f"if {stop_value} is None or type({stop_value}) in LEAF:")
    conditions = []
    for level in range(len(segments) - 1):  # the dicts on the way up to the stop: below it
        check = _routes_elsewhere(src, segments, nodes, level)
        if check:
            conditions.append(check if level == 0 else f"({stop} > {level} and {_grouped(check)})")
    failed = field.test is not None and not field.absent_ok
    if conditions:
        src.emit(depth + 1, f"if {' or '.join(conditions)}: unsure = True")
        if failed:
            src.emit(depth + 1, "else: break")
    else:
        src.emit(depth + 1, "break" if failed else "pass")
    src.emit(depth, "else: unsure = True  # an array or an unknown type on the way")


def _follow(src: Source, depth: int, segments: list[str], nodes: list[str]) -> int:
    """Follow the direct route: one nested ``if`` per dict on the way. Returns the depth of
    the innermost block, where ``nodes[-1]`` is a dict; each level's ``else`` is the caller's.
    """
    for level in range(len(segments) - 1):
        node = nodes[level + 1]
        if src.hoisted.get((tuple(segments[: level + 1]), False)) != node:  # else: done
            src.emit(depth, f"{node} = {nodes[level]}.get({src.key(segments[level])})")
        src.emit(depth, f"if type({node}) is dict:")
        depth += 1
    return depth


def field_code(src: Source, depth: int, field: CompiledField) -> None:
    """The code of one field.

    Its locals: the dicts on the way (``dynamodb``, ``keys``, ``pk``), the value found
    (``pk_value``, ``MISSING`` if none) and its type; ``stop``, the level where the direct
    route stopped early (0: it did not), and ``stop_value``, the value it stopped at. A path
    that several fields read is walked once, by the first of them that runs: then these are
    ``pk_stop`` (None until walked) and ``pk_stop_value``, and ``pk_dotted`` keeps whether
    dotted keys offer other routes (None until asked).
    """
    segments = field.path.split(".")
    count = len(segments)
    if count > MAX_INLINE_SEGMENTS:
        src.emit(depth, f"unsure = True  # {count} segments: for the general matcher")
        return
    nodes = ["record"] + [src.node(segments[:size]) for size in range(1, count)]
    value, value_type = src.value(segments), src.local("type", segments)
    last = f"{nodes[-1]}.get({src.key(segments[-1])}, MISSING)"
    src.emit(depth, f"# field {value}")  # never the path itself: it is user data
    end = count - 1
    if field.path in src.walks:
        stop, stop_value = src.local("stop", segments), src.local("stop_value", segments)
        src.emit(depth, f"if {stop} is None:")
        inner = _follow(src, depth + 1, segments, nodes)
        src.emit(inner, f"{value} = {last}")
        src.emit(inner, f"{value_type} = type({value})")
        src.emit(inner, f"{stop} = 0")
        for level in reversed(range(end)):
            inner -= 1
            src.emit(inner, f"else: {stop}, {stop_value} = {level + 1}, {nodes[level + 1]}")
        src.emit(depth, f"if not {stop}:")
        dotted = src.local("dotted", segments)
        _value_test(src, depth + 1, field, segments, nodes, True, dotted)
        src.emit(depth, "else:")
        _stopped(src, depth + 1, field, segments, nodes, stop, stop_value)
        return
    inner = _follow(src, depth, segments, nodes)
    hoisted = (tuple(segments), True) in src.hoisted
    if not hoisted:
        src.emit(inner, f"{value} = {last}")
    _value_test(src, inner, field, segments, nodes, hoisted)
    if count == 1:
        return
    # The direct route stopped early, at the first value on the way that is not a dict.
    src.emit(inner, "stop = 0")
    for level in reversed(range(end)):
        inner -= 1
        src.emit(inner, f"else: stop, stop_value = {level + 1}, {nodes[level + 1]}")
    src.emit(depth, "if stop:")
    _stopped(src, depth + 1, field, segments, nodes, "stop", "stop_value")
