"""Value operators compiled into one predicate over a single leaf value.

A field's array of alternatives (``["a", {"prefix": "b"}, {"exists": false}]``) becomes a
pair: ``test(leaf) -> bool`` for the value alternatives (OR-ed), and a flag for
``exists: false``. The predicate is only ever called with a JSON leaf (``str``, ``int``,
``float``, ``bool`` or ``None``); finding the leaves is the matcher's job.

Semantics follow AWS's engine: matching is type-strict (``"1"`` never equals ``1``, ``true``
never equals ``1``), number literals compare by value (``300`` equals ``300.0``), string
operators only ever match strings, and ``anything-but`` matches any leaf of another type.
"""

from __future__ import annotations

from streamflow.filters._operands import looks_like_ip, parse_cidr, parse_wildcard

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    import ipaddress
    from collections.abc import Callable
    from typing import Any, TypeAlias

__all__ = ["LEAF_TYPES", "Predicate", "compile_field", "fold_case", "wildcard_matcher"]

LEAF_TYPES: frozenset[type] = frozenset({str, int, float, bool, type(None)})
"""Types of the JSON values that filters match (objects and arrays are not leaves)."""

Predicate: TypeAlias = "Callable[[Any], bool]"


# --- case folding -----------------------------------------------------------------------------


class _FoldTable(dict[int, str]):
    """Per-character simple case folding, filled on demand for ``str.translate``.

    Java's ``equalsIgnoreCase`` compares characters one by one: upper-case both, then
    lower-case both. Python's ``str.upper``/``lower`` use *full* mappings (``"ß".upper()`` is
    ``"SS"``), so a mapping that changes the length is ignored here, as Java ignores it.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        upper = char.upper()
        if len(upper) != 1:
            upper = char
        lower = upper.lower()
        if len(lower) != 1:  # only U+0130, whose simple lower-case mapping is "i"
            lower = "i" if upper == "\u0130" else upper
        self[code] = lower
        return lower


_FOLD = _FoldTable()


def fold_case(text: str) -> str:
    """Fold ``text`` so that two strings are equal ignoring case iff their folds are equal."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD)


# --- wildcard ---------------------------------------------------------------------------------


def wildcard_matcher(pieces: list[str]) -> Callable[[str], bool]:
    """A matcher for the literal ``pieces`` between the stars of a wildcard pattern.

    Runs in linear time: the first and last pieces anchor the ends, the middle ones are found
    left to right with ``str.find`` (leftmost placement is always safe for ``*``).
    """
    if len(pieces) == 1:
        only = pieces[0]
        return only.__eq__
    first, *middle, last = pieces
    head, tail = len(first), len(last)

    def match(text: str) -> bool:
        end = len(text) - tail
        if end < head or not text.startswith(first) or not text.endswith(last):
            return False
        position = head
        for piece in middle:
            found = text.find(piece, position, end)
            if found < 0:
                return False
            position = found + len(piece)
        return True

    return match


# --- IP addresses -----------------------------------------------------------------------------


def _as_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not looks_like_ip(text):
        return None
    import ipaddress

    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# --- the compiler -----------------------------------------------------------------------------


def _always(value: object) -> bool:
    return True


def _is_number(value: object) -> bool:
    kind = type(value)
    return kind is int or kind is float


def _range_test(operands: list[Any]) -> Callable[[Any], bool]:
    op = operands[0]
    bound = operands[1]
    if len(operands) == 2:
        if op == "=":
            return lambda v: v == bound
        if op == "<":
            return lambda v: v < bound
        if op == "<=":
            return lambda v: v <= bound
        if op == ">":
            return lambda v: v > bound
        return lambda v: v >= bound
    high = operands[3]
    if op == ">":
        if operands[2] == "<":
            return lambda v: bound < v < high
        return lambda v: bound < v <= high
    if operands[2] == "<":
        return lambda v: bound <= v < high
    return lambda v: bound <= v <= high


def _anything_but(operand: Any) -> Predicate:
    """``anything-but``: true for any leaf that is not excluded (other types included)."""
    if isinstance(operand, dict):
        ((form, value),) = operand.items()
        items: list[str] = value if isinstance(value, list) else [value]
        if form == "prefix":
            prefixes = tuple(items)
            return lambda v: type(v) is not str or not v.startswith(prefixes)
        if form == "suffix":
            suffixes = tuple(items)
            return lambda v: type(v) is not str or not v.endswith(suffixes)
        if form == "equals-ignore-case":
            folded = frozenset(fold_case(item) for item in items)
            return lambda v: type(v) is not str or fold_case(v) not in folded
        matchers = [wildcard_matcher(parse_wildcard(item, "")) for item in items]
        return lambda v: type(v) is not str or not any(m(v) for m in matchers)
    values = operand if isinstance(operand, list) else [operand]
    if isinstance(values[0], str):
        texts = frozenset(values)
        return lambda v: type(v) is not str or v not in texts
    numbers = frozenset(values)
    return lambda v: not _is_number(v) or v not in numbers


