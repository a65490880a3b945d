"""A ``FilterCriteria`` written as each deployment tool writes it (``streamflow criteria``).

Every writer here is pure text: no YAML, HCL or CDK library is imported, so the command
works wherever streamflow is installed. The tests read each output back with the tool's own
parser (cfn-lint, python-hcl2, a CDK synth, PyYAML) and compare the patterns.

The traps each tool sets, and how they are avoided (``docs/deploying-filters.md``):

* CloudFormation and SAM: ``Pattern`` is JSON *text*, so it is written as one quoted YAML
  scalar; with no filters the property is ``{}`` (an empty ``Filters`` list is refused).
* CDK: ``lambda_.FilterCriteria.filter(pattern)`` hands a dict to JavaScript, whose
  ``JSON.stringify`` writes the pattern: integers beyond 2**53 lose digits there, and keys
  that look like array indexes move first. A pattern with such a number, or one whose key
  order matters (a later key replacing an earlier one), is given as its JSON text
  (``{"pattern": "..."}``) instead, which CDK passes on untouched.
* Terraform: ``jsonencode`` sorts object keys, harmless unless the key order of the pattern
  matters: such a pattern is written as its JSON text. Strings holding ``${`` or ``%{`` are
  templates in HCL, escaped as ``$${`` and ``%%{``; every key is quoted (``$or``,
  ``anything-but``).
* Serverless: ``filterPatterns`` is a list of pattern *objects* (the framework stringifies
  them); strings are always quoted, since a plain ``30`` would become the number 30 and never
  match DynamoDB's number text ``"30"``, and numbers are written so that YAML 1.1 and 1.2
  parsers both read numbers (``1.0e-07``, not ``1e-07``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from streamflow.filters._criteria import FilterCriteria
from streamflow.filters._filter import Filter

__all__ = ["FORMATS", "export_criteria"]

FORMATS = ("cloudformation", "sam", "cdk", "terraform", "serverless", "json")
"""The ``--format`` values of ``streamflow criteria``."""

_JS_SAFE_INTEGER = 2**53 - 1
_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_INDENT = "  "


def export_criteria(
    criteria: FilterCriteria, fmt: str, *, source: str = "dynamodb", origin: str = ""
) -> str:
    """``criteria`` as the deployment tool ``fmt`` writes it.

    Args:
        criteria: the mapping's filters, already in the source's shape (for Kinesis, from
            ``Router.filter_criteria(source="kinesis")`` or ``FilterCriteria.for_kinesis()``).
        fmt: one of :data:`FORMATS`.
        source: ``"dynamodb"`` or ``"kinesis"``: which event source the comments name.
        origin: where the filters come from (``app:router``), named in the comment.

    Returns:
        The text, ending with a newline.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.

    >>> from streamflow.filters import Filter, FilterCriteria
    >>> print(export_criteria(FilterCriteria(Filter.insert()), "json"), end="")
    {"Filters": [{"Pattern": "{\\"eventName\\":[\\"INSERT\\"]}"}]}
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    kinesis = source == "kinesis"
    where = f"{origin}, " if origin else ""
    stream = "a Kinesis data stream" if kinesis else "a DynamoDB stream"
    return writer(criteria, kinesis, f"{where}{stream}")


