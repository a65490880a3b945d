"""Hypothesis strategies shared by the test modules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

# Numbers DynamoDB accepts: at most 38 significant digits, magnitude 1E-130 .. 9.99E+125.
integers = st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    digits = draw(st.integers(min_value=1, max_value=10**38 - 1))
    exponent = draw(st.integers(min_value=-130, max_value=125 - len(str(digits)) + 1))
    sign = draw(st.sampled_from(["", "-"]))
    return Decimal(f"{sign}{digits}E{exponent}")


numbers = st.one_of(integers, decimals())
texts = st.text(max_size=20)
blobs = st.binary(max_size=24)
scalars = st.one_of(st.none(), st.booleans(), texts, blobs, numbers)
sets = st.one_of(
    st.frozensets(texts, min_size=1, max_size=5).map(set),
    st.frozensets(integers, min_size=1, max_size=5).map(set),
    st.frozensets(blobs, min_size=1, max_size=5).map(set),
)


def _nested(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), children, max_size=4),
    )


values = st.recursive(st.one_of(scalars, sets), _nested, max_leaves=12)
items = st.dictionaries(st.text(min_size=1, max_size=10), values, max_size=8)


# --- hostile input: valid JSON that no AWS service would send (tests/test_hostile_inputs.py) --

# What json.loads can hand a handler: numbers up to its 4,300 digits, NaN and infinities
# (Python's json reads them), any text (lone surrogates included).
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**4299, -(10**4299), 2**63, 10**40 + 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["\ud800", "x" * 5000, "INSERT", "aws:dynamodb", "111"]),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.text(max_size=4), children, max_size=3),
    ),
    max_leaves=6,
)

HOSTILE_NUMBERS = (
    "1e99999999999999999999",
    "-0e-9999999999999999999",
    "0E+99999999999999999999",
    "-2.5E+99999999999999999999",
    "1e-99999999999999999999",
    "1E+126",
    "1E-131",
    "9.9999999999999999999999999999999999999E+125",
    "1E-130",
    "0e-200",
    "1" * 39,
    "1" + "0" * 5000,
    "0." + "0" * 200 + "1",
    "NaN",
    "Infinity",
    "",
    "-",
    ".",
    "1_000",
    "\u0661",
    " 1",
)
hostile_number_texts = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.from_regex(r"[+-]?[0-9]{0,42}(\.[0-9]{0,42})?([eE][+-]?[0-9]{1,24})?", fullmatch=True),
    numbers.map(str),
)


def deep_tuple(levels: int) -> Any:
    """``((((),),),)``, ``levels`` deep: past ``repr()``'s recursion limit at 100,000."""
    value: Any = ()
    for _ in range(levels):
        value = (value,)
    return value


def nested_av(levels: int, tag: str = "M", leaf: Any = None) -> dict[str, Any]:
    """An AttributeValue ``levels`` maps (or lists) deep around ``leaf`` (``{"S": "x"}``)."""
    av: dict[str, Any] = leaf if leaf is not None else {"S": "x"}
    for _ in range(levels):
        av = {"M": {"a": av}} if tag == "M" else {"L": [av]}
    return av


_DESCRIPTORS = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]

hostile_scalar_avs = st.one_of(
    st.builds(lambda text: {"N": text}, hostile_number_texts),
    st.builds(lambda texts: {"NS": texts}, st.lists(hostile_number_texts, max_size=3)),
    st.builds(lambda tag, value: {tag: value}, st.sampled_from(_DESCRIPTORS), json_scalars),
    st.builds(lambda tag, value: {tag: value}, st.sampled_from(["SS", "BS", "NS"]), json_values),
    st.builds(
        nested_av,
        st.sampled_from([31, 32, 33, 40, 300]),
        st.sampled_from(["M", "L"]),
        st.sampled_from([{"S": "x"}, {"B": "AA=="}, {"N": "1e99999999999999999999"}]),
    ),
    st.sampled_from([{}, {"S": "a", "N": "1"}, {"X": "1"}, {"s": "lower"}]),
    json_scalars,  # not an AttributeValue object at all
)
hostile_avs = st.recursive(
    st.one_of(values.map(lambda value: _serialize_base64(value)), hostile_scalar_avs),
    lambda children: st.one_of(
        st.builds(lambda m: {"M": m}, st.dictionaries(st.text(max_size=4), children, max_size=3)),
        st.builds(lambda items: {"L": items}, st.lists(children, max_size=3)),
    ),
    max_leaves=6,
)
hostile_attributes = st.dictionaries(
    st.sampled_from(["n", "userId", "taskType", "points", "x", "PK"]), hostile_avs, max_size=3
)
hostile_images = st.one_of(hostile_attributes, json_scalars, st.lists(json_scalars, max_size=2))
sequence_numbers = st.one_of(
    st.integers(min_value=10**20, max_value=10**40 - 1).map(str),  # what DynamoDB writes
    st.sampled_from(["111", "1" * 41, "9" * 129, "9" * 130, "1" * 5000, "", "12a", "\u0661"]),
    json_scalars,
)


