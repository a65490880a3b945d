"""The text of a generated function: names that read, constants passed in, and a compile
step that lets tracebacks and pdb show the generated lines.

Names: a local or constant is named after what it holds, from the pattern path it follows.
The dict at ``dynamodb.Keys`` is ``keys``; the value at ``dynamodb.Keys.PK.S`` is
``pk_value`` (the type descriptor at the end of a path names no local) and its type
``pk_value_type``; the key ``"eventName"`` is the constant ``EVENT_NAME``; the strings a
field accepts are ``EVENT_NAME_VALUES``. When two paths would share a name, the longer
path's name grows (``old_image_status_value`` beside ``status_value``), then a number is
added. Only keys that already read as identifiers lend their name (ASCII letters, digits and
``_``, up to 40 characters, in snake case); any other key is ``field`` or ``KEY``. Values
never reach the source: every key, set and predicate is passed in through the namespace.

Source lines: the source is registered with :mod:`linecache` under a unique pseudo-filename
(``streamflow.filters <generated match #3>``), as ``attrs`` does for the methods it writes.
``linecache`` is not loaded by a bare interpreter (it imports ``tokenize``, hence ``re``), so
it is not imported here: if it is not loaded yet, the namespace's ``__loader__`` hands it the
source when it asks, as it asks a module's loader. The entry is dropped with the code.
"""

from __future__ import annotations

import sys
from _weakref import ref  # weakref.ref itself, without loading weakref.py
from functools import lru_cache
from itertools import count
from keyword import kwlist  # loaded with collections

from streamflow.filters._dynamodb import DESCRIPTORS
from streamflow.filters._leaf import LEAF_TYPES, fold_case

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

__all__ = ["MISSING", "Source"]

MISSING: Any = object()
"""What a look-up finds where there is no key (``None`` is a value)."""

_LOCALS = ("record", "type", "unsure", "verdict", "stop", "stop_value", "hit", "mask")
"""The locals (and the builtin) that the code writes by these names, whatever the pattern."""
_SERIAL = count(1)
_LIVE: dict[str, Any] = {}
"""Weak references to the generated code, by filename: their callbacks drop the source."""
_TYPE_SUFFIX = {"M": "map", "L": "list"}


@lru_cache(maxsize=1024)  # the same few keys come back in every field and every filter
def _snake(segment: str) -> str | None:
    """``segment`` in snake case if it reads as an identifier (``NewImage`` ->
    ``new_image``, ``PK`` -> ``pk``), else None."""
    if not (
        0 < len(segment) <= 40
        and segment.isascii()
        and segment[0].isalpha()
        and segment.replace("_", "a").isalnum()
    ):
        return None
    if segment.islower() or segment.isupper():  # "dynamodb", "PK"
        return segment.lower()
    out = []
    for i, char in enumerate(segment):
        if char.isupper() and i and segment[i - 1] != "_":
            before, after = segment[i - 1], segment[i + 1 : i + 2]
            if not before.isupper() or after.islower():  # "eventName", "HTTPServer"
                out.append("_")
        out.append(char.lower())
    return "".join(out)


def _words(segments: Sequence[str]) -> list[str]:
    """Each segment as a word; type descriptors inside a path (``M``, ``L``) are left out."""
    return [
        _snake(segment) or "field"
        for i, segment in enumerate(segments)
        if not (i and segment in DESCRIPTORS)
    ]


def _stems(segments: Sequence[str]) -> list[str]:
    """Names for a path from short to long: its last word, then with the words before it."""
    words = _words(segments)
    return ["_".join(words[-size:]) for size in range(1, len(words) + 1)]


def _typed(segments: Sequence[str]) -> bool:
    """Whether the path ends on a type descriptor (``dynamodb.Keys.PK.S``)."""
    return len(segments) > 1 and segments[-1] in DESCRIPTORS


class _SourceLoader:
    """What :mod:`linecache` asks for the source of a module it has no file for."""

    __slots__ = ("source",)

    def __init__(self, source: str) -> None:
        self.source = source

    def get_source(self, name: str) -> str:
        return self.source


