"""Typed, immutable DynamoDB stream records, read from a Lambda event or from GetRecords.

:func:`parse_event` turns the event Lambda hands a function into :class:`StreamRecord` objects;
:meth:`StreamRecord.from_get_records` does the same for one record of boto3's
``dynamodbstreams.get_records``. A change read either way gives equal records, and both keep
:attr:`StreamRecord.raw` in the Lambda shape (base64 binary, epoch-second timestamps,
``eventSourceARN``), which is what event filters match.

Records are cheap to make: the required fields are checked up front, and images are decoded
only when first read (then cached). :meth:`StreamRecord.new_value` decodes a single attribute
without decoding the rest of the image.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from enum import Enum

from streamflow.codec import (
    _MAX_DIGITS,
    NumberMode,
    _decode_attribute,
    _decode_image,
    _decode_or_none,
    _decoder,
)
from streamflow.errors import AttributeDecodeError, RecordShapeError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    import datetime as _dt
    from typing import Any, NoReturn, TypeVar

    T = TypeVar("T")

__all__ = ["EventName", "StreamRecord", "StreamViewType", "parse_event"]

if TYPE_CHECKING:
    from functools import cached_property as _cached

    def _image(wire: str, doc: str) -> Any: ...

else:

    class _cached:
        """A lock-free ``functools.cached_property``: records are not shared across threads
        while their fields are first read, and the per-property lock of Python 3.10 and
        3.11 costs more than the decoding it guards on small images."""

        def __init__(self, func):
            self.func = func
            self.name = func.__name__
            self.__doc__ = func.__doc__

        def __get__(self, instance, owner):
            if instance is None:
                return self
            value = self.func(instance)
            instance.__dict__[self.name] = value
            return value

    class _image:
        """A decoded image, cached like ``_cached`` on first read. The decoding is done in
        ``__get__`` itself: every record reads its images, and each call saved shows."""

        def __init__(self, wire, doc):
            self.wire = wire
            self.__doc__ = doc

        def __set_name__(self, owner, name):
            self.name = name

        def __get__(self, record, owner):
            if record is None:
                return self
            image = record._ddb.get(self.wire)
            if image is not None:
                try:
                    image = _decode_image(image, record._numbers, self.wire)
                except AttributeDecodeError as exc:
                    raise _with_record(exc, record) from None
            record.__dict__[self.name] = image
            return image


_TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_MISSING: Any = object()


class EventName(str, Enum):
    """The kind of change a stream record describes (the wire text is the value)."""

    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"

    def __str__(self) -> str:
        return self.value


class StreamViewType(str, Enum):
    """What a stream captures of each changed item (the wire text is the value)."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"

    def __str__(self) -> str:
        return self.value


_EVENT_NAMES = {member.value: member for member in EventName}
_NUMBER_MODES = frozenset({"auto", "decimal", "float"})
_VIEW_TYPES = {member.value: member for member in StreamViewType}


