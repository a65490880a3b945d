"""The :class:`StreamRecord` and its enumerations: fields checked when a record is made,
images decoded on first read and cached, single attributes decoded alone.

One class, past 400 lines: each field carries the AWS documentation of what it holds, and the
image, value and model accessors share the record's private state.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from streamflow.codec._decode import decode_attribute, decode_image, decoder_for
from streamflow.codec._wire import NumberMode, shown
from streamflow.errors import AttributeDecodeError, RecordShapeError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    import datetime as _dt
    from collections.abc import Callable
    from typing import Any, NoReturn, TypeVar

    T = TypeVar("T")

__all__ = ["EventName", "StreamRecord", "StreamViewType"]


class _Cached:
    """A lock-free ``functools.cached_property``: records are not shared across threads while
    their fields are first read, and the per-property lock of Python 3.10 and 3.11 costs more
    than the decoding it guards on small images."""

    def __init__(self, func: Callable[[StreamRecord], object]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __get__(self, record: StreamRecord | None, owner: type) -> object:
        if record is None:
            return self
        value = self.func(record)
        record.__dict__[self.name] = value
        return value


class _Image:
    """A decoded image, cached like ``_Cached`` on first read. The decoding is done in
    ``__get__`` itself: every record reads its images, and each call saved shows."""

    def __init__(self, wire: str, doc: str) -> None:
        self.wire = wire
        self.name = ""
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, record: StreamRecord | None, owner: type) -> object:
        if record is None:
            return self
        image = record._ddb.get(self.wire)
        if image is not None:
            try:
                image = decode_image(image, record._numbers, self.wire)
            except AttributeDecodeError as exc:
                raise _with_record(exc, record) from None
        record.__dict__[self.name] = image
        return image


if TYPE_CHECKING:  # checkers type each field by its method's annotation
    from functools import cached_property as _cached
else:
    _cached = _Cached


def _image(wire: str, doc: str) -> Any:
    """An image field: typed by the annotation it is assigned to."""
    return _Image(wire, doc)


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
_VIEW_TYPES = {member.value: member for member in StreamViewType}


class StreamRecord:
    """One change to one item, as a DynamoDB stream delivers it.

    Immutable. Make records with :func:`parse_event`, :meth:`from_lambda`,
    :meth:`from_get_records` or :meth:`from_kinesis`, not with the constructor.

    Attributes:
        raw: the record exactly as Lambda delivers it.
        change: the DynamoDB change as a DynamoDB stream record carries it, which is what
            event filters match: ``raw`` itself for a DynamoDB stream event, the decoded
            ``kinesis.data`` for Kinesis Data Streams for DynamoDB.
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
    change: dict[str, Any]
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
        from streamflow.records._read import read_lambda

        decoder_for(numbers)  # raises the ValueError that names the choices
        return read_lambda(raw, index, numbers)

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
        from streamflow.records._get_records import lambda_shape
        from streamflow.records._read import read_lambda

        if not isinstance(record, Mapping):
            raise RecordShapeError(
                "", f"a GetRecords record must be an object, got {type(record).__name__}"
            )
        decoder_for(numbers)
        return read_lambda(lambda_shape(record, stream_arn), None, numbers)

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
        from streamflow.records._read import read_kinesis

        decoder_for(numbers)
        return read_kinesis(raw, index, numbers)

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
            f"keys={shown(keys, limit=500)})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        from streamflow.records._read import rebuild

        return (rebuild, (self.raw, self.index, self._numbers))

    # --- fields ---------------------------------------------------------------------------

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
        return self._field(self.change, "awsRegion", "awsRegion", str)

    @_cached
    def event_source_arn(self) -> str:
        """The ARN of the stream the record came from (``eventSourceARN``)."""
        return self._field(self.raw, "eventSourceARN", "eventSourceARN", str)

    @_cached
    def table_name(self) -> str:
        """The table's name, from the stream ARN (or ``tableName`` of a Kinesis change).

        ``""`` when ``eventSourceARN`` is not an ARN at all but a placeholder, as sample
        events carry (``"eventsourcearn"``, ``"stream-ARN"``): code that logs the name runs
        on them, and ``""`` is never a table's name. Records from AWS always name their
        table.

        Raises:
            RecordShapeError: ``eventSourceARN`` is missing, or is an ARN (``arn:...``) that
                names no table.
        """
        if "tableName" in self.change:
            return self._field(self.change, "tableName", "tableName", str)
        arn = self.event_source_arn
        if not arn.startswith("arn:"):
            return ""
        _, sep, rest = arn.partition(":table/")
        name = rest.split("/", 1)[0]
        if not sep or not name:
            raise RecordShapeError(
                "eventSourceARN",
                f"not a DynamoDB stream ARN: {shown(arn)}",
                index=self.index,
                event_id=self.event_id,
            )
        return name

    @_cached
    def sequence_number_int(self) -> int:
        """The sequence number as an ``int``: compare these, never the text or by counting.

        Cheap and safe: records are read only with sequence numbers AWS could write (at most
        40 digits, 129 through Kinesis), so this never meets ``int()``'s 4,300-digit limit.
        """
        return int(self.sequence_number)

    @_cached
    def size_bytes(self) -> int:
        """The size of the stream record in bytes (``SizeBytes``)."""
        return self._field(self._ddb, "SizeBytes", "dynamodb.SizeBytes", int)

    @_cached
    def approximate_creation_epoch(self) -> float:
        """When the change happened, in seconds since the epoch (UTC), as AWS gives it:
        rounded down to the second in a DynamoDB stream, to the millisecond or microsecond
        through Kinesis. :attr:`approximate_creation_time` as a number, without importing
        ``datetime`` (a metric such as the iterator age needs only this)."""
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
        except OverflowError:
            seconds = float("nan")
        if self.raw is not self.change:  # Kinesis: milliseconds or microseconds
            seconds = seconds / 1_000_000 if value >= 1e14 else seconds / 1_000
        if not _FIRST_SECOND <= seconds < _LAST_SECOND:  # NaN too, which json.loads accepts
            raise RecordShapeError(
                path, f"{shown(value)} is out of range", index=self.index, event_id=self.event_id
            )
        return seconds

    @_cached
    def approximate_creation_time(self) -> _dt.datetime:
        """When the change happened, as an aware UTC datetime (rounded down by AWS)."""
        return _epoch() + _timedelta(seconds=self.approximate_creation_epoch)

    @_cached
    def stream_view_type(self) -> StreamViewType:
        """What the stream captures: KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES."""
        if self.raw is not self.change:
            return StreamViewType.NEW_AND_OLD_IMAGES
        text = self._field(self._ddb, "StreamViewType", "dynamodb.StreamViewType", str)
        try:
            return _VIEW_TYPES[text]
        except KeyError:
            raise RecordShapeError(
                "dynamodb.StreamViewType",
                f"unknown stream view type {shown(text)}",
                index=self.index,
                event_id=self.event_id,
            ) from None

    @_cached
    def is_ttl_delete(self) -> bool:
        """True for a REMOVE made by DynamoDB's Time to Live, not by a user.

        AWS documents TTL deletions as REMOVE records whose ``userIdentity`` is DynamoDB's
        service principal (``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``);
        any other record is False, whatever ``userIdentity`` it carries (sample events, such
        as aws-lambda-go's and SAM's, put that identity on an INSERT or MODIFY).
        """
        if self.event_name is not EventName.REMOVE:
            return False
        identity = self.change.get("userIdentity")
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

    def _value(self, wire: str, cached_as: str, name: str, default: Any) -> Any:
        """Attribute ``name`` of image ``wire`` (cached as ``cached_as`` once decoded whole),
        decoded alone. The one path of :meth:`new_value` and :meth:`old_value`."""
        cached = self.__dict__.get(cached_as, _MISSING)
        if cached is not _MISSING:
            return default if cached is None else cached.get(name, default)
        image = self._ddb.get(wire)
        if image is None:
            return default
        try:
            av = image.get(name, _MISSING)
        except AttributeError:  # not an object: decoding it whole raises the error naming it
            return getattr(self, cached_as).get(name, default)
        if av is _MISSING:
            return default
        try:
            return decode_attribute(av, self._numbers, wire, name)
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
        return self._value("NewImage", "new_image", name, default)

    def old_value(self, name: str, default: Any = None) -> Any:
        """One attribute of the old image, decoded without decoding the rest.

        Args:
            name: the attribute name.
            default: returned when the image or the attribute is absent.
        """
        return self._value("OldImage", "old_image", name, default)

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
        """The new image mapped onto ``model`` (a dataclass, TypedDict or pydantic v2 model).

        Raises:
            RecordShapeError: the record has no new image.
            ModelError: the image does not fit the model; lists every problem.
        """
        return self._as(model, self.new_image, "dynamodb.NewImage")

    def old_image_as(self, model: type[T]) -> T:
        """The old image mapped onto ``model`` (a dataclass, TypedDict or pydantic v2 model).

        Raises:
            RecordShapeError: the record has no old image.
            ModelError: the image does not fit the model; lists every problem.
        """
        return self._as(model, self.old_image, "dynamodb.OldImage")

    def keys_as(self, model: type[T]) -> T:
        """The keys mapped onto ``model`` (a dataclass, TypedDict or pydantic v2 model).

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


class _Draft:
    """A record being made. StreamRecord refuses attribute assignment, so ``records._read``
    sets a new record's fields on a plain ``_Draft`` and then assigns its class, which makes
    it the StreamRecord (the two classes have the same layout; CPython checks it)."""


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


_FIRST_SECOND = -62_135_596_800.0
_LAST_SECOND = 253_402_300_800.0
"""The epoch seconds a ``datetime`` can show: from year 1 to the end of year 9999."""


def _epoch() -> _dt.datetime:
    """1970-01-01 UTC; ``datetime`` loads on first use, keeping it out of the cold start."""
    import datetime

    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _timedelta(*, seconds: float) -> _dt.timedelta:
    import datetime

    return datetime.timedelta(seconds=seconds)


def _with_record(exc: AttributeDecodeError, record: StreamRecord) -> AttributeDecodeError:
    where = f"record {record.index}, " if record.index is not None else ""
    reason = f"{exc.reason} ({where}eventID {shown(record.event_id)})"
    return AttributeDecodeError(exc.path, reason)
