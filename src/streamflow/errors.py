"""Every exception streamflow raises.

This module is a leaf: it imports nothing from the package, so any module can import it
without creating a cycle. Each error subclasses :class:`StreamflowError` *and* the builtin it
resembles, so ``except ValueError`` keeps working in code that does not know streamflow, and
``except StreamflowError`` catches everything the library raises on purpose.

The tree::

    StreamflowError
    ├── AttributeDecodeError   (ValueError)  an AttributeValue that cannot be read
    ├── AttributeEncodeError   (ValueError)  a Python value with no DynamoDB form
    ├── RecordShapeError       (ValueError)  an event or record that is not a stream record
    ├── ModelError             (ValueError)  an item that does not fit the user's model
    ├── KeyTemplateError       (ValueError)  a key that does not fit its KeyTemplate
    ├── FilterValidationError  (ValueError)  a filter AWS would reject, or one never matching
    ├── RecursionRiskError     (AssertionError)  a write that would re-trigger a route
    ├── UnmatchedRecordError   (LookupError)  a record no route wants, when that is an error
    ├── HandlerTimeoutError    (TimeoutError)  a handler still running at the deadline
    ├── RunnerConfigError      (ValueError)  an option, handler or filter the runner cannot use
    ├── RunnerError            (RuntimeError)  the stream cannot be read (no table, no stream...)
    ├── CheckError             (ValueError)  what ``streamflow check`` cannot check
    ├── ScoreRecordError       (ValueError)  a score record the score recipe cannot apply
    └── ScoreWriteError        (RuntimeError)  a user's total not written after retries

Four exceptions never leave the package: they carry a failure to the place that turns it
into one of the errors above (or into an exit code), and all derive from ``_Signal``::

    _Signal
    ├── codec._wire.Fail       a problem deep in a value; its path is gathered as it unwinds
    ├── models._convert.Invalid  the same for a model's fields, every problem at once
    ├── runner._aws.Stopped    a stop request that ends a wait or a retry loop
    ├── router._calls.Overran  an async handler still running when its time ran out
    └── cli._UsageError        a command line to refuse with exit code 2

Errors keep their context as attributes (``path``, ``reason``, ``index``, ``event_id``...) and
build their message from them, so callers can log or inspect them without parsing text.

Over 400 lines: the whole tree in one place is this module's point, one short class a node.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "AttributeDecodeError",
    "AttributeEncodeError",
    "CheckError",
    "FilterValidationError",
    "HandlerTimeoutError",
    "KeyTemplateError",
    "ModelError",
    "RecordShapeError",
    "RecursionRiskError",
    "RunnerConfigError",
    "RunnerError",
    "ScoreRecordError",
    "ScoreWriteError",
    "StreamflowError",
    "UnmatchedRecordError",
]


_NOT_PLAIN = frozenset('.[]"\\\x7f') | frozenset(map(chr, range(32)))


def _name_segment(name: object) -> str:
    """One attribute name as a step of an error's path: ``.points``, or ``["a.b"]`` (JSON
    text in brackets) for a name that is empty or holds a character that would make the
    path ambiguous (``.``, brackets, quotes, backslashes, control characters)."""
    if type(name) is not str:
        name = str(name)
    if name and _NOT_PLAIN.isdisjoint(name):
        return "." + name
    import json  # only errors with odd names come here: keep it off the import path

    return "[" + json.dumps(name, ensure_ascii=False) + "]"


_SHOWN_BITS = 4000  # ints longer than this (1,205+ digits; str() stops at 4,300) by their size


def _shown(value: object, limit: int = 60) -> str:
    """``repr(value)`` for an error message: at most ``limit`` characters, never raising.

    Errors are made from hostile values: an int past ``str()``'s 4,300 digits is described by
    its size, and a value whose ``repr`` fails (nested past the recursion limit, holding such
    an int, or with a broken ``__repr__``) by its type.

    >>> _shown(10**5000), _shown("x" * 100)[-6:], _shown([[[]]])
    ('(16610-bit integer)', 'xxx...', '[[[]]]')
    """
    if isinstance(value, int) and value.bit_length() > _SHOWN_BITS:
        return f"({value.bit_length()}-bit integer)"
    if isinstance(value, str) and len(value) > limit:
        value = value[:limit]  # repr of a slice: a megabyte of text is not escaped whole
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class StreamflowError(Exception):
    """Root of every error that streamflow raises on purpose."""


class _Signal(Exception):
    """Root of the package's internal exceptions, each caught inside the package (see the
    module's docstring): none reaches a caller."""