class Source:
    """The lines of one generated function, its namespace and the names it uses.

    It starts with ``def <function>(record):`` and the guard that sends a record that is not
    a dict to ``fallback``.
    """

    def __init__(self, function: str, fallback: Callable[[Any], Any], fallback_name: str) -> None:
        self.function = function
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {"MISSING": MISSING, "LEAF": LEAF_TYPES, "FOLD": fold_case}
        self._taken: set[str] = {*kwlist, *_LOCALS, function, *self.namespace}
        self._names: dict[object, str] = {}
        self._keys: dict[str, str] = {}  # the most asked for: looked up first
        self.hoisted: dict[tuple[tuple[str, ...], bool], str] = {}
        """Look-ups several fields share, done once at the top: (route, is terminal) -> local."""
        self.walks: set[str] = set()
        """Paths several fields read, walked once by the first of them that runs."""
        self.elsewhere: dict[tuple[str, int], str] = {}
        """What ``_codegen_field`` writes to ask whether dotted keys offer other routes to a
        path, below one of its levels: (path, level) -> the expression."""
        self.emit(0, f"def {function}(record):")
        guard = self.const(fallback, fallback_name)
        self.emit(1, f"if type(record) is not dict: return {guard}(record)")

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def name(self, key: object, *candidates: str) -> str:
        """The name of what ``key`` stands for: the first free candidate, or the last with a
        number; the same name each time for the same key."""
        found = self._names.get(key)
        if found is not None:
            return found
        taken = self._taken
        for found in candidates:
            if found not in taken:
                break
        else:
            number = 2
            while f"{candidates[-1]}_{number}" in taken:
                number += 1
            found = f"{candidates[-1]}_{number}"
        taken.add(found)
        self._names[key] = found
        return found

    def const(self, value: Any, *candidates: str) -> str:
        """A constant in the namespace, by name: strings, sets and tuples of strings named
        alike are passed once."""
        kind = type(value)
        same = (kind, value) if kind in (str, tuple, frozenset) else id(value)
        name = self.name(("const", candidates[0], same), *candidates)
        self.namespace[name] = value
        return name

    # --- names of what the code reads along a path -------------------------------------------

    def key(self, key: str) -> str:
        """The constant holding ``key`` (a key of the record, dotted or not)."""
        found = self._keys.get(key)
        if found is not None:
            return found
        words = []
        for part in key.split("."):
            word = _snake(part)
            if word is None:
                words = ["DOTTED_KEY" if "." in key else "KEY"]
                break
            words.append(word.upper())
        name = self._keys[key] = self.name(("const", "key", key), "_DOT_".join(words))
        self.namespace[name] = key
        return name

    def node(self, segments: Sequence[str]) -> str:
        """The local holding the dict at the end of ``segments`` (the direct route)."""
        found = self._names.get(("node", *segments))
        if found is not None:
            return found
        suffix = ""
        if _typed(segments):
            suffix = "_" + _TYPE_SUFFIX.get(segments[-1], segments[-1].lower())
        return self.name(("node", *segments), *(stem + suffix for stem in _stems(segments)))

    def value(self, segments: Sequence[str]) -> str:
        """The local holding the value at the end of ``segments`` (``MISSING`` if none)."""
        found = self._names.get(("value", *segments))
        if found is not None:
            return found
        if _typed(segments):
            candidates = [stem + "_value" for stem in _stems(segments[:-1])]
        else:
            candidates = [name for stem in _stems(segments) for name in (stem, stem + "_value")]
        return self.name(("value", *segments), *candidates)

    def label(self, segments: Sequence[str]) -> str:
        """A stem for the names that belong to a path's field (``pk`` for ``pk_value``)."""
        value = self.value(segments)
        return value[: -len("_value")] if value.endswith("_value") else value

    def local(self, role: str, segments: Sequence[str]) -> str:
        """A local about a path's value: its ``type``, or a shared walk's ``stop`` level,
        ``stop_value`` and whether ``dotted`` keys offer other routes."""
        found = self._names.get((role, *segments))
        if found is not None:
            return found
        base = self.value(segments) if role == "type" else self.label(segments)
        return self.name((role, *segments), f"{base}_{role}")

    # --- the function --------------------------------------------------------------------------

    def compile(self) -> Any:
        """The function, compiled under a pseudo-filename that tracebacks and pdb read.

        Its source stays in its ``__source__`` attribute.
        """
        source = "\n".join(self.lines) + "\n"
        filename = f"streamflow.filters <generated {self.function} #{next(_SERIAL)}>"
        linecache = sys.modules.get("linecache")
        if linecache is not None:
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = self.namespace
        namespace["__name__"] = filename  # not a module: no other source is found for it
        namespace["__loader__"] = _SourceLoader(source)  # for linecache, if loaded later
        exec(compile(source, filename, "exec"), namespace)
        function = namespace.pop(self.function)  # no cycle: freed when its owner goes

        def forget(_: object) -> None:
            _LIVE.pop(filename, None)
            cache = getattr(sys.modules.get("linecache"), "cache", None)
            if cache is not None:
                cache.pop(filename, None)

        # A traceback keeps the code alive (its frames hold it), so its lines stay readable.
        _LIVE[filename] = ref(function.__code__, forget)
        function.__source__ = source
        return function
