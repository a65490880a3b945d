"""Lint: patterns AWS accepts that still never match (or always match) a DynamoDB record.

Over 400 lines (about 690) as one piece: ``_Linter`` walks a field's path the way a record is
shaped (top level, ``dynamodb``, an image, an attribute, the maps and lists inside it), one
check per trap with its message, and the checks share the walk's state (the field's
alternatives, the view type, the findings). The fixes they offer, every alternative
rewritten as the rule it meant, are written by ``_describe.py``.

Validation answers "will CreateEventSourceMapping accept it?"; lint answers "will it do what
I meant?". Each :class:`LintWarning` names the pattern path, says what goes wrong, gives
the streamflow DSL call that expresses the intent correctly, and says whether the rule can
never match (an ``"error"``: ``_refuse.refuse_never_matching`` refuses the filter, and so
does the DSL) or is suspicious but may be meant (a ``"warning"``, never refused).

The DSL lints every filter it builds, so this module is as cheap to import as the DSL: no
``typing``, ``json`` or ``dataclasses`` (see tests/test_package.py); the fixes are written
only for the findings there are.
"""

from __future__ import annotations

from collections.abc import Mapping

from streamflow._value import Value
from streamflow.errors import FilterValidationError
from streamflow.filters._compile import CompiledField
from streamflow.filters._criteria import FilterCriteria
from streamflow.filters._describe import (
    IMAGE_METHOD,
    KIND_OF_DESCRIPTOR,
    Kinds,
    call,
    dsl,
    element_fix,
    is_numbers,
    known_values_fix,
    rewritten,
)
from streamflow.filters._dynamodb import (
    DESCRIPTORS,
    EVENT_NAMES,
    IMAGES,
    canonical_number,
)
from streamflow.filters._filter import Filter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SEVERITIES", "VIEW_TYPES", "LintWarning", "check_view_type", "lint", "never_matching"]

VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
SEVERITIES = ("error", "warning")
"""``error``: the rule can never match, and the filter is refused where a filter is checked;
``warning``: suspicious, but it may be meant (or depends on what lint cannot see)."""
_TOP_LEVEL = {
    "eventID": "string",
    "eventName": "string",
    "eventVersion": "string",
    "eventSource": "string",
    "awsRegion": "string",
    "eventSourceARN": "string",
    "dynamodb": "object",
    "userIdentity": "object",
}
_DYNAMODB = {
    "ApproximateCreationDateTime": "number",
    "Keys": "image",
    "NewImage": "image",
    "OldImage": "image",
    "SequenceNumber": "string",
    "SizeBytes": "number",
    "StreamViewType": "string",
}
_USER_IDENTITY = {"type": "string", "principalId": "string"}
_MISSING_IMAGES = {
    "KEYS_ONLY": ("NewImage", "OldImage"),
    "NEW_IMAGE": ("OldImage",),
    "OLD_IMAGE": ("NewImage",),
    "NEW_AND_OLD_IMAGES": (),
}
_JSON_LITERALS = {True: "true", False: "false", None: "null"}


class LintWarning(Value):
    """A pattern that AWS accepts but that does not do what it seems to.

    Attributes:
        path: the dotted pattern path, e.g. ``dynamodb.NewImage.Score.N``.
        message: what goes wrong.
        fix: the streamflow call (or change) that expresses the intent.
        severity: ``"error"`` when the rule can never match a DynamoDB stream record (such a
            filter is refused: docs/filters.md, "When a filter is refused"), ``"warning"``
            when it is suspicious but may be meant.
        index: the filter's position (from 0) in the :class:`FilterCriteria` that
            :func:`lint` was given, when it holds several filters; otherwise None.

    >>> warning = lint({"dynamodb": {"NewImage": {"status": ["A"]}}})[0]
    >>> warning.fix
    "Filter.new_image('status', 'A')"
    >>> warning.severity
    'error'
    """

    __slots__ = ("fix", "index", "message", "path", "severity")
    _order = ("path", "message", "fix", "severity", "index")

    path: str
    message: str
    fix: str
    severity: str
    index: int | None

    def __init__(
        self,
        path: str,
        message: str,
        fix: str,
        severity: str = "warning",
        index: int | None = None,
    ) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be 'error' or 'warning', not {severity!r}")
        super().__init__(path, message, fix, severity, index)

    def __str__(self) -> str:
        where = f"[filter {self.index + 1}] " if self.index is not None else ""
        return f"{where}{self.path}: {self.severity}: {self.message}\n  fix: {self.fix}"