class StreamRecord:
    """One change to one item, as a DynamoDB stream delivers it.

    Immutable. Make records with :func:`parse_event`, :meth:`from_lambda`,
    :meth:`from_get_records` or :meth:`from_kinesis`, not with the constructor.

    Attributes:
        raw: the record exactly as Lambda delivers it (what event filters match).
        event_id: the record's unique ``eventID``.
        event_name: INSERT, MODIFY or REMOVE.
        sequence_number: the record's position in its shard, as text (21 to 40 digits).
        index: the record's position in the event it came from, when known.

    Usage::

        from streamflow import parse_event

        def handler(event, context):
            for record in parse_event(event):
                if record.event_name is EventName.INSERT:
                    print(record.keys["PK"], record.new_value("points"))
    """

    raw: dict[str, Any]
    event_id: str
    event_name: EventName
    sequence_number: str
    index: int | None
    _ddb: dict[str, Any]
    _numbers: NumberMode = "auto"  # set on a record only when it is another policy

    def __init__(self) -> None:
        raise TypeError(
            "make a StreamRecord with parse_event(), StreamRecord.from_lambda(), "
            "from_get_records() or from_kinesis()"
        )

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def _make(
        cls,
        raw: dict[str, Any],
        change: dict[str, Any],
        sequence_holder: dict[str, Any],
        sequence_key: str,
        sequence_path: str,
        index: int | None,
        numbers: NumberMode,
    ) -> StreamRecord:
        try:
            ddb = change["dynamodb"]
            sequence = sequence_holder[sequence_key]
            event_name = _EVENT_NAMES[change["eventName"]]
            event_id = change["eventID"]
            keys = ddb["Keys"]
        except (KeyError, TypeError):
            _diagnose(change, index, sequence_holder, sequence_key, sequence_path)
        if (
            type(event_id) is not str
            or type(ddb) is not dict
            or type(keys) is not dict
            or type(sequence) is not str
            or not sequence.isdigit()
            or not sequence.isascii()
        ):
            _diagnose(change, index, sequence_holder, sequence_key, sequence_path)
        self = _new_record(cls)
        _set_fields(
            self,
            {
                "raw": raw,
                "_change": change,
                "_ddb": ddb,
                "event_id": event_id,
                "event_name": event_name,
                "sequence_number": sequence,
                "index": index,
                "_numbers": numbers,
            },
        )
        return self

    @classmethod
    def from_lambda(
        cls, raw: Mapping[str, Any], *, index: int | None = None, numbers: NumberMode = "auto"
    ) -> StreamRecord:
        """Read one record of a Lambda DynamoDB stream event.

        Args:
            raw: one element of the event's ``Records``.
            index: its position in the event, named in errors.
            numbers: how ``N`` values decode: ``"auto"``, ``"decimal"`` or ``"float"``.

        Returns:
            The record; ``raw`` is kept as given (not copied).

        Raises:
            RecordShapeError: a required field is missing or of the wrong type.

        >>> from streamflow import testing
        >>> raw = testing.event(testing.insert({"PK": "USER#7", "SK": "TOTAL"}))["Records"][0]
        >>> StreamRecord.from_lambda(raw).keys
        {'PK': 'USER#7', 'SK': 'TOTAL'}
        """
        if numbers not in _NUMBER_MODES:
            _decoder(numbers)  # raises the ValueError that names the choices
        if type(raw) is not dict:
            if not isinstance(raw, Mapping):
                raise RecordShapeError(
                    "",
                    f"a stream record must be an object, got {type(raw).__name__}",
                    index=index,
                )
            raw = dict(raw)
        return _lambda_record(raw, index, numbers)

    @classmethod
    def from_get_records(
        cls, record: Mapping[str, Any], *, stream_arn: str, numbers: NumberMode = "auto"
    ) -> StreamRecord:
        """Read one record of boto3's ``dynamodbstreams.get_records(...)["Records"]``.

        The record is converted to the shape Lambda delivers: binary values as base64 text,
        ``ApproximateCreationDateTime`` as epoch seconds, ``userIdentity`` with Lambda's
        lower-case keys, and ``eventSourceARN`` set to ``stream_arn``.

        Args:
            record: one record as boto3 returns it (bytes for binary, a datetime for time).
            stream_arn: the ARN of the stream it was read from.
            numbers: how ``N`` values decode: ``"auto"``, ``"decimal"`` or ``"float"``.

        Returns:
            The record, equal to the one Lambda would have delivered for the same change.

        Raises:
            RecordShapeError: a required field is missing or of the wrong type.
        """
        if not isinstance(record, Mapping):
            raise RecordShapeError(
                "", f"a GetRecords record must be an object, got {type(record).__name__}"
            )
        raw = _lambda_shape(record, stream_arn)
        return cls.from_lambda(raw, numbers=numbers)

    @classmethod
    def from_kinesis(
        cls, raw: Mapping[str, Any], *, index: int | None = None, numbers: NumberMode = "auto"
    ) -> StreamRecord:
        """Read one record of a Lambda Kinesis event that carries a DynamoDB change.

        Kinesis Data Streams for DynamoDB wraps each change as base64 JSON in
        ``kinesis.data``. The Kinesis sequence number becomes :attr:`sequence_number` (it is
        what ``batchItemFailures`` must name), the stream view type is reported as
        NEW_AND_OLD_IMAGES, and ``raw`` stays the Kinesis record as Lambda delivered it.

        Raises:
            RecordShapeError: the record is not a Kinesis record holding a DynamoDB change.
        """
        if not isinstance(raw, Mapping):
            raise RecordShapeError(
                "", f"a stream record must be an object, got {type(raw).__name__}", index=index
            )
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
        if not isinstance(change, dict) or change.get("eventSource") != "aws:dynamodb":
            raise RecordShapeError(
                "kinesis.data",
                "this Kinesis record does not carry a DynamoDB change "
                "(its data has no eventSource 'aws:dynamodb')",
                index=index,
            )
        return cls._make(
            raw, change, kinesis, "sequenceNumber", "kinesis.sequenceNumber", index, numbers
        )

    # --- immutability, equality ----------------------------------------------------------

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"StreamRecord is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"StreamRecord is immutable; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StreamRecord):
            return NotImplemented
        return self.raw == other.raw

    def __hash__(self) -> int:
        # raw, not event_source_arn: a record without a valid ARN is hashable too
        arn = self.raw.get("eventSourceARN")
        return hash((arn if type(arn) is str else None, self.sequence_number))

    def __repr__(self) -> str:
        keys = self._ddb.get("Keys")
        return (
            f"StreamRecord({self.event_name.value}, sequence_number={self.sequence_number!r}, "
            f"keys={keys!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.raw, self.index, self._numbers))

    # --- fields ---------------------------------------------------------------------------

    @_cached
    def _change(self) -> dict[str, Any]:
        """The change itself: the record, unless a Kinesis record wraps it (set when made)."""
        return self.raw

    def _field(self, where: dict[str, Any], key: str, path: str, kind: type[T]) -> T:
        value = where.get(key, _MISSING)
        if value is _MISSING:
            raise RecordShapeError(path, "missing", index=self.index, event_id=self.event_id)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise RecordShapeError(
                path,
                f"must be {kind.__name__}, got {type(value).__name__}",
                index=self.index,
                event_id=self.event_id,
            )
        return value

    @_cached
    def event_version(self) -> str:
        """The record format version (``eventVersion``), ``"1.1"`` on AWS today."""
        return self._field(self.raw, "eventVersion", "eventVersion", str)

    @_cached
    def event_source(self) -> str:
        """``"aws:dynamodb"``, or ``"aws:kinesis"`` for a change read through Kinesis."""
        return self._field(self.raw, "eventSource", "eventSource", str)

    @_cached
    def aws_region(self) -> str:
        """The Region of the table that changed (``awsRegion``)."""
        return self._field(self._change, "awsRegion", "awsRegion", str)

    @_cached
    def event_source_arn(self) -> str:
        """The ARN of the stream the record came from (``eventSourceARN``)."""
        return self._field(self.raw, "eventSourceARN", "eventSourceARN", str)

    @_cached
    def table_name(self) -> str:
        """The table's name, from the stream ARN (or ``tableName`` of a Kinesis change)."""
        if "tableName" in self._change:
            return self._field(self._change, "tableName", "tableName", str)
        arn = self.event_source_arn
        _, sep, rest = arn.partition(":table/")
        name = rest.split("/", 1)[0]
        if not sep or not name:
            raise RecordShapeError(
                "eventSourceARN",
                f"not a DynamoDB stream ARN: {arn!r}",
                index=self.index,
                event_id=self.event_id,
            )
        return name

    @_cached
    def sequence_number_int(self) -> int:
        """The sequence number as an ``int``: compare these, never the text or by counting."""
        return int(self.sequence_number)

    @_cached
    def size_bytes(self) -> int:
        """The size of the stream record in bytes (``SizeBytes``)."""
        return self._field(self._ddb, "SizeBytes", "dynamodb.SizeBytes", int)

    @_cached
    def approximate_creation_time(self) -> _dt.datetime:
        """When the change happened, as an aware UTC datetime (rounded down by AWS)."""
        path = "dynamodb.ApproximateCreationDateTime"
        value = self._ddb.get("ApproximateCreationDateTime", _MISSING)
        if value is _MISSING:
            raise RecordShapeError(path, "missing", index=self.index, event_id=self.event_id)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise RecordShapeError(
                path,
                f"must be epoch seconds (a number), got {type(value).__name__}",
                index=self.index,
                event_id=self.event_id,
            )
        try:
            seconds = float(value)
            if self.raw is not self._change:  # Kinesis: milliseconds or microseconds
                seconds = seconds / 1_000_000 if value >= 1e14 else seconds / 1_000
            return _epoch() + _timedelta(seconds=seconds)
        except (OverflowError, ValueError):  # ValueError: NaN, which json.loads accepts
            raise RecordShapeError(
                path, f"{value!r} is out of range", index=self.index, event_id=self.event_id
            ) from None

    @_cached
    def stream_view_type(self) -> StreamViewType:
        """What the stream captures: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."""
        if self.raw is not self._change:
            return StreamViewType.NEW_AND_OLD_IMAGES
        text = self._field(self._ddb, "StreamViewType", "dynamodb.StreamViewType", str)
        try:
            return _VIEW_TYPES[text]
        except KeyError:
            raise RecordShapeError(
                "dynamodb.StreamViewType",
                f"unknown stream view type {text!r}",
                index=self.index,
                event_id=self.event_id,
            ) from None

    @_cached
    def is_ttl_delete(self) -> bool:
        """True for a REMOVE made by DynamoDB's Time to Live, not by a user."""
        identity = self._change.get("userIdentity")
        return (
            isinstance(identity, dict)
            and identity.get("type") == _TTL_IDENTITY["type"]
            and identity.get("principalId") == _TTL_IDENTITY["principalId"]
        )

    # --- images ---------------------------------------------------------------------------

    keys: dict[str, Any] = _image("Keys", "The changed item's primary key attributes, decoded.")
    new_image: dict[str, Any] | None = _image(
        "NewImage",
        "The item after the change, decoded; ``None`` for REMOVE or a view type without it.",
    )
    old_image: dict[str, Any] | None = _image(
        "OldImage",
        "The item before the change, decoded; ``None`` for INSERT or a view without it.",
    )

    def _value(self, image_name: str, name: str, default: Any) -> Any:
        cached = self.__dict__.get(_CACHED_IMAGE[image_name], _MISSING)
        if cached is not _MISSING:
            return default if cached is None else cached.get(name, default)
        image = self._ddb.get(image_name)
        if image is None:
            return default
        if not isinstance(image, Mapping):  # decoding it whole raises the error naming it
            getattr(self, _CACHED_IMAGE[image_name])
        av = image.get(name, _MISSING)
        if av is _MISSING:
            return default
        return self._decode_value(av, image_name, name)

    def _decode_value(self, av: Any, image_name: str, name: str) -> Any:
        try:
            return _decode_attribute(av, self._numbers, image_name, name)
        except AttributeDecodeError as exc:
            raise _with_record(exc, self) from None

    def new_value(self, name: str, default: Any = None) -> Any:
        """One attribute of the new image, decoded without decoding the rest.

        Args:
            name: the attribute name.
            default: returned when the image or the attribute is absent.

        >>> from streamflow import testing, parse_event
        >>> [r] = parse_event(testing.event(testing.insert({"PK": "S#1", "SK": "U#7", "n": 5})))
        >>> r.new_value("n"), r.new_value("missing", 0)
        (5, 0)
        """
        # _value inlined, with its commonest cases (a string or a plain integer of an image
        # not decoded yet) answered without a call: handlers read a value or two per record.
        # _decode_attribute takes the same shortcuts for every other path.
        if "new_image" not in self.__dict__:
            image = self._ddb.get("NewImage")
            if image is None:
                return default
            try:
                av = image.get(name, _MISSING)
            except AttributeError:  # not an object: _value raises the error naming it
                return self._value("NewImage", name, default)
            if av is _MISSING:
                return default
            if type(av) is dict and len(av) == 1:
                text = av.get("S")
                if type(text) is str:
                    return text
                text = av.get("N")
                if (
                    type(text) is str
                    and text.isdigit()
                    and len(text) <= _MAX_DIGITS
                    and text.isascii()
                    and self._numbers == "auto"
                ):
                    return int(text)
            return self._decode_value(av, "NewImage", name)
        return self._value("NewImage", name, default)

    def old_value(self, name: str, default: Any = None) -> Any:
        """One attribute of the old image, decoded without decoding the rest.

        Args:
            name: the attribute name.
            default: returned when the image or the attribute is absent.
        """
        return self._value("OldImage", name, default)

    def changed_attributes(self) -> frozenset[str]:
        """Names of the attributes that differ between the old and the new image.

        An attribute added, removed or given another value counts; values are compared
        decoded, so ``{"N": "1.0"}`` equals ``{"N": "1"}`` and set order does not matter.
        For INSERT every attribute of the new image counts, for REMOVE every one of the old.

        Raises:
            RecordShapeError: the stream view type does not carry the images needed.

        >>> from streamflow import testing, parse_event
        >>> ev = testing.event(testing.modify({"PK": "U#1", "SK": "T", "n": 1, "m": 2},
        ...                                   {"PK": "U#1", "SK": "T", "n": 2, "m": 2}))
        >>> sorted(parse_event(ev)[0].changed_attributes())
        ['n']
        """
        new, old = self.new_image, self.old_image
        if self.event_name is EventName.INSERT and new is not None:
            return frozenset(new)
        if self.event_name is EventName.REMOVE and old is not None:
            return frozenset(old)
        if new is None or old is None:
            missing = "dynamodb.NewImage" if new is None else "dynamodb.OldImage"
            raise RecordShapeError(
                missing,
                "changed_attributes() needs both images; the stream view type is "
                f"{self.stream_view_type.value}",
                index=self.index,
                event_id=self.event_id,
            )
        return frozenset(
            name
            for name in new.keys() | old.keys()
            if not _same(new.get(name, _MISSING), old.get(name, _MISSING))
        )

    # --- typed models ---------------------------------------------------------------------

    def new_image_as(self, model: type[T]) -> T:
        """The new image mapped onto ``model`` (a dataclass or TypedDict).

        Raises:
            RecordShapeError: the record has no new image.
            ModelError: the image does not fit the model; lists every problem.
        """
        return self._as(model, self.new_image, "dynamodb.NewImage")

    def old_image_as(self, model: type[T]) -> T:
        """The old image mapped onto ``model`` (a dataclass or TypedDict).

        Raises:
            RecordShapeError: the record has no old image.
            ModelError: the image does not fit the model; lists every problem.
        """
        return self._as(model, self.old_image, "dynamodb.OldImage")

    def keys_as(self, model: type[T]) -> T:
        """The keys mapped onto ``model`` (a dataclass or TypedDict).

        Raises:
            ModelError: the keys do not fit the model; lists every problem.
        """
        return self._as(model, self.keys, "dynamodb.Keys")

    def _as(self, model: type[T], image: dict[str, Any] | None, path: str) -> T:
        if image is None:
            raise RecordShapeError(
                path,
                f"this {self.event_name.value} record has no such image "
                f"(stream view type {self.stream_view_type.value})",
                index=self.index,
                event_id=self.event_id,
            )
        from streamflow.models import from_item  # imported on first use: keeps import cheap

        return from_item(model, image)


_CACHED_IMAGE = {"NewImage": "new_image", "OldImage": "old_image"}

# StreamRecord refuses attribute assignment; records are made by setting the instance dict
# whole, in one call, through the descriptor that object.__setattr__ would use.
_new_record = object.__new__
_set_fields = StreamRecord.__dict__["__dict__"].__set__


def _same(a: Any, b: Any) -> bool:
    """Whether two decoded values are the same DynamoDB value: ``==``, except that a
    BOOL never equals an N (Python's ``True == 1``), at any depth."""
    if a != b:
        return False
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b)
    if type(a) is dict:  # equal, so b is a dict with the same keys
        return all(_same(value, b[key]) for key, value in a.items())
    if type(a) is list:
        return all(map(_same, a, b))
    return True  # sets hold no booleans


