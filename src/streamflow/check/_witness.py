"""Example records of a filter pattern: records the pattern matches, one per alternative of
each field and per ``$or`` branch, built on a realistic stream record.

They turn a difference between two FilterCriteria into evidence: a record the code's filter
matches and the deployed one drops (a route that never fires), or the reverse (a delivered
record no route takes). Every example is checked with the filter's own matcher before it is
used, so a claim always rests on a record that shows it. Examples do not cover every record a
pattern matches: a difference they do not show is reported as such (SF004).

For a mapping on a Kinesis data stream that Kinesis Data Streams for DynamoDB writes to, an
example is a Kinesis record as Lambda delivers it (``streamflow.testing`` builds its
envelope, the change base64 JSON in ``kinesis.data``): a mapping's pattern (nested under
``data``) is matched against what Lambda filters, ``{"data": <decoded change>}``
(:attr:`Example.view`), and a route against the DynamoDB change (:attr:`Example.change`), as
the router matches a ``StreamRecord``.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from streamflow._value import Value
from streamflow.filters import Filter
from streamflow.filters._json import lambda_view

__all__ = ["Example", "base_record", "examples", "generic"]

_MISSING = object()
_LEAF_FOR_TYPE = {
    "S": "streamflow",
    "N": "1",
    "B": "c3RyZWFtZmxvdw==",
    "BOOL": True,
    "NULL": True,
    "SS": ["streamflow"],
    "NS": ["1"],
    "BS": ["c3RyZWFtZmxvdw=="],
}
_KEY_VALUE = {"S": "streamflow-check", "N": "7", "B": "c3RyZWFtZmxvdw=="}
_KEY_ITEM = {"S": "streamflow-check", "N": 7, "B": b"streamflow"}  # the same, decoded
_CREATED = 1767225600
_EVENTS = ("INSERT", "MODIFY", "REMOVE")
_OTHER = "streamflow-check"
_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000"
_MAX_BRANCHES = 32
_MAX_EXAMPLES = 64

Field = tuple[tuple[str, ...], list[Any]]


class Example(Value):
    """A record a pattern matches, and the fields the pattern chose (to describe it).

    ``record`` is the raw record as Lambda delivers it: a DynamoDB stream record, or a
    Kinesis record carrying the change in ``kinesis.data``.
    """

    __slots__ = ("chosen", "record")
    _order = ("record", "chosen")
    record: dict[str, Any]
    chosen: tuple[tuple[str, Any], ...]  # (dotted path, value or "absent")

    @property
    def kinesis(self) -> bool:
        """Whether the record came through a Kinesis data stream."""
        return self.record.get("eventSource") == "aws:kinesis"

    @property
    def view(self) -> Any:
        """What a mapping's filters are applied to (a Kinesis record: ``{"data": ...}``)."""
        return lambda_view(self.record)

    @property
    def change(self) -> Any:
        """The DynamoDB change, which routes match (as the router matches a record)."""
        if not self.kinesis:
            return self.record
        view = self.view
        return view.get("data") if isinstance(view, dict) else None

    def describe(self) -> str:
        """``an INSERT record with dynamodb.Keys.PK.S "SCORE#streamflow"`` (through Kinesis:
        ``a Kinesis record of an INSERT with data.dynamodb.Keys.PK.S ...``)."""
        change = self.change
        event = change.get("eventName", "a") if isinstance(change, dict) else "a"
        parts = [
            f"no {path}" if value is _MISSING else f"{path} {_text(value)}"
            for path, value in self.chosen
            if path not in ("eventName", "data.eventName")
        ]
        if not parts and isinstance(change, dict):  # nothing chosen: its keys tell it apart
            keys = change.get("dynamodb", {}).get("Keys", {})
            where = "data.dynamodb.Keys" if self.kinesis else "dynamodb.Keys"
            parts = [
                f"{where}.{name}.{kind} {_text(value)}"
                for name, typed in keys.items()
                if isinstance(typed, dict)
                for kind, value in typed.items()
            ]
        article = "an" if str(event)[:1] in "AEIOU" else "a"
        head = f"{article} {event} record"
        if self.kinesis:
            head = f"a Kinesis record of {article} {event}"
        return f"{head} with {', '.join(parts)}" if parts else head


