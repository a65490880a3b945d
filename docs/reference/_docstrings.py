"""A griffe extension for the API reference: our docstrings, read as the reference renders them.

streamflow's docstrings are Google style (``Args:``, ``Returns:``, ``Raises:``) with the reST
bits that read well in ``help()``: Sphinx roles (``:func:`parse_event```), literal blocks
after ``::`` and ``>>>`` examples that pytest runs as doctests. mkdocstrings renders
docstrings as Markdown, so before it does, this extension rewrites, in every docstring:

- a role naming one of our objects into an autorefs cross-reference,
  ``[`parse_event()`][parse_event]``, resolved from the docstring's scope
  (``scoped_crossrefs``); a reference to nothing is a warning, which ``mkdocs build
  --strict`` turns into a failure. A role naming the standard library stays code;
- each run of ``>>>`` lines (with the output under it) into a fenced ``pycon`` block;
- each ``::`` literal block into a fenced block, and a simple reST table into a Markdown one.

Loaded by mkdocs.yml (``extensions:`` of the python handler); never imported by the package.
"""

from __future__ import annotations

import re
import sys
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(func|class|meth|attr|data|mod|exc|obj):`(~?)([^`<>]+)`")
_STDLIB = set(sys.stdlib_module_names) | {"builtins"}


def _role(match: re.Match[str]) -> str:
    kind, short, target = match[1], match[2], match[3].strip()
    shown = target.rsplit(".", 1)[-1] if short else target
    if kind in ("func", "meth"):
        shown += "()"
    first = target.lstrip(".").split(".", 1)[0]
    if first in _STDLIB or (kind == "mod" and first != "streamflow"):
        return f"`{shown}`"  # not ours: no inventory of the standard library offline
    return f"[`{shown}`][{target}]"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _fence(lines: list[str], lang: str, indent: int, *, at: int | None = None) -> list[str]:
    """``lines`` less ``indent`` spaces, fenced at column ``at`` (``indent`` by default)."""
    pad = " " * (indent if at is None else at)
    body = [line[indent:] if line.strip() else "" for line in lines]
    while body and not body[-1]:
        body.pop()
    return [f"{pad}```{lang}", *(pad + line if line else "" for line in body), f"{pad}```"]


def _language(code: str) -> str:
    """``pycon`` for a doctest, ``python`` for code that compiles, ``text`` for the rest."""
    if code.lstrip().startswith(">>>"):
        return "pycon"
    try:
        compile(textwrap.dedent(code), "<docstring>", "exec", dont_inherit=True)
    except SyntaxError:
        return "text"
    return "python"


def _table(lines: list[str]) -> list[str]:
    """A simple reST table (rules of ``=``) as a Markdown table."""
    rule = lines[0]
    spans = [(m.start(), m.end()) for m in re.finditer(r"=+", rule)]

    def cells(line: str) -> list[str]:
        out = []
        for i, (start, _) in enumerate(spans):
            end = spans[i + 1][0] if i + 1 < len(spans) else len(line)
            out.append(line[start:end].strip())
        return out

    rows = [cells(line) for line in lines if line.strip() and not re.fullmatch(r"[= ]+", line)]
    head, *body = rows
    sep = ["---"] * len(spans)
    return [f"| {' | '.join(r)} |" for r in (head, sep, *body)]


def rewrite(text: str) -> str:
    """The docstring ``text`` as Markdown for mkdocstrings (see the module docstring)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    in_fence = False
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
            out.append(line)
            i += 1
            continue
        if in_fence:
            out.append(line)
            i += 1
            continue
        if re.fullmatch(r"=+( +=+)+", stripped):  # a reST table: rule, head, rule, rows, rule
            end = i + 1
            rules = 1
            while end < len(lines) and rules < 3:
                if re.fullmatch(r"=+( +=+)+", lines[end].strip()):
                    rules += 1
                end += 1
            out.extend(_table(lines[i:end]))
            i = end
            continue
        if stripped.startswith(">>>"):
            indent = _indent(line)
            end = i
            while end < len(lines) and lines[end].strip() and _indent(lines[end]) >= indent:
                end += 1
            out.extend(_fence(lines[i:end], "pycon", indent))
            i = end
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            indent = _indent(line)
            start = i + 1
            while start < len(lines) and not lines[start].strip():
                start += 1
            end = start
            while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > indent):
                end += 1
            if start < end and _indent(lines[start]) > indent:
                block = lines[start:end]
                lang = _language("\n".join(block))
                head = line.rstrip()[:-1]  # "Usage::" -> "Usage:"; "text ::" -> "text :"
                if head.rstrip().endswith(" :") or head.strip() == ":":
                    head = head.rstrip()[:-1].rstrip()
                if head.strip():
                    out.append(_ROLE.sub(_role, head))
                out.append("")
                deepest = min(_indent(b) for b in block if b.strip())
                out.extend(_fence(block, lang, deepest, at=indent))
                if end < len(lines):
                    out.append("")
                i = end
                continue
        out.append(_ROLE.sub(_role, line))
        i += 1
    return "\n".join(out)


class ReadDocstrings(griffe.Extension):
    """Rewrites every docstring once, as it is loaded."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value)