# --- the checks -------------------------------------------------------------------------------


class _Linter:
    """The checks. Each finding is an error (``never=True``) when the rule it names can never
    match any DynamoDB stream record, whatever the items: the value the record holds there
    has the wrong JSON type or spelling for it, or the record never holds a value there
    (an object is no value, INSERT carries no OldImage, the view type given carries no such
    image). Everything that depends on what lint cannot see is a warning: fields it does not
    know (Kinesis Data Streams records carry more), operators Lambda may refuse at deploy
    time, rules that always match, fields a later key overrides."""

    def __init__(self, view_type: str | None) -> None:
        self.view_type = view_type
        self.index: int | None = None  # the filter being checked, when there are several
        self.found: dict[tuple[int | None, str, str], LintWarning] = {}
        self.alternatives: list[Any] = []  # the rules of the field being checked

    def warn(self, path: str, message: str, fix: str, *, never: bool = False) -> None:
        self.found.setdefault(
            (self.index, path, message),
            LintWarning(path, message, fix, "error" if never else "warning", self.index),
        )

    def effect(self, kinds: Kinds) -> str:
        """What a rule does where the record holds no value: ``exists: false`` among its
        alternatives is then satisfied, any other alternative is not."""
        return "always matches" if kinds.exists_false else "never matches"

    def dead(self, kinds: Kinds) -> bool:
        """Whether a rule where the record holds no value never matches (an error), rather
        than always (``exists: false``: a warning, as it drops nothing)."""
        return not kinds.exists_false

    def field(self, field: CompiledField) -> None:
        path, alternatives = field.path, field.alternatives
        self.alternatives = alternatives
        kinds = Kinds(alternatives)
        for operator in kinds.eb_only:
            self.warn(
                path,
                f"{operator} is documented for EventBridge buses only, not for Lambda event "
                "source mappings: CreateEventSourceMapping may reject it",
                "use prefix(), suffix(), equals_ignore_case() or anything_but(values) instead",
            )
        if kinds.cidr:
            self.warn(
                path,
                "cidr is not documented for Lambda event filtering (EventBridge only)",
                "match exact addresses, or prefix('10.0.') for simple blocks",
            )
        segments = path.split(".")
        top = segments[0]
        if top not in _TOP_LEVEL:
            self.unknown_top(path, top, kinds)
        elif top == "dynamodb":
            self.dynamodb(path, segments[1:], kinds, alternatives)
        elif top == "userIdentity":
            self.nested_scalar(path, segments[1:], _USER_IDENTITY, "userIdentity", kinds)
        elif len(segments) > 1:
            self.warn(
                path,
                f"{top} is a string, it has no field {segments[1]!r}: this rule "
                f"{self.effect(kinds)}",
                f"Filter.where({top!r}, ...)",
                never=self.dead(kinds),
            )
        else:
            self.scalar(path, "string", kinds)
            self.top_values(path, top, kinds)

    def unknown_top(self, path: str, top: str, kinds: Kinds) -> None:
        if top in ("body", "data"):
            why = (
                f"'{top}' is the SQS/Kinesis payload key; DynamoDB stream records keep the item "
                "under 'dynamodb'"
            )
            fix = "Filter.new_image(name, ...) or Filter.where('dynamodb....', ...)"
        elif top in IMAGES:
            # No record of any source holds an image at the top level: an error.
            why = f"{top} lives under 'dynamodb' (dynamodb.{top}), not at the top level"
            message = f"{why}: this rule {self.effect(kinds)}"
            self.warn(path, message, self.moved(path, top, kinds), never=self.dead(kinds))
            return
        else:
            why = f"Lambda never delivers a top-level {top!r} field for DynamoDB streams"
            known = ", ".join(_TOP_LEVEL)
            fix = f"use one of the record's fields: {known}"
        # A warning: records from Kinesis Data Streams for DynamoDB carry more fields
        # (tableName, recordFormat), and a Kinesis mapping's patterns name 'data'.
        self.warn(path, f"{why}: this rule {self.effect(kinds)}", fix)

    def moved(self, path: str, image: str, kinds: Kinds) -> str:
        """The fix for an image rule written at the top level: the same rule under
        ``dynamodb``, itself fixed if it has another problem there."""
        rest = path.split(".")[1:]
        if not rest:
            return f"Filter.{IMAGE_METHOD[image]}(name, ...)"
        inner = _Linter(None)
        inner.alternatives = self.alternatives
        inner.image(f"dynamodb.{path}", image, rest, kinds, self.alternatives)
        for warning in inner.found.values():
            if warning.fix.startswith("Filter."):
                return warning.fix
        if len(rest) == 2 and rest[1] in KIND_OF_DESCRIPTOR and not inner.found:
            rules = rewritten(self.alternatives, KIND_OF_DESCRIPTOR[rest[1]], builder=True)
            if rules:
                return call(image, (rest[0],), rules, rest[1])
        rules = [dsl(a) for a in self.alternatives]
        return f"Filter.where({'dynamodb.' + path!r}, {', '.join(rules)})"

    def nested_scalar(
        self, path: str, rest: list[str], fields: dict[str, str], parent: str, kinds: Kinds
    ) -> None:
        if not rest:
            self.warn(
                path,
                f"{parent} is an object, not a value: this rule {self.effect(kinds)}",
                f"name one of its fields: {', '.join(f'{parent}.{k}' for k in fields)}",
                never=self.dead(kinds),
            )
        elif rest[0] not in fields:  # a warning: a Kinesis change's dynamodb holds more
            self.warn(
                path,
                f"{parent} has no field {rest[0]!r}: this rule {self.effect(kinds)}",
                f"use one of: {', '.join(f'{parent}.{k}' for k in fields)}",
            )
        elif len(rest) > 1:
            self.warn(
                path,
                f"{parent}.{rest[0]} is a value with no fields: this rule {self.effect(kinds)}",
                f"Filter.where({parent + '.' + rest[0]!r}, ...)",
                never=self.dead(kinds),
            )
        else:
            self.scalar(path, fields[rest[0]], kinds)

    def top_values(self, path: str, top: str, kinds: Kinds) -> None:
        expected = {"eventName": EVENT_NAMES, "eventSource": ("aws:dynamodb",)}.get(top)
        if expected is None:
            return
        for value in kinds.strings:
            if isinstance(value, str) and value not in expected:
                self.warn(
                    path,
                    f"{top} is never {value!r} in a DynamoDB stream record (values are "
                    f"case-sensitive: {', '.join(expected)})",
                    known_values_fix(path, self.alternatives, expected),
                    never=True,
                )

    def scalar(
        self,
        path: str,
        kind: str,
        kinds: Kinds,
        image: tuple[str, tuple[str, ...], str] = ("", (), ""),
    ) -> None:
        """Type mismatches between a field's value type and its rules.

        ``image``: (image, attribute names, descriptor) when a DynamoDB builder can write
        the fix; otherwise the fix is a ``Filter.where()`` call on ``path``, which writes
        values as they are (so N values must be given as their text).

        Every fix rewrites all of the field's alternatives, not only the one at fault: the
        rules that were right stay, each wrong one is written as what it meant, and one that
        cannot mean anything on this value (``numeric`` on text) is left out.
        """
        image_name, names, descriptor = image
        written: list[str] = []  # the fix, written on the first finding (most fields have none)

        def fix(note: str = "") -> str:
            """The fix; ``note`` is added to a builder call (not to advice in words)."""
            if not written:
                rules = rewritten(self.alternatives, kind, builder=bool(image_name))
                if not rules:
                    written.append(
                        f"Filter.where({path!r}, numeric(...))"
                        if kind == "number"
                        else "no rule of this field can match this value: match exact values, "
                        "keep a string bucket attribute, or filter in the handler"
                    )
                elif image_name:
                    written.append(call(image_name, names, rules, descriptor))
                else:
                    written.append(f"Filter.where({path!r}, {', '.join(rules)})")
            text = written[0]
            return text + note if note and image_name and text.startswith("Filter.") else text

        # Every finding but one (anything-but numbers, which always matches) is a rule that
        # can never match the value the record holds here: an error.
        if kind in ("string", "number-text"):
            numeric_ops = [a for a in kinds.numbers if isinstance(a, dict)]
            literals = [a for a in kinds.numbers if not isinstance(a, dict)]
            if kind == "number-text" and literals:
                self.warn(
                    path,
                    'N values are text in stream records ({"N": "30"}): the number literal '
                    f"{literals[0]!r} never matches",
                    fix("  # the DSL writes the text form"),
                    never=True,
                )
            elif literals:
                self.warn(
                    path,
                    f"this value is a string: the number {literals[0]!r} never matches",
                    fix(),
                    never=True,
                )
            if kind == "number-text":
                for text in kinds.strings:
                    if not isinstance(text, str):
                        continue
                    canonical = canonical_number(text)
                    if canonical is None:
                        self.warn(
                            path,
                            f"N values are numbers DynamoDB can store: {text!r} never matches",
                            fix(),
                            never=True,
                        )
                    elif canonical != text:
                        self.warn(
                            path,
                            f"DynamoDB writes this number as {canonical!r} in stream records: "
                            f"{text!r} never matches",
                            fix(),
                            never=True,
                        )
            if numeric_ops:
                what = (
                    "N values are text in stream records"
                    if kind == "number-text"
                    else "this value is a string"
                )
                self.warn(
                    path,
                    f"{what}: numeric comparisons only match JSON numbers and never match here",
                    "no pattern can compare N values numerically: match exact values, keep a "
                    "string bucket attribute, or filter in the handler",
                    never=True,
                )
            if any(is_numbers(n) for n in kinds.negations):
                self.warn(
                    path,
                    "anything-but with numbers always matches a string value (a string is never "
                    "a number)",
                    fix(),
                )
            for other in kinds.others:
                self.warn(
                    path,
                    f"this value is a string: {_JSON_LITERALS[other]} never matches",
                    fix(),
                    never=True,
                )
        elif kind == "number":
            if kinds.strings:
                self.warn(
                    path,
                    f"this value is a JSON number: string rules such as {dsl(kinds.strings[0])} "
                    "never match",
                    fix(),
                    never=True,
                )
        elif kind == "bool":
            for value in kinds.strings + kinds.numbers + [o for o in kinds.others if o is None]:
                self.warn(
                    path,
                    f"BOOL values are JSON true/false: {dsl(value)} never matches",
                    fix(),
                    never=True,
                )
        elif kind == "null":
            for value in kinds.strings + kinds.numbers + [o for o in kinds.others if o is not True]:
                self.warn(
                    path,
                    f"a NULL value is always true: {dsl(value)} never matches",
                    fix(),
                    never=True,
                )

    def dynamodb(self, path: str, rest: list[str], kinds: Kinds, alternatives: list[Any]) -> None:
        if not rest:
            self.warn(
                path,
                f"dynamodb is an object, not a value: this rule {self.effect(kinds)}",
                "name a field inside dynamodb",
                never=self.dead(kinds),
            )
            return
        name = rest[0]
        kind = _DYNAMODB.get(name)
        if kind is None:  # a warning: a Kinesis change's dynamodb holds more fields
            self.warn(
                path,
                f"the dynamodb object has no field {name!r}: this rule {self.effect(kinds)}",
                f"use one of: {', '.join('dynamodb.' + k for k in _DYNAMODB)}",
            )
        elif kind != "image":
            self.nested_scalar(path, rest, _DYNAMODB, "dynamodb", kinds)
            if name == "StreamViewType":
                for value in kinds.strings:
                    if isinstance(value, str) and value not in VIEW_TYPES:
                        self.warn(
                            path,
                            f"StreamViewType is never {value!r}",
                            known_values_fix(path, alternatives, VIEW_TYPES),
                            never=True,
                        )
        else:
            self.image(path, name, rest[1:], kinds, alternatives)

    def image(
        self, path: str, image: str, rest: list[str], kinds: Kinds, alternatives: list[Any]
    ) -> None:
        missing = _MISSING_IMAGES.get(self.view_type or "NEW_AND_OLD_IMAGES", ())
        if image in missing:
            self.warn(
                path,
                f"{_article(self.view_type)} {self.view_type} stream delivers no {image}: this "
                f"rule {self.effect(kinds)}",
                "use a stream view type that carries the image, or filter on dynamodb.Keys",
                never=self.dead(kinds),
            )
        if not rest:
            self.warn(
                path,
                f"{image} is an object, not a value: this rule {self.effect(kinds)}",
                call(image, ("name",), ["..."]),
                never=self.dead(kinds),
            )
            return
        self.attribute(path, image, (rest[0],), rest[1:], kinds, alternatives)

    def attribute(
        self,
        path: str,
        image: str,
        names: tuple[str, ...],
        rest: list[str],
        kinds: Kinds,
        alternatives: list[Any],
        *,
        in_list: bool = False,
    ) -> None:
        """Check the rest of ``path`` below an attribute.

        ``names``: the attribute, then the names of the map values on the way
        (``meta.M.client`` -> ``("meta", "client")``), as the DSL builders take them.
        ``in_list``: the path went through an ``L`` value, which the builders cannot reach
        into, so fixes are written with ``Filter.where()``.
        """
        effect = f"this rule {self.effect(kinds)}"
        never = self.dead(kinds)  # where the record holds an object, or no value at all

        def fixed(descriptor: str = "") -> str:
            if in_list:
                return (
                    f"Filter.where({path!r}, ...) with the type descriptor in the path; the "
                    "DynamoDB builders do not reach into L values"
                )
            return call(image, names, [dsl(a) for a in alternatives], descriptor)

        if not rest:
            if not kinds.exists_false:
                message = (
                    "an attribute value is an object with a type descriptor "
                    '({"S": ...}): without S/N/B... in the path this rule never matches'
                )
            else:
                message = (
                    "exists:false on an attribute without its type descriptor always matches: "
                    "the attribute's value is an object, never a leaf"
                )
            # exists(True) alone implies no type: the fix names one, as the builders ask.
            typed = kinds.strings or kinds.numbers or kinds.others or kinds.negations
            present = kinds.exists_true and not typed
            self.warn(path, message, fixed("S" if present else ""), never=never)
            return
        descriptor = rest[0]
        ahead = next((i for i, part in enumerate(rest) if part in DESCRIPTORS), None)
        if descriptor not in DESCRIPTORS and ahead is not None:
            # Dots in an attribute name read like nesting: "a.b" then "S" is one attribute.
            dotted = ".".join([names[-1], *rest[:ahead]])
            self.attribute(
                path,
                image,
                (*names[:-1], dotted),
                rest[ahead:],
                kinds,
                alternatives,
                in_list=in_list,
            )
            return
        if descriptor not in DESCRIPTORS:
            upper = descriptor.upper()
            hint = f" (descriptors are case-sensitive: {upper!r})" if upper in DESCRIPTORS else ""
            self.warn(
                path,
                f"{descriptor!r} is not a DynamoDB type descriptor{hint}: {effect}",
                fixed(),
                never=never,
            )
            return
        if image == "Keys" and descriptor not in ("S", "N", "B"):
            self.warn(
                path,
                f"key attributes are S, N or B, never {descriptor}: {effect}",
                fixed(),
                never=never,
            )
        if descriptor == "M":
            if len(rest) == 1:
                self.warn(
                    path,
                    f"an M value is an object, not a value: {effect}",
                    "name a value inside the map, e.g. "
                    f"Filter.{IMAGE_METHOD[image]}({(*names, 'field')!r}, ...)",
                    never=never,
                )
            else:
                self.attribute(
                    path, image, (*names, rest[1]), rest[2:], kinds, alternatives, in_list=in_list
                )
            return
        if descriptor == "L":
            if len(rest) == 1:
                self.warn(
                    path,
                    f'the elements of an L value are objects ({{"S": ...}}): {effect}',
                    element_fix(path, kinds, alternatives),
                    never=never,
                )
            else:
                self.attribute(path, image, names, rest[1:], kinds, alternatives, in_list=True)
            return
        if len(rest) > 1:
            self.warn(
                path,
                f"a {descriptor} value has no fields: {effect}",
                fixed(),
                never=never,
            )
            return
        target = ("", (), descriptor) if in_list else (image, names, descriptor)
        self.scalar(path, KIND_OF_DESCRIPTOR[descriptor], kinds, target)

    def branch(self, fields: tuple[CompiledField, ...]) -> None:
        """Rules that contradict the event type: INSERT has no OldImage, REMOVE no NewImage."""
        names = next((f.alternatives for f in fields if f.path == "eventName"), None)
        if names is None or not all(isinstance(n, str) for n in names):
            return
        for event, image in (("INSERT", "OldImage"), ("REMOVE", "NewImage")):
            if set(names) != {event}:
                continue
            for field in fields:
                if field.path.startswith(f"dynamodb.{image}.") and not (
                    Kinds(field.alternatives).exists_false
                ):
                    self.warn(
                        field.path,
                        f"{event} records carry no {image}: this rule never matches",
                        "drop the rule, or match the other image",
                        never=True,
                    )


