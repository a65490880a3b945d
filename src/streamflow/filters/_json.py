"""JSON text for patterns, without importing :mod:`json` (or :mod:`re`) on the cold path.

Filters are built when a Lambda handler module is imported, so making a pattern's compact text
(``Filter.Pattern``, and the 4096-character limit that applies to it) must not pull in the
``json`` package. Parsing text still uses :mod:`json`, imported when first needed.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["as_record", "compact_json", "copy_json", "lambda_view", "show", "utf16_length"]


def as_record(record: Any) -> Any:
    """What a filter matches for ``record``: a :class:`~streamflow.StreamRecord` (anything
    with a dict ``change``) is read as its DynamoDB change, the record as a DynamoDB stream
    delivers it (for Kinesis Data Streams for DynamoDB, the change its ``data`` carries); any
    other value is taken as it is. Duck-typed, so that filters need not import records.
    """
    if type(record) is dict:
        return record
    change = getattr(record, "change", None)
    return change if type(change) is dict else record


def lambda_view(record: Any) -> Any:
    """What Lambda applies a mapping's filters to, for one raw record of an event: a Kinesis
    record is filtered on its ``data`` alone, decoded from base64 JSON (``{"data": ...}``);
    any other record as it is.

    >>> lambda_view({"eventSource": "aws:kinesis", "kinesis": {"data": "eyJhIjogMX0="}})
    {'data': {'a': 1}}
    """
    if type(record) is not dict or record.get("eventSource") != "aws:kinesis":
        return record
    kinesis = record.get("kinesis")
    data = kinesis.get("data") if type(kinesis) is dict else None
    if not isinstance(data, str):
        return {}
    import binascii
    import json

    try:
        return {"data": json.loads(binascii.a2b_base64(data))}
    except (ValueError, RecursionError):  # not base64 JSON: only patterns on no field match
        return {"data": data}


def utf16_length(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the way Java (and so AWS) counts characters."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x20)}
_ESCAPES.update(
    {
        ord('"'): '\\"',
        ord("\\"): "\\\\",
        ord("\n"): "\\n",
        ord("\r"): "\\r",
        ord("\t"): "\\t",
        ord("\b"): "\\b",
        ord("\f"): "\\f",
    }
)


def _string(text: str) -> str:
    return '"' + text.translate(_ESCAPES) + '"'


def compact_json(value: Any, *, sort_keys: bool = False) -> str:
    """``value`` as compact JSON text, exactly as ``json.dumps(value, separators=(",", ":"),
    ensure_ascii=False)`` writes it, without importing :mod:`json` (nor :mod:`re`) on the
    cold-start path. Iterative, so any depth is fine.

    Raises:
        TypeError: for a value that is not JSON (the validator rejects those first).
    """
    out: list[str] = []
    stack: list[tuple[bool, Any]] = [(False, value)]
    while stack:
        is_text, item = stack.pop()
        if is_text:
            out.append(item)
        elif isinstance(item, str):
            out.append(_string(item))
        elif item is None:
            out.append("null")
        elif item is True:
            out.append("true")
        elif item is False:
            out.append("false")
        elif isinstance(item, int):
            out.append(int.__repr__(item))
        elif isinstance(item, float):
            out.append(float.__repr__(item))
        elif isinstance(item, dict):
            entries = sorted(item.items()) if sort_keys else list(item.items())
            stack.append((True, "}"))
            for index in range(len(entries) - 1, -1, -1):
                key, child = entries[index]
                stack.append((False, child))
                stack.append((True, ("," if index else "") + _string(key) + ":"))
            out.append("{")
        elif isinstance(item, list):
            stack.append((True, "]"))
            for index in range(len(item) - 1, -1, -1):
                stack.append((False, item[index]))
                if index:
                    stack.append((True, ","))
            out.append("[")
        else:
            raise TypeError(f"{type(item).__name__} is not a JSON value")
    return "".join(out)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON-like value (dicts and lists are copied, leaves shared)."""
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, Any]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in items:
            if isinstance(child, (dict, list)):
                copied: Any = {} if isinstance(child, dict) else []
                stack.append((child, copied))
            else:
                copied = child
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def show(value: object) -> str:
    """A value for an error message, as JSON when it is JSON."""
    try:
        return compact_json(value)
    except TypeError:
        return repr(value)