def _epoch() -> _dt.datetime:
    """1970-01-01 UTC; ``datetime`` loads on first use, keeping it out of the cold start."""
    import datetime

    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _timedelta(*, seconds: float) -> _dt.timedelta:
    import datetime

    return datetime.timedelta(seconds=seconds)


def _rebuild(raw: dict[str, Any], index: int | None, numbers: NumberMode) -> StreamRecord:
    if raw.get("eventSource") == "aws:kinesis":
        return StreamRecord.from_kinesis(raw, index=index, numbers=numbers)
    return StreamRecord.from_lambda(raw, index=index, numbers=numbers)


def _with_record(exc: AttributeDecodeError, record: StreamRecord) -> AttributeDecodeError:
    where = f"record {record.index}, " if record.index is not None else ""
    reason = f"{exc.reason} ({where}eventID {record.event_id!r})"
    return AttributeDecodeError(exc.path, reason)


def _diagnose(
    change: object,
    index: int | None,
    holder: dict[str, Any],
    key: str,
    path: str,
) -> NoReturn:
    """Raise the RecordShapeError that names the first missing or invalid field."""
    if not isinstance(change, dict):
        raise RecordShapeError(
            "", f"a stream record must be an object, got {type(change).__name__}", index=index
        )
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
            f"must be INSERT, MODIFY or REMOVE, got {name!r}",
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
    if path.startswith("dynamodb."):
        holder = ddb
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
            path, f"must be digits, got {sequence!r}", index=index, event_id=event_id
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