def _article(word: str | None) -> str:
    return "an" if word and word[0] in "AEIOU" else "a"


def lint(
    pattern_or_filter: Filter | FilterCriteria | Mapping[str, Any] | str,
    *,
    view_type: str | None = None,
) -> list[LintWarning]:
    """Find rules that AWS accepts but that never match (or always match) DynamoDB records.

    Checks: numbers and ``numeric`` on ``N``/``NS`` values (text in stream records), rules
    on an image attribute without its type descriptor, ``exists: false`` without a
    descriptor (always true), keys Lambda never delivers (``body``, ``data``, ``NewImage``
    at the top level, unknown fields), wrong value types for a descriptor, images the stream
    view type (or the event name) cannot carry, EventBridge-only operators, and fields
    overridden inside ``$or``.

    Each finding's ``severity`` is ``"error"`` when its rule can never match (the DSL,
    :func:`~streamflow.filters.refuse_never_matching` and ``streamflow run --filter``
    refuse such a filter) or
    ``"warning"`` when it is suspicious but may be meant. Given a :class:`FilterCriteria` of
    several filters, each finding names its filter (``index``).

    Args:
        pattern_or_filter: a :class:`Filter`, a :class:`FilterCriteria`, a pattern dict or
            its JSON text.
        view_type: the stream's ``StreamViewType`` (``KEYS_ONLY``, ``NEW_IMAGE``,
            ``OLD_IMAGE``, ``NEW_AND_OLD_IMAGES``), if known.

    Returns:
        The warnings, in pattern order (filter by filter); empty when there is nothing to say.

    Raises:
        FilterValidationError: if the pattern is invalid or ``view_type`` is unknown.

    >>> [w.path for w in lint({"dynamodb": {"NewImage": {"Score": {"N": [30]}}}})]
    ['dynamodb.NewImage.Score.N']
    >>> lint({"eventName": ["INSERT"]})
    []
    """
    check_view_type(view_type)
    if isinstance(pattern_or_filter, FilterCriteria):
        filters = list(pattern_or_filter.filters)
    elif isinstance(pattern_or_filter, Filter):
        filters = [pattern_or_filter]
    else:
        filters = [Filter.from_pattern(pattern_or_filter)]
    linter = _Linter(view_type)
    for index, item in enumerate(filters):
        linter.index = index if len(filters) > 1 else None
        change = _kinesis_change(item)
        if change is None:
            _lint_one(linter, item)
        else:
            _lint_kinesis(linter, change)
    return list(linter.found.values())