def _text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


def base_record(
    *, view_type: str | None, keys: tuple[tuple[str, str], ...] | None, event_name: str = "INSERT"
) -> dict[str, Any]:
    """A plain stream record as Lambda delivers it, without images."""
    dynamodb: dict[str, Any] = {
        "ApproximateCreationDateTime": 1767225600,
        "Keys": {name: {kind: _KEY_VALUE.get(kind, "x")} for name, kind in keys or ()},
        "SequenceNumber": "100000000000000000001",
        "SizeBytes": 100,
        "StreamViewType": view_type or "NEW_AND_OLD_IMAGES",
    }
    return {
        "eventID": "streamflow-check",
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "eventSourceARN": _ARN,
        "dynamodb": dynamodb,
    }


def _kinesis_base(
    keys: tuple[tuple[str, str], ...] | None, event_name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Kinesis record as Kinesis Data Streams for DynamoDB delivers a change, without
    images (its envelope), and the Lambda view of it to place fields in."""
    from streamflow.testing import insert, modify, records, remove

    schema = keys or (("PK", "S"),)
    item = {name: _KEY_ITEM.get(kind, "x") for name, kind in schema}
    change = (
        insert(item)
        if event_name == "INSERT"
        else modify(item, item)
        if event_name == "MODIFY"
        else remove(item)
    )
    names = [name for name, _ in schema]
    [raw] = records(change, keys=names, source="kinesis", created_at=_CREATED)
    view = lambda_view(raw)
    dynamodb = view["data"]["dynamodb"]
    dynamodb.pop("NewImage", None)
    dynamodb.pop("OldImage", None)
    if not keys:
        dynamodb["Keys"] = {}
    return raw, view


def _wrapped(envelope: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """``envelope`` carrying ``view["data"]`` as its base64 JSON ``kinesis.data``."""
    import base64
    import json

    record = copy.deepcopy(envelope)
    data = view.get("data")
    record["kinesis"]["data"] = base64.b64encode(json.dumps(data).encode()).decode("ascii")
    return record


def examples(
    flt: Filter,
    *,
    view_type: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    source: str = "dynamodb",
) -> list[Example]:
    """Records ``flt`` matches: one per ``$or`` branch, and one per other alternative of
    each field, each on :func:`base_record` (``source="kinesis"``: on a Kinesis record,
    whose ``data`` the pattern is matched against)."""
    found: list[Example] = []
    for branch in itertools.islice(_branches(flt.pattern, ()), _MAX_BRANCHES):
        for choice in _choices(branch):
            example = _build(choice, view_type, keys, source)
            if example is not None and flt.matches(example.view) and example not in found:
                found.append(example)
            if len(found) >= _MAX_EXAMPLES:
                return found
    return found


def generic(
    *, view_type: str | None, keys: tuple[tuple[str, str], ...] | None, source: str = "dynamodb"
) -> list[Example]:
    """One plain record per event name."""
    if source == "kinesis":
        return [Example(_kinesis_base(keys, name)[0], ()) for name in _EVENTS]
    return [
        Example(base_record(view_type=view_type, keys=keys, event_name=name), ())
        for name in _EVENTS
    ]


def _branches(pattern: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[list[Field]]:
    """Each ``$or`` branch of the pattern as a flat list of (path, rules)."""
    fields: list[Field] = []
    alternatives: list[list[list[Field]]] = []
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            alternatives.append([branch for item in value for branch in _branches(item, prefix)])
            continue
        path = (*prefix, *key.split("."))
        if isinstance(value, Mapping):
            nested = list(itertools.islice(_branches(value, path), _MAX_BRANCHES))
            alternatives.append(nested)
        elif isinstance(value, list):
            fields.append((path, value))
    for combination in itertools.product(*alternatives):
        yield fields + [field for branch in combination for field in branch]


def _choices(fields: list[Field]) -> Iterator[list[tuple[tuple[str, ...], Any]]]:
    """The first alternative of every field, then each other alternative of one field."""
    first = [(path, rules[0]) for path, rules in fields if rules]
    yield first
    for index, (path, rules) in enumerate(fields):
        for rule in rules[1:]:
            varied = list(first)
            varied[index] = (path, rule)
            yield varied


def _build(
    choice: list[tuple[tuple[str, ...], Any]],
    view_type: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    source: str,
) -> Example | None:
    envelope: dict[str, Any] | None = None
    if source == "kinesis":
        envelope, record = _kinesis_base(keys, "INSERT")
    else:
        record = base_record(view_type=view_type, keys=keys)
    chosen = []
    for path, rule in choice:
        value = _value_for(rule, path[-1])
        if value is None:
            return None
        [leaf] = value
        _place(record, path, leaf)
        chosen.append((".".join(path), leaf))
    if envelope is not None:
        return Example(_wrapped(envelope, record), tuple(chosen))
    return Example(copy.deepcopy(record), tuple(chosen))


def _place(record: dict[str, Any], path: tuple[str, ...], leaf: Any) -> None:
    node = record
    for step in path[:-1]:
        child = node.get(step)
        if not isinstance(child, dict):
            if leaf is _MISSING:
                return
            child = node[step] = {}
        node = child
    if leaf is _MISSING:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = leaf


def _value_for(rule: Any, last: str) -> list[Any] | None:
    """``[value]`` matching ``rule`` (``[_MISSING]``: the field must be absent), or None."""
    if not isinstance(rule, dict):
        return [rule]
    [(operator, operand)] = rule.items()
    if operator == "exists":
        return [_LEAF_FOR_TYPE.get(last, "streamflow")] if operand else [_MISSING]
    if operator == "prefix":
        text = operand.get("equals-ignore-case") if isinstance(operand, dict) else operand
        return [f"{text}streamflow"] if isinstance(text, str) else None
    if operator == "suffix":
        text = operand.get("equals-ignore-case") if isinstance(operand, dict) else operand
        return [f"streamflow{text}"] if isinstance(text, str) else None
    if operator == "equals-ignore-case":
        return [operand]
    if operator == "wildcard":
        return [_unwildcard(operand)]
    if operator == "numeric":
        return [_number_in(operand)]
    if operator == "cidr":
        network = ipaddress.ip_network(operand, strict=False)
        return [str(network.network_address + (1 if network.num_addresses > 1 else 0))]
    if operator == "anything-but":
        return [_anything_but(operand)]
    return None


def _unwildcard(text: str) -> str:
    out = []
    escaped = False
    for char in text:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char != "*":
            out.append(char)
    return "".join(out)


def _number_in(bounds: list[Any]) -> float | int:
    low = high = None
    for operator, number in zip(bounds[::2], bounds[1::2], strict=True):
        if operator == "=":
            return number  # type: ignore[no-any-return]
        if operator.startswith(">"):
            low = (number, operator == ">=")
        else:
            high = (number, operator == "<=")
    if low is not None and high is not None:
        return (low[0] + high[0]) / 2  # type: ignore[no-any-return]
    if low is not None:
        return low[0] if low[1] else low[0] + 1  # type: ignore[no-any-return]
    assert high is not None
    return high[0] if high[1] else high[0] - 1  # type: ignore[no-any-return]


def _anything_but(operand: Any) -> Any:
    excluded = operand if isinstance(operand, list) else [operand]
    if excluded and all(isinstance(item, (int, float)) for item in excluded):
        return max(excluded) + 1
    if isinstance(operand, dict):
        return "~" + _OTHER  # no prefix, suffix or pattern of a real value starts this way
    candidate = _OTHER
    while candidate in excluded:
        candidate += "-other"
    return candidate