class _PathError(StreamflowError, ValueError):
    """An error at a place in a nested value: ``path`` says where, ``reason`` says what."""

    path: str
    reason: str

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        where = f" at {path}" if path else ""
        super().__init__(f"{reason}{where}")

    def __reduce__(self) -> tuple[type[_PathError], tuple[str, str]]:
        return (type(self), (self.path, self.reason))


class AttributeDecodeError(_PathError):
    """A DynamoDB AttributeValue that cannot be decoded.

    Attributes:
        path: where the bad value sits, e.g. ``NewImage.meta.history[2].deep``.
        reason: what is wrong with it.
    """


class AttributeEncodeError(_PathError):
    """A Python value that has no DynamoDB AttributeValue form.

    Attributes:
        path: where the bad value sits, e.g. ``tags`` or ``meta.ratio``.
        reason: what is wrong with it.
    """


class FilterValidationError(_PathError):
    """A filter pattern that Lambda would reject at CreateEventSourceMapping time, or a
    filter the DSL refuses to build because it could never match (``numeric`` on an ``N``
    attribute, conflicting type descriptors).

    Attributes:
        path: the dotted field path in the pattern (empty for the whole pattern).
        reason: why AWS rejects it.
    """


class RecordShapeError(StreamflowError, ValueError):
    """An event or record that does not have the shape of a DynamoDB stream record.

    Attributes:
        field: the missing or invalid field, e.g. ``dynamodb.SequenceNumber``.
        reason: what is wrong with it.
        index: the record's position in the event, when known.
        event_id: the record's ``eventID``, when known.
    """

    field: str
    reason: str
    index: int | None
    event_id: str | None

    def __init__(
        self,
        field: str,
        reason: str,
        *,
        index: int | None = None,
        event_id: str | None = None,
    ) -> None:
        self.field = field
        self.reason = reason
        self.index = index
        self.event_id = event_id
        parts = []
        if index is not None:
            parts.append(f"record {index}")
        if event_id is not None:
            parts.append(f"eventID {_shown(event_id)}")
        which = f" ({', '.join(parts)})" if parts else ""
        at = f"{field}: " if field else ""
        super().__init__(f"{at}{reason}{which}")

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_record_shape_error, (self.field, self.reason, self.index, self.event_id))


def _rebuild_record_shape_error(
    field: str, reason: str, index: int | None, event_id: str | None
) -> RecordShapeError:
    return RecordShapeError(field, reason, index=index, event_id=event_id)


class ModelError(StreamflowError, ValueError):
    """An item that does not fit the model it is mapped onto.

    Every problem is collected before raising, so one error lists them all.

    Attributes:
        model: the name of the target model.
        problems: ``(path, reason)`` pairs, one per field that failed.
    """

    model: str
    problems: tuple[tuple[str, str], ...]

    def __init__(self, model: str, problems: Sequence[tuple[str, str]]) -> None:
        self.model = model
        self.problems = tuple(problems)
        lines = "\n".join(f"  {path or '<item>'}: {reason}" for path, reason in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"item does not fit {model} ({count} {noun}):\n{lines}")

    def __reduce__(self) -> tuple[type[ModelError], tuple[str, tuple[tuple[str, str], ...]]]:
        return (type(self), (self.model, self.problems))


class KeyTemplateError(StreamflowError, ValueError):
    """A key that does not fit its :class:`~streamflow.models.KeyTemplate`, or a bad template.

    Attributes:
        template: the template text, e.g. ``SCORE#{score_id}``.
        reason: what is wrong.
    """

    template: str
    reason: str

    def __init__(self, template: str, reason: str) -> None:
        self.template = template
        self.reason = reason
        super().__init__(f"{reason} (template {template!r})")

    def __reduce__(self) -> tuple[type[KeyTemplateError], tuple[str, str]]:
        return (type(self), (self.template, self.reason))


class RecursionRiskError(StreamflowError, AssertionError):
    """A write whose stream record would trigger the router's own routes again.

    Attributes:
        route: the name of the route whose filter matches.
        event_name: ``INSERT`` or ``MODIFY``, the record the write would create.
    """

    route: str
    event_name: str

    def __init__(self, route: str, event_name: str) -> None:
        self.route = route
        self.event_name = event_name
        super().__init__(
            f"writing this item would emit {'an' if event_name[:1] in 'AEIOU' else 'a'} "
            f"{event_name} record that route {route!r} "
            "matches: the function would trigger itself"
        )

    def __reduce__(self) -> tuple[type[RecursionRiskError], tuple[str, str]]:
        return (type(self), (self.route, self.event_name))


