"""Compile a validated pattern, once, into what the matchers need.

:func:`expand` turns the pattern into *branches*, one per combination of ``$or``
alternatives: each branch maps a dotted field path to its array of alternatives, built the
way AWS's engine builds it (keys in document order; a later key for the same path replaces an
earlier one, even across ``$or``). Each field's alternatives are compiled into a predicate
(``_leaf.py``), and each branch gets its general matcher (``_walk.py``, loaded on first use).
The fast matcher that reads records with plain ``dict.get`` calls is generated from these
branches by ``_codegen.py``, on the first match.
"""

from __future__ import annotations

from itertools import product

from streamflow.errors import FilterValidationError
from streamflow.filters._leaf import compile_field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Generator
    from typing import Any, TypeAlias

    from streamflow.filters._leaf import Predicate
    from streamflow.filters._walk import Absent, Wanted

__all__ = [
    "MAX_BRANCHES",
    "BranchPlan",
    "CompiledField",
    "CompiledPattern",
    "compile_pattern",
    "expand",
    "sort_key",
]

MAX_BRANCHES = 1024
"""Most ``$or`` combinations one pattern may expand to (a streamflow limit, not AWS's)."""

Branch: TypeAlias = "dict[str, list[Any]]"
Matcher: TypeAlias = "Callable[[Any], bool]"


def sort_key(path: str) -> bytes:
    """Order paths as Java sorts strings (UTF-16 code units), as the engine does."""
    return path.encode("utf-16-be", "surrogatepass")


# --- expansion --------------------------------------------------------------------------------

_Expansion: TypeAlias = "Generator[tuple[dict[str, Any], str, list[Branch], set[str]], None, None]"


def _expand(
    obj: dict[str, Any], prefix: str, branches: list[Branch], overridden: set[str]
) -> _Expansion:
    for key, value in obj.items():
        if key == "$or":
            before = [dict(branch) for branch in branches]
            branches.clear()
            for alternative in value:
                scratch = [dict(branch) for branch in before] or [{}]
                yield alternative, prefix, scratch, overridden
                branches.extend(scratch)
                if len(branches) > MAX_BRANCHES:
                    raise FilterValidationError(
                        f"{prefix}$or",
                        f"the pattern expands to more than {MAX_BRANCHES} combinations of "
                        "$or alternatives; split it into several filters",
                    )
        elif isinstance(value, dict):
            yield value, f"{prefix}{key}.", branches, overridden
        else:
            if not branches:
                branches.append({})
            path = f"{prefix}{key}"
            for branch in branches:
                if path in branch:
                    overridden.add(path)
                branch[path] = value


def expand(pattern: dict[str, Any], overridden: set[str] | None = None) -> list[Branch]:
    """The branches of a validated pattern, in the engine's order and with its overrides.

    Args:
        pattern: a validated pattern.
        overridden: if given, receives the paths that a later key replaced in some branch
            (``{"a.b": [...], "a": {"b": [...]}}``, or a field repeated inside ``$or``).

    Raises:
        FilterValidationError: if ``$or`` combinations exceed :data:`MAX_BRANCHES`.
    """
    branches: list[Branch] = []
    seen = overridden if overridden is not None else set()
    stack = [_expand(pattern, "", branches, seen)]
    while stack:
        try:
            request = next(stack[-1])
        except StopIteration:
            stack.pop()
        else:
            stack.append(_expand(*request))
    return branches


# --- compiled pattern -------------------------------------------------------------------


class CompiledField:
    """One field of one branch: its path, its alternatives and their compiled test."""

    __slots__ = ("absent_ok", "alternatives", "inline", "path", "test")

    path: str
    alternatives: list[Any]
    test: Predicate | None
    """OR of the value alternatives; ``None`` when the field only says ``exists: false``."""
    absent_ok: bool
    """True when ``{"exists": false}`` is one of the alternatives."""
    inline: list[tuple[str, Any]] | None
    """The string test in parts the code generator can write out (None: call ``test``)."""

    def __init__(self, path: str, alternatives: list[Any]) -> None:
        self.path = path
        self.alternatives = alternatives
        self.test, self.absent_ok, self.inline = compile_field(alternatives)


def _slow(fields: list[CompiledField]) -> Matcher:
    ordered = sorted(range(len(fields)), key=lambda i: sort_key(fields[i].path))
    mixed = [i for i in ordered if fields[i].test is not None and fields[i].absent_ok]
    modes: list[tuple[list[Wanted], list[Absent]]] = []
    for choice in product((True, False), repeat=len(mixed)):
        as_value = dict(zip(mixed, choice, strict=True))
        wanted: list[Wanted] = []
        absent: list[Absent] = []
        for rank, i in enumerate(ordered):
            test = fields[i].test
            if test is not None and as_value.get(i, True):
                wanted.append((rank, fields[i].path, test))
            else:
                absent.append((rank, fields[i].path))
        modes.append((wanted, absent))

    def slow(record: Any) -> bool:
        # The general matcher loads on first use: most records never need it.
        from streamflow.filters._walk import match_branch

        return match_branch(record, modes)

    return slow


class BranchPlan:
    """One branch, ready for code generation: its fields and its general matcher."""

    __slots__ = ("fields", "slow")

    fields: tuple[CompiledField, ...]
    slow: Matcher

    def __init__(self, fields: tuple[CompiledField, ...]) -> None:
        self.fields = fields
        self.slow = _slow(list(fields))


class CompiledPattern:
    """A pattern compiled for matching. Build it with :func:`compile_pattern`."""

    __slots__ = ("overridden", "plans")

    plans: tuple[BranchPlan, ...]
    """One plan per branch (``$or`` combination), fields in pattern order."""
    overridden: frozenset[str]
    """Paths that a later key of the pattern replaced (see :func:`expand`)."""

    def __init__(self, branches: list[Branch], overridden: frozenset[str] = frozenset()) -> None:
        self.overridden = overridden
        self.plans = tuple(
            BranchPlan(tuple(CompiledField(path, alts) for path, alts in branch.items()))
            for branch in branches
        )

    @property
    def fields(self) -> tuple[tuple[CompiledField, ...], ...]:
        """Per branch, its fields in pattern order (for explanations and lint)."""
        return tuple(plan.fields for plan in self.plans)

    def generic(self, record: Any) -> bool:
        """The general matcher alone (any JSON value): true if any branch matches."""
        return any(plan.slow(record) for plan in self.plans)


def compile_pattern(pattern: dict[str, Any]) -> CompiledPattern:
    """Compile a validated pattern.

    Raises:
        FilterValidationError: if ``$or`` combinations exceed :data:`MAX_BRANCHES`.
    """
    overridden: set[str] = set()
    branches = expand(pattern, overridden)
    return CompiledPattern(branches, frozenset(overridden))
