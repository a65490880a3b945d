"""Reading raw records: the one place that decides what a raw record is and turns it into a
:class:`StreamRecord`.

:func:`read_record` serves :func:`parse_event`, the router and the runner alike; the
``StreamRecord.from_*`` constructors and unpickling use its parts. Every record of every batch
passes through :func:`_make`, so it checks the required fields with a few direct look-ups and
leaves naming the faulty field to :func:`_diagnose`, called only when one is wrong.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from streamflow.codec._decode import decode_or_none, decoder_for
from streamflow.codec._wire import MAX_NESTING_DEPTH, shown
from streamflow.errors import RecordShapeError
from streamflow.records._record import _EVENT_NAMES, StreamRecord, _Draft

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from streamflow.codec import NumberMode

__all__ = [
    "parse_event",
    "read_kinesis",
    "read_lambda",
    "read_record",
    "rebuild",
    "sequence_number_of",
]

# The longest sequence numbers AWS writes: DynamoDB Streams' SequenceNumber has 21 to 40
# digits, Kinesis's matches ``0|([1-9]\d{0,128})`` (API references). Longer digit strings
# cannot come from AWS; refusing them keeps ``int()`` of any record's number cheap (and
# below Python's 4,300-digit limit). Shorter ones are accepted: AWS's sample events use
# ``"111"``, and tests everywhere copy them.
MAX_SEQUENCE_DIGITS = 40
MAX_KINESIS_SEQUENCE_DIGITS = 129


def parse_event(event: Mapping[str, Any], *, numbers: NumberMode = "auto") -> list[StreamRecord]:
    """Read the records of a Lambda event from a DynamoDB stream.

    Kinesis events whose records carry DynamoDB changes (Kinesis Data Streams for DynamoDB)
    are read too.

    Args:
        event: the event Lambda passed to the handler.
        numbers: how ``N`` values decode: ``"auto"`` (int or Decimal), ``"decimal"`` or
            ``"float"`` (lossy).

    Returns:
        The records, in stream order.

    Raises:
        RecordShapeError: the event is not a DynamoDB stream event (an SQS event, say), or a
            record lacks a required field; the error names the record's index and eventID.

    >>> from streamflow import testing
    >>> event = testing.event(testing.insert({"PK": "SCORE#1", "SK": "USER#7", "points": 30}))
    >>> [record] = parse_event(event)
    >>> record.event_name, record.new_image["points"]
    (<EventName.INSERT: 'INSERT'>, 30)
    """
    if not isinstance(event, Mapping):
        raise RecordShapeError("", f"a Lambda event must be an object, got {type(event).__name__}")
    records = event.get("Records")
    if not isinstance(records, list):
        raise RecordShapeError("Records", _not_a_stream_event(event))
    decoder_for(numbers)  # raises the ValueError that names the choices
    return [read_record(raw, index, numbers) for index, raw in enumerate(records)]


def read_record(item: object, index: int | None, numbers: NumberMode) -> StreamRecord:
    """One raw record of a Lambda event, or a :class:`StreamRecord` (returned as it is).

    A raw record is a DynamoDB stream record (``eventSource`` ``aws:dynamodb``) or a Kinesis
    record carrying a DynamoDB change (``aws:kinesis``); anything else raises
    :class:`RecordShapeError` naming what it is. ``numbers`` is known to be valid.
    """
    if type(item) is dict:
        source = item.get("eventSource")
        if source == "aws:dynamodb":
            return _make(item, item, None, index, numbers)
        if source == "aws:kinesis":
            return read_kinesis(item, index, numbers)
        raise _foreign_record(item, index)
    if isinstance(item, StreamRecord):
        return item
    if isinstance(item, Mapping):
        return read_record(dict(item), index, numbers)
    raise _not_an_object(item, index)


def read_lambda(raw: object, index: int | None, numbers: NumberMode) -> StreamRecord:
    """A record known to be of a Lambda DynamoDB stream event, whatever its ``eventSource``
    says (``StreamRecord.from_lambda`` and records rebuilt from GetRecords)."""
    if type(raw) is not dict:
        if not isinstance(raw, Mapping):
            raise _not_an_object(raw, index)
        raw = dict(raw)
    return _make(raw, raw, None, index, numbers)


def read_kinesis(raw: object, index: int | None, numbers: NumberMode) -> StreamRecord:
    """A Lambda Kinesis record whose base64 JSON ``kinesis.data`` is a DynamoDB change."""
    if not isinstance(raw, Mapping):
        raise _not_an_object(raw, index)
    raw = dict(raw)
    kinesis = raw.get("kinesis")
    if not isinstance(kinesis, dict) or not isinstance(kinesis.get("data"), str):
        raise RecordShapeError("kinesis.data", "missing or not text", index=index)
    try:
        import json  # only Kinesis records need it: kept out of the cold start

        change = json.loads(binascii.a2b_base64(kinesis["data"]))
    except (binascii.Error, ValueError) as exc:
        raise RecordShapeError(
            "kinesis.data", f"not base64-encoded JSON: {exc}", index=index
        ) from None
    except RecursionError:  # json's parser recurses once per array or object
        raise RecordShapeError(
            "kinesis.data",
            f"JSON nested too deeply to read (DynamoDB nests {MAX_NESTING_DEPTH} levels at most)",
            index=index,
        ) from None
    if not isinstance(change, dict) or change.get("eventSource") != "aws:dynamodb":
        raise RecordShapeError(
            "kinesis.data",
            "this Kinesis record does not carry a DynamoDB change "
            "(its data has no eventSource 'aws:dynamodb')",
            index=index,
        )
    return _make(raw, change, kinesis, index, numbers)


def rebuild(raw: dict[str, Any], index: int | None, numbers: NumberMode) -> StreamRecord:
    """The record ``raw`` was read into (unpickling: ``StreamRecord.__reduce__``)."""
    if raw.get("eventSource") == "aws:kinesis":
        return read_kinesis(raw, index, numbers)
    return read_lambda(raw, index, numbers)


def sequence_number_of(item: object) -> str | None:
    """The sequence number of a raw record that could not be read, if it has a usable one:
    what ``batchItemFailures`` must name for it."""
    if type(item) is not dict:
        return None
    if item.get("eventSource") == "aws:kinesis":
        holder, key = item.get("kinesis"), "sequenceNumber"
    else:
        holder, key = item.get("dynamodb"), "SequenceNumber"
    number = holder.get(key) if type(holder) is dict else None
    if type(number) is str and number.isdigit() and number.isascii():
        return number
    return None


def _make(
    raw: dict[str, Any],
    change: dict[str, Any],
    kinesis: dict[str, Any] | None,
    index: int | None,
    numbers: NumberMode,
) -> StreamRecord:
    """The record of ``change`` (``raw`` itself, or the DynamoDB change a Kinesis record
    wraps; then ``kinesis`` is its ``kinesis`` object, which holds the sequence number)."""
    try:
        ddb = change["dynamodb"]
        sequence = ddb["SequenceNumber"] if kinesis is None else kinesis["sequenceNumber"]
        keys = ddb["Keys"]
        event_name = _EVENT_NAMES[change["eventName"]]
        event_id = change["eventID"]
    except (KeyError, TypeError):
        _diagnose(change, index, kinesis)
    if (
        type(event_id) is not str
        or type(ddb) is not dict
        or type(keys) is not dict
        or type(sequence) is not str
        or not sequence.isdigit()
        or not sequence.isascii()
        or (
            len(sequence) > MAX_SEQUENCE_DIGITS
            and (kinesis is None or len(sequence) > MAX_KINESIS_SEQUENCE_DIGITS)
        )
    ):
        _diagnose(change, index, kinesis)
    # The record's fields are set on a plain _Draft, which then becomes the StreamRecord by
    # taking its class: 0.07 to 0.22 us per record less than building the instance dict
    # and setting it whole (CPython 3.10 to 3.13); make bench, 3.11: keys and one attribute
    # 2.02 -> 1.80 us (-11%), router 2.26 -> 2.07 us (-9%).
    draft: Any = _Draft()
    draft.raw = raw
    draft.change = change
    draft._ddb = ddb
    draft.event_id = event_id
    draft.event_name = event_name
    draft.sequence_number = sequence
    draft.index = index
    if numbers != "auto":
        draft._numbers = numbers
    # Nearly every handler reads the keys, one or two plain values: decoding them now costs
    # less than a first read would. Malformed keys are left to raise on that first read.
    # Keys are scalars, and nearly always strings: those are taken here without a call.
    texts = {}
    for name, av in keys.items():
        if type(av) is dict and len(av) == 1 and type(text := av.get("S")) is str:
            texts[name] = text
        else:
            decoded = decode_or_none(keys, numbers)
            if decoded is not None:
                draft.keys = decoded
            break
    else:
        draft.keys = texts
    draft.__class__ = StreamRecord
    record: StreamRecord = draft
    return record


def _diagnose(change: object, index: int | None, kinesis: dict[str, Any] | None) -> NoReturn:
    """Raise the RecordShapeError that names the first missing or invalid field."""
    if not isinstance(change, dict):
        raise _not_an_object(change, index)
    event_id = change.get("eventID")
    shown_id = event_id if isinstance(event_id, str) else None
    for required in ("eventID", "eventName", "dynamodb"):
        if required not in change:
            raise RecordShapeError(required, "missing", index=index, event_id=shown_id)
    if not isinstance(event_id, str):
        raise RecordShapeError(
            "eventID", f"must be text, got {type(event_id).__name__}", index=index
        )
    name = change["eventName"]
    if type(name) is not str or name not in _EVENT_NAMES:  # a list or dict: unhashable
        raise RecordShapeError(
            "eventName",
            f"must be INSERT, MODIFY or REMOVE, got {shown(name)}",
            index=index,
            event_id=event_id,
        )
    ddb = change["dynamodb"]
    if not isinstance(ddb, dict):
        raise RecordShapeError(
            "dynamodb",
            f"must be an object, got {type(ddb).__name__}",
            index=index,
            event_id=event_id,
        )
    if kinesis is None:
        holder, key, path = ddb, "SequenceNumber", "dynamodb.SequenceNumber"
    else:
        holder, key, path = kinesis, "sequenceNumber", "kinesis.sequenceNumber"
    if key not in holder:
        raise RecordShapeError(path, "missing", index=index, event_id=event_id)
    sequence = holder[key]
    if not isinstance(sequence, str):
        raise RecordShapeError(
            path,
            f"must be text, got {type(sequence).__name__}",
            index=index,
            event_id=event_id,
        )
    if not (sequence.isdigit() and sequence.isascii()):
        raise RecordShapeError(
            path, f"must be digits, got {shown(sequence)}", index=index, event_id=event_id
        )
    longest = MAX_SEQUENCE_DIGITS if kinesis is None else MAX_KINESIS_SEQUENCE_DIGITS
    if len(sequence) > longest:
        raise RecordShapeError(
            path,
            f"has {len(sequence)} digits; AWS writes at most {longest}",
            index=index,
            event_id=event_id,
        )
    if "Keys" not in ddb:
        raise RecordShapeError("dynamodb.Keys", "missing", index=index, event_id=event_id)
    if not isinstance(ddb["Keys"], dict):
        raise RecordShapeError(
            "dynamodb.Keys",
            f"must be an object, got {type(ddb['Keys']).__name__}",
            index=index,
            event_id=event_id,
        )
    raise RecordShapeError("", "malformed record", index=index, event_id=event_id)


def _not_an_object(raw: object, index: int | None) -> RecordShapeError:
    return RecordShapeError(
        "", f"a stream record must be an object, got {type(raw).__name__}", index=index
    )


_OTHER_SOURCES = {
    "aws:sqs": "an SQS event",
    "aws:s3": "an S3 event",
    "aws:sns": "an SNS event",
    "aws:kafka": "a Kafka (MSK) event",
    "aws:ses": "an SES event",
    "aws:mq": "an Amazon MQ event",
}


def _not_a_stream_event(event: Mapping[str, Any]) -> str:
    if "detail-type" in event:
        return "this is an EventBridge event, not a DynamoDB stream event"
    if "httpMethod" in event or "requestContext" in event:
        return "this is an API Gateway event, not a DynamoDB stream event"
    return "missing or not an array: not a DynamoDB stream event"


def _foreign_record(raw: dict[str, Any], index: int | None) -> RecordShapeError:
    source = raw.get("eventSource", raw.get("EventSource"))
    event_id = raw.get("eventID") if isinstance(raw.get("eventID"), str) else None
    if isinstance(source, str) and source in _OTHER_SOURCES:
        reason = f"this is {_OTHER_SOURCES[source]}, not a DynamoDB stream event"
    elif source is None:
        reason = "missing: not a DynamoDB stream record"
    else:
        reason = f"{shown(source)} is not 'aws:dynamodb': not a DynamoDB stream record"
    return RecordShapeError("eventSource", reason, index=index, event_id=event_id)