class UnmatchedRecordError(StreamflowError, LookupError):
    """A record that no route matched, on a router built with ``on_unmatched="error"``.

    Attributes:
        sequence_number: the record's sequence number.
    """

    sequence_number: str

    def __init__(self, sequence_number: str) -> None:
        self.sequence_number = sequence_number
        super().__init__(f"no route matches record {sequence_number}")

    def __reduce__(self) -> tuple[type[UnmatchedRecordError], tuple[str]]:
        return (type(self), (self.sequence_number,))


class RunnerConfigError(StreamflowError, ValueError):
    """An option, handler or filter that the local runner (:mod:`streamflow.runner`) cannot
    use; ``streamflow run`` exits with code 2.

    Attributes:
        option: the option at fault, e.g. ``batch_size`` or ``handler``.
        reason: what is wrong with it.
    """

    option: str
    reason: str

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")

    def __reduce__(self) -> tuple[type[RunnerConfigError], tuple[str, str]]:
        return (type(self), (self.option, self.reason))


class RunnerError(StreamflowError, RuntimeError):
    """The local runner cannot read the stream: no such table, no stream on it, or an AWS
    error that retrying cannot fix (access denied, bad credentials...).

    Attributes:
        reason: what went wrong.
        code: the AWS error code, when the failure came from AWS.
    """

    reason: str
    code: str | None

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"{reason} ({code})" if code else reason)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_runner_error, (self.reason, self.code))


def _rebuild_runner_error(reason: str, code: str | None) -> RunnerError:
    return RunnerError(reason, code=code)


class CheckError(StreamflowError, ValueError):
    """What ``streamflow check`` (:mod:`streamflow.check`) cannot check: an argument it
    cannot use (a template it cannot read, a handler it cannot load, no such function), or
    an AWS call that was refused; the command exits with code 2.

    Attributes:
        option: the argument at fault (``template``, ``handler``, ``function_name``...), or
            ``None`` for a refused AWS call.
        reason: what is wrong.
        code: the AWS error code, for a refused AWS call.

    >>> str(CheckError("template", "cannot read t.yaml: No such file or directory"))
    'template: cannot read t.yaml: No such file or directory'
    >>> str(CheckError(None, "GetFunction: access denied", code="AccessDeniedException"))
    'GetFunction: access denied (AccessDeniedException)'
    """

    option: str | None
    reason: str
    code: str | None

    def __init__(self, option: str | None, reason: str, *, code: str | None = None) -> None:
        self.option = option
        self.reason = reason
        self.code = code
        message = f"{option}: {reason}" if option else reason
        super().__init__(f"{message} ({code})" if code else message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_check_error, (self.option, self.reason, self.code))


def _rebuild_check_error(option: str | None, reason: str, code: str | None) -> CheckError:
    return CheckError(option, reason, code=code)


class ScoreRecordError(StreamflowError, ValueError):
    """A score record that the score recipe (:mod:`streamflow.recipes.scores`) cannot apply:
    unknown task type, missing user id, malformed points, or a stream without the images
    needed.

    Attributes:
        event_id: the record's ``eventID``.
        reason: what is wrong with it.
    """

    event_id: str
    reason: str

    def __init__(self, event_id: str, reason: str) -> None:
        self.event_id = event_id
        self.reason = reason
        super().__init__(f"score record {event_id}: {reason}")

    def __reduce__(self) -> tuple[type[ScoreRecordError], tuple[str, str]]:
        return (type(self), (self.event_id, self.reason))


class ScoreWriteError(StreamflowError, RuntimeError):
    """A user's total that the score recipe could not write (throttled, in conflict, or
    refused) after retries.

    Attributes:
        user_id: whose total it was.
        reason: DynamoDB's error code or cancellation reasons.
    """

    user_id: str
    reason: str

    def __init__(self, user_id: str, reason: str) -> None:
        self.user_id = user_id
        self.reason = reason
        super().__init__(f"total of user {user_id!r} not written: {reason}")

    def __reduce__(self) -> tuple[type[ScoreWriteError], tuple[str, str]]:
        return (type(self), (self.user_id, self.reason))


class HandlerTimeoutError(StreamflowError, TimeoutError):
    """A handler was still running when the invocation's time ran out (see the Router's
    ``time_margin``): it was cancelled (async) or abandoned (a concurrent lane), and its record
    failed, so that Lambda delivers it again.

    Attributes:
        route: the route whose handler overran.
        seconds: the time it had.
    """

    route: str
    seconds: float

    def __init__(self, route: str, seconds: float) -> None:
        self.route = route
        self.seconds = seconds
        super().__init__(
            f"route {route!r} did not finish in the {seconds:.3g} s the invocation had left"
        )

    def __reduce__(self) -> tuple[type[HandlerTimeoutError], tuple[str, float]]:
        return (type(self), (self.route, self.seconds))