_KINESIS_FIELDS = frozenset({"tableName", "recordFormat"})
"""Top-level fields of a DynamoDB change read through Kinesis that a stream record lacks."""


def _kinesis_change(item: Filter) -> Filter | None:
    """The DynamoDB-change pattern of a Kinesis mapping's filter (``{"data": {...}}`` and
    nothing else), or None for any other pattern."""
    pattern = item.pattern
    if set(pattern) == {"data"} and isinstance(pattern["data"], dict) and pattern["data"]:
        return Filter.from_pattern(pattern["data"])
    return None


def _lint_kinesis(linter: _Linter, change: Filter) -> None:
    """Lint a Kinesis mapping's filter as the DynamoDB change its ``data`` holds: paths are
    reported under ``data.``, ``tableName`` and ``recordFormat`` are fields of the change, and
    a field the change never carries is an error."""
    from streamflow.filters._criteria import absent_in_kinesis

    inner = _Linter(None)  # a change written to Kinesis carries both images
    _lint_one(inner, change)
    for warning in inner.found.values():
        top = warning.path.split(".", 1)[0]
        if top in _KINESIS_FIELDS and warning.severity == "warning":
            continue
        linter.warn(
            f"data.{warning.path}", warning.message, warning.fix, never=warning.severity == "error"
        )
    absent = absent_in_kinesis(change.pattern)
    if absent:
        linter.warn(
            f"data.{absent}",
            "a DynamoDB change read through Kinesis has no such field: this rule never matches",
            "filter on tableName instead of eventSourceARN, or drop the rule",
            never=True,
        )


def check_view_type(view_type: str | None) -> None:
    """Raises FilterValidationError for a ``view_type`` that is not a StreamViewType."""
    if view_type is not None and view_type not in VIEW_TYPES:
        raise FilterValidationError(
            "view_type", f"must be one of {', '.join(VIEW_TYPES)}, not {view_type!r}"
        )


def _lint_one(linter: _Linter, item: Filter) -> None:
    compiled = item._compiled
    for path in sorted(compiled.overridden):
        linter.warn(
            path,
            "this field appears twice (inside and outside $or, or as 'a.b' and a -> b): "
            "AWS keeps only the later one",
            "state the field once, or inside every $or alternative",
        )
    for fields in compiled.fields:
        for field in fields:
            linter.field(field)
        linter.branch(fields)


def never_matching(item: Filter, *, view_type: str | None = None) -> LintWarning | None:
    """The first finding that a rule of ``item`` can never match (an error), or None."""
    linter = _Linter(view_type)
    _lint_one(linter, item)
    return next((w for w in linter.found.values() if w.severity == "error"), None)