def _json(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    return json.dumps(criteria.to_cloudformation(), ensure_ascii=False) + "\n"


def _cloudformation(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    head = f"# Properties of an AWS::Lambda::EventSourceMapping ({about})\n"
    return head + _cfn_property(criteria)


def _sam(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    kind = "Kinesis" if kinesis else "DynamoDB"
    head = f"# Events.<name>.Properties of an AWS::Serverless::Function, Type: {kind} ({about})\n"
    return head + _cfn_property(criteria)


def _cfn_property(criteria: FilterCriteria) -> str:
    if not criteria.filters:
        return "# the routes take every record: no filters (or leave FilterCriteria out)\n" + (
            "FilterCriteria: {}\n"
        )
    lines = ["FilterCriteria:", "  Filters:"]
    lines += [f"    - Pattern: {_yaml_text(f.to_json())}" for f in criteria.filters]
    return "\n".join(lines) + "\n"


def _yaml_text(text: str) -> str:
    """A YAML scalar holding ``text``: single-quoted if it can be, else double-quoted."""
    if text.isprintable():
        return "'" + text.replace("'", "''") + "'"
    return _quoted(text)


def _cdk(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    event_source = "KinesisEventSource(stream" if kinesis else "DynamoEventSource(table"
    lines = [
        f"# {about}: {event_source}, ..., filters=filters)",
        "from aws_cdk import aws_lambda as lambda_",
        "",
    ]
    if not criteria.filters:
        lines.insert(1, "# the routes take every record: no filters")
        return "\n".join([*lines, "filters: list[dict[str, str]] = []", ""])
    lines.append("filters = [")
    for flt in criteria.filters:
        if _js_exact(flt):
            lines.append(
                f"    lambda_.FilterCriteria.filter({_multiline(flt.pattern, 1, _PYTHON)}),"
            )
        else:  # JSON.stringify would change it: the text itself, as CDK passes it on
            lines.append(
                "    # as JSON text: JavaScript would round a number or reorder keys of this one"
            )
            lines.append(f'    {{"pattern": {_quoted(flt.to_json())}}},')
    return "\n".join([*lines, "]", ""])


def _js_exact(flt: Filter) -> bool:
    """Whether JavaScript's ``JSON.stringify`` gives back this pattern unchanged in meaning:
    no integer beyond 2**53, and no key order that matters."""
    if flt._compiled.overridden:
        return False
    stack: list[Any] = [flt.pattern]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif type(value) is int and abs(value) > _JS_SAFE_INTEGER:
            return False
    return True


def _terraform(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    head = f'# in resource "aws_lambda_event_source_mapping" ({about})\n'
    if not criteria.filters:
        return head + "# the routes take every record: no filters, so no filter_criteria block\n"
    lines = ["filter_criteria {"]
    for flt in criteria.filters:
        lines.append("  filter {")
        if flt._compiled.overridden:  # jsonencode sorts keys, and here their order matters
            lines.append("    # as JSON text: jsonencode would sort its keys, and their order")
            lines.append("    # decides which rule AWS keeps")
            lines.append(f"    pattern = {_hcl_string(flt.to_json())}")
        else:
            lines.append(f"    pattern = jsonencode({_multiline(flt.pattern, 2, _HCL)})")
        lines.append("  }")
    lines.append("}")
    return head + "\n".join(lines) + "\n"


def _hcl_string(text: str) -> str:
    """A quoted HCL string: ``${`` and ``%{`` would start a template, so they are doubled."""
    return _quoted(text).replace("${", "$${").replace("%{", "%%{")


def _serverless(criteria: FilterCriteria, kinesis: bool, about: str) -> str:
    kind = "kinesis" if kinesis else "dynamodb"
    head = f"# under functions.<name>.events[].stream (type: {kind}) in serverless.yml ({about})\n"
    if not criteria.filters:
        return head + "# the routes take every record: no filters, so no filterPatterns\n"
    lines = ["filterPatterns:"]
    for flt in criteria.filters:
        if not _js_exact(flt):
            lines.append("  # note: Node's JSON.stringify may round a number or reorder keys here")
        body = _yaml(flt.pattern, 2).splitlines()
        lines.append("  - " + body[0].lstrip())
        lines.extend(body[1:])
    return head + "\n".join(lines) + "\n"


def _yaml(value: dict[str, Any], depth: int) -> str:
    """A block mapping, ``depth`` levels in; lists and what they hold in flow style."""
    lines = []
    for key, item in value.items():
        label = _INDENT * depth + _yaml_key(key) + ":"
        if isinstance(item, dict):
            lines.append(label)
            lines.append(_yaml(item, depth + 1))
        else:
            lines.append(f"{label} {_inline(item, _YAML)}")
    return "\n".join(lines)


class _Syntax(NamedTuple):
    """How one language writes a value on one line."""

    opening: str  # of an object on one line
    closing: str
    pair: str  # between a key and its value
    indent: str  # of an object over several lines
    comma: str  # after each of its items
    null: str
    true: str
    false: str
    string: Callable[[str], str]
    number: Callable[[float], str]


def _inline(value: Any, syntax: _Syntax) -> str:
    """``value`` (a pattern or a part of it) on one line, as ``syntax`` writes it."""
    if isinstance(value, dict):
        items = ", ".join(
            f"{syntax.string(k)}{syntax.pair}{_inline(v, syntax)}" for k, v in value.items()
        )
        return syntax.opening + items + syntax.closing
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v, syntax) for v in value) + "]"
    if value is None:
        return syntax.null
    if isinstance(value, bool):
        return syntax.true if value else syntax.false
    if isinstance(value, str):
        return syntax.string(value)
    return syntax.number(value)


def _multiline(value: Any, depth: int, syntax: _Syntax) -> str:
    """``value`` with each object over several lines (``depth`` levels in), the rest on one."""
    if not isinstance(value, dict):
        return _inline(value, syntax)
    pad = syntax.indent * (depth + 1)
    items = [
        f"{pad}{syntax.string(k)}{syntax.pair}{_multiline(v, depth + 1, syntax)}{syntax.comma}"
        for k, v in value.items()
    ]
    return "{\n" + "\n".join(items) + "\n" + syntax.indent * depth + "}"


def _yaml_float(value: float) -> str:
    """YAML 1.1 (PyYAML) reads a float only with a dot and a signed exponent: 1.0e-07."""
    text = repr(value)
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    if "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{exponent}"


def _yaml_key(key: str) -> str:
    if _PLAIN_KEY.match(key) and key.lower() not in _YAML_WORDS:
        return key
    return _quoted(key)


def _quoted(text: str) -> str:
    """A double-quoted string that Python, HCL and YAML all read back as ``text``: printable
    characters as they are, the others as ``\\n``, ``\\uXXXX`` or ``\\UXXXXXXXX``."""
    out = []
    for char in text:
        escape = _ESCAPES.get(char)
        if escape is not None:
            out.append(escape)
        elif char.isprintable():
            out.append(char)
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(f"\\U{ord(char):08X}")
    return '"' + "".join(out) + '"'


_PYTHON = _Syntax("{", "}", ": ", "    ", ",", "None", "True", "False", _quoted, repr)
_HCL = _Syntax("{ ", " }", " = ", "  ", "", "null", "true", "false", _hcl_string, repr)
_YAML = _Syntax("{", "}", ": ", "", "", "null", "true", "false", _quoted, _yaml_float)

_WRITERS: dict[str, Callable[[FilterCriteria, bool, str], str]] = {
    "cloudformation": _cloudformation,
    "sam": _sam,
    "cdk": _cdk,
    "terraform": _terraform,
    "serverless": _serverless,
    "json": _json,
}