# --- GetRecords to the Lambda shape ------------------------------------------------------


def _b64(data: object) -> object:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return binascii.b2a_base64(bytes(data), newline=False).decode("ascii")
    return data


def _json_av(av: Any) -> Any:
    """An AttributeValue with bytes turned into base64 text (containers copied)."""
    if not isinstance(av, dict) or len(av) != 1:
        return av  # malformed: left for the decoder to report with its path
    ((tag, inner),) = av.items()
    if tag == "B":
        return {"B": _b64(inner)}
    if tag == "BS" and isinstance(inner, list):
        return {"BS": [_b64(item) for item in inner]}
    if tag == "M" and isinstance(inner, dict):
        return {"M": {key: _json_av(item) for key, item in inner.items()}}
    if tag == "L" and isinstance(inner, list):
        return {"L": [_json_av(item) for item in inner]}
    return av


def _epoch_seconds(value: object) -> object:
    import datetime

    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        delta = value - _epoch()
        if delta.microseconds == 0:
            return delta.days * 86_400 + delta.seconds
        return delta.total_seconds()
    return value


def _lambda_shape(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    for key in ("eventID", "eventName", "eventVersion", "eventSource", "awsRegion"):
        if key in record:
            raw[key] = record[key]
    source = record.get("dynamodb")
    if isinstance(source, Mapping):
        ddb: dict[str, Any] = {}
        for key, value in source.items():
            if key == "ApproximateCreationDateTime":
                ddb[key] = _epoch_seconds(value)
            elif key in ("Keys", "NewImage", "OldImage") and isinstance(value, Mapping):
                ddb[key] = {name: _json_av(av) for name, av in value.items()}
            else:
                ddb[key] = value
        raw["dynamodb"] = ddb
    elif source is not None:
        raw["dynamodb"] = source
    raw["eventSourceARN"] = stream_arn
    identity = record.get("userIdentity")
    if isinstance(identity, Mapping):
        raw["userIdentity"] = {
            "type": identity.get("Type", identity.get("type")),
            "principalId": identity.get("PrincipalId", identity.get("principalId")),
        }
    return raw


# --- events ------------------------------------------------------------------------------

_OTHER_SOURCES = {
    "aws:sqs": "an SQS event",
    "aws:kinesis": "a Kinesis event",
    "aws:s3": "an S3 event",
    "aws:sns": "an SNS event",
    "aws:kafka": "a Kafka (MSK) event",
    "aws:ses": "an SES event",
    "aws:mq": "an Amazon MQ event",
}


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
    _decoder(numbers)
    out = []
    for index, raw in enumerate(records):
        source = raw.get("eventSource") if isinstance(raw, dict) else None
        if source == "aws:dynamodb":  # from_lambda without its argument checks, done above
            out.append(_lambda_record(raw, index, numbers))
        elif source == "aws:kinesis":
            out.append(StreamRecord.from_kinesis(raw, index=index, numbers=numbers))
        else:
            raise _foreign_record(raw, index)
    return out


def _lambda_record(raw: dict[str, Any], index: int | None, numbers: NumberMode) -> StreamRecord:
    """A record of a Lambda DynamoDB event, once ``raw`` is known to be a dict.

    Every record of an event passes here, so the required fields are checked with a few
    direct look-ups; :func:`_diagnose` names the field only when one is wrong.
    """
    try:
        ddb = raw["dynamodb"]
        sequence = ddb["SequenceNumber"]
        keys = ddb["Keys"]
        event_name = _EVENT_NAMES[raw["eventName"]]
        event_id = raw["eventID"]
    except (KeyError, TypeError):
        _lambda_diagnose(raw, index)
    if (
        type(event_id) is not str
        or type(ddb) is not dict
        or type(keys) is not dict
        or type(sequence) is not str
        or not sequence.isdigit()
        or not sequence.isascii()
    ):
        _lambda_diagnose(raw, index)
    record = _new_record(StreamRecord)
    fields = {
        "raw": raw,
        "_ddb": ddb,
        "event_id": event_id,
        "event_name": event_name,
        "sequence_number": sequence,
        "index": index,
    }
    if numbers != "auto":
        fields["_numbers"] = numbers
    # Nearly every handler reads the keys, one or two plain values: decoding them now costs
    # less than a first read would. Malformed keys are left to raise on that first read.
    # Keys are scalars, and nearly always strings: those are taken here without a call.
    texts = {}
    for name, av in keys.items():
        if type(av) is dict and len(av) == 1 and type(text := av.get("S")) is str:
            texts[name] = text
        else:
            decoded = _decode_or_none(keys, numbers)
            if decoded is not None:
                fields["keys"] = decoded
            break
    else:
        fields["keys"] = texts
    _set_fields(record, fields)
    return record


def _lambda_diagnose(raw: dict[str, Any], index: int | None) -> NoReturn:
    ddb = raw.get("dynamodb")
    holder = ddb if type(ddb) is dict else {}
    _diagnose(raw, index, holder, "SequenceNumber", "dynamodb.SequenceNumber")


def _not_a_stream_event(event: Mapping[str, Any]) -> str:
    if "detail-type" in event:
        return "this is an EventBridge event, not a DynamoDB stream event"
    if "httpMethod" in event or "requestContext" in event:
        return "this is an API Gateway event, not a DynamoDB stream event"
    return "missing or not an array: not a DynamoDB stream event"


def _foreign_record(raw: object, index: int) -> RecordShapeError:
    if not isinstance(raw, dict):
        return RecordShapeError(
            "", f"a stream record must be an object, got {type(raw).__name__}", index=index
        )
    source = raw.get("eventSource", raw.get("EventSource"))
    event_id = raw.get("eventID") if isinstance(raw.get("eventID"), str) else None
    if isinstance(source, str) and source in _OTHER_SOURCES:
        reason = f"this is {_OTHER_SOURCES[source]}, not a DynamoDB stream event"
    elif source is None:
        reason = "missing: not a DynamoDB stream record"
    else:
        reason = f"{source!r} is not 'aws:dynamodb': not a DynamoDB stream record"
    return RecordShapeError("eventSource", reason, index=index, event_id=event_id)