class _Parts:
    """The alternatives of one field, sorted by the kind of leaf they can match."""

    def __init__(self) -> None:
        self.strings: set[str] = set()
        self.numbers: set[int | float] = set()
        self.constants: set[object] = set()  # True, False, None (compared by identity)
        self.prefixes: list[str] = []
        self.suffixes: list[str] = []
        self.folded: set[str] = set()
        self.folded_prefixes: list[str] = []
        self.folded_suffixes: list[str] = []
        self.string_tests: list[Predicate] = []
        self.number_tests: list[Predicate] = []
        self.any_tests: list[Predicate] = []
        self.ips: set[object] = set()
        self.absent_ok = False
        self.has_value = False

    def add(self, alternative: Any) -> None:
        if alternative is None or isinstance(alternative, bool):
            self.constants.add(alternative)
        elif isinstance(alternative, str):
            self.strings.add(alternative)
            if looks_like_ip(alternative) == 6:  # IPv6 literals match any spelling of the address
                ip = _as_ip(alternative)
                if ip is not None:
                    self.ips.add(ip)
        elif isinstance(alternative, (int, float)):
            self.numbers.add(alternative)
        else:
            ((name, operand),) = alternative.items()
            self._add_operator(name, operand)
            return
        self.has_value = True

    def _add_operator(self, name: str, operand: Any) -> None:
        if name == "exists":
            if operand:
                self.any_tests.append(_always)
                self.has_value = True
            else:
                self.absent_ok = True
            return
        self.has_value = True
        if name in ("prefix", "suffix"):
            if isinstance(operand, dict):
                target = self.folded_prefixes if name == "prefix" else self.folded_suffixes
                target.append(fold_case(operand["equals-ignore-case"]))
            else:
                (self.prefixes if name == "prefix" else self.suffixes).append(operand)
        elif name == "equals-ignore-case":
            self.folded.add(fold_case(operand))
        elif name == "wildcard":
            self.string_tests.append(wildcard_matcher(parse_wildcard(operand, "")))
        elif name == "cidr":
            network = parse_cidr(operand, "")
            self.string_tests.append(lambda v: (ip := _as_ip(v)) is not None and ip in network)
        elif name == "numeric":
            self.number_tests.append(_range_test(operand))
        else:  # anything-but
            self.any_tests.append(_anything_but(operand))

    def inline(self) -> list[tuple[str, Any]] | None:
        """How a string leaf is tested, as simple parts the code generator can write out.

        Each part is ``("in", set)``, ``("prefix", tuple)``, ``("suffix", tuple)``,
        ``("fold", set)`` (case-insensitive equality) or ``("always", None)``; a string
        matches if any part does, and no parts means no string matches. ``None``: too
        complex, call the predicate.
        """
        if _always in self.any_tests:
            return [("always", None)]
        if self.any_tests or self.string_tests or self.ips:
            return None
        if self.folded_prefixes or self.folded_suffixes:
            return None
        parts: list[tuple[str, Any]] = []
        if self.strings:
            parts.append(("in", frozenset(self.strings)))
        if self.prefixes:
            parts.append(("prefix", tuple(self.prefixes)))
        if self.suffixes:
            parts.append(("suffix", tuple(self.suffixes)))
        if self.folded:
            parts.append(("fold", frozenset(self.folded)))
        return parts

    def build(self) -> Predicate | None:
        if not self.has_value:
            return None
        strings = frozenset(self.strings)
        numbers = frozenset(self.numbers)
        constants = frozenset(self.constants)
        prefixes, suffixes = tuple(self.prefixes), tuple(self.suffixes)
        folded = frozenset(self.folded)
        folded_prefixes, folded_suffixes = tuple(self.folded_prefixes), tuple(self.folded_suffixes)
        string_tests, number_tests = tuple(self.string_tests), tuple(self.number_tests)
        any_tests, ips = tuple(self.any_tests), frozenset(self.ips)
        uses_fold = bool(folded or folded_prefixes or folded_suffixes)
        simple_strings = not (uses_fold or string_tests or ips or suffixes)

        # The common shapes get a dedicated, cheaper predicate.
        if not (numbers or constants or number_tests or any_tests) and simple_strings:
            if not prefixes:
                return strings.__contains__  # a set of str never contains a non-str leaf
            if not strings:
                return lambda v: type(v) is str and v.startswith(prefixes)
            return lambda v: type(v) is str and (v in strings or v.startswith(prefixes))
        if any_tests == (_always,):
            return _always

        def test(value: Any) -> bool:
            kind = type(value)
            if kind is str:
                if value in strings:
                    return True
                if prefixes and value.startswith(prefixes):
                    return True
                if suffixes and value.endswith(suffixes):
                    return True
                if uses_fold:
                    f = fold_case(value)
                    if (
                        f in folded
                        or (folded_prefixes and f.startswith(folded_prefixes))
                        or (folded_suffixes and f.endswith(folded_suffixes))
                    ):
                        return True
                if ips and (ip := _as_ip(value)) is not None and ip in ips:
                    return True
                for string_test in string_tests:
                    if string_test(value):
                        return True
            elif kind is int or kind is float:
                if value in numbers:
                    return True
                for number_test in number_tests:
                    if number_test(value):
                        return True
            elif value in constants:  # True, False or None; never 1 or 0 (bool is checked first)
                return True
            return any(t(value) for t in any_tests)

        return test


def compile_field(
    alternatives: list[Any],
) -> tuple[Predicate | None, bool, list[tuple[str, Any]] | None]:
    """Compile a validated array of alternatives.

    Returns:
        ``(test, absent_ok, inline)``: the OR of the value alternatives (``None`` when the
        field only says ``exists: false``); whether ``{"exists": false}`` is one of them;
        and the string test in parts for generated code (see ``_Parts.inline``).
    """
    parts = _Parts()
    for alternative in alternatives:
        parts.add(alternative)
    test = parts.build()
    return test, parts.absent_ok, parts.inline() if test is not None else None