def _serialize_base64(value: Any) -> dict[str, Any]:
    from streamflow.codec import serialize

    return serialize(value, binary="base64")


@st.composite
def hostile_changes(draw: st.DrawFn) -> dict[str, Any]:
    """A Lambda DynamoDB stream record, each field in turn perhaps replaced by a hostile one."""
    from streamflow import testing

    item = {"PK": "SCORE#s1", "SK": "USER#u1", "userId": "u1", "taskType": "easy", "n": 1}
    kind = draw(st.sampled_from(["insert", "modify", "remove"]))
    if kind == "insert":
        change = testing.insert(item)
    elif kind == "modify":
        change = testing.modify(item, {**item, "n": 2})
    else:
        change = testing.remove(item, ttl=draw(st.booleans()))
    [raw] = testing.records(change)
    ddb = raw["dynamodb"]
    for part in ("Keys", "NewImage", "OldImage"):
        if part in ddb and draw(st.integers(0, 3)) == 0:
            ddb[part] = {**ddb[part], **draw(hostile_attributes)}
        elif draw(st.integers(0, 15)) == 0:
            ddb[part] = draw(hostile_images)
    fields = [
        (ddb, "SequenceNumber", sequence_numbers),
        (ddb, "ApproximateCreationDateTime", json_scalars),
        (ddb, "StreamViewType", json_scalars),
        (ddb, "SizeBytes", json_scalars),
        (raw, "eventName", st.one_of(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]), json_values)),
        (raw, "eventID", json_scalars),
        (raw, "eventSourceARN", json_scalars),
        (raw, "awsRegion", json_scalars),
        (raw, "userIdentity", json_values),
        (raw, "dynamodb", json_values),
    ]
    for holder, key, strategy in fields:
        roll = draw(st.integers(0, 12))
        if roll == 0:
            holder[key] = draw(strategy)
        elif roll == 1:
            holder.pop(key, None)
    return raw


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


@st.composite
def hostile_records(draw: st.DrawFn) -> Any:
    """A record of a Lambda event: a hostile DynamoDB record, the same wrapped by Kinesis (its
    ``data`` perhaps garbage), or not a record at all."""
    import json

    change = draw(hostile_changes())
    shape = draw(st.sampled_from(["dynamodb"] * 6 + ["kinesis"] * 3 + ["other"]))
    if shape == "dynamodb":
        return change
    if shape == "other":
        return draw(json_values)
    data = draw(
        st.one_of(
            st.just(_b64(json.dumps(change).encode())),
            st.just(_b64(b"[" * 100_000 + b"]" * 100_000)),
            st.just(_b64(b'{"a":' * 50_000 + b"1" + b"}" * 50_000)),
            json_values.map(lambda value: _b64(json.dumps(value).encode())),
            st.binary(max_size=12).map(_b64),
            st.text(max_size=12),
            json_scalars,
        )
    )
    kinesis: dict[str, Any] = {"data": data, "sequenceNumber": draw(sequence_numbers)}
    if draw(st.integers(0, 8)) == 0:
        kinesis.pop(draw(st.sampled_from(["data", "sequenceNumber"])))
    return {
        "eventSource": "aws:kinesis",
        "eventName": "aws:kinesis:record",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/changes",
        "kinesis": kinesis,
    }


hostile_events = st.lists(hostile_records(), min_size=1, max_size=5).map(
    lambda records: {"Records": records}
)
