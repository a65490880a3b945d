"""``Filter``: one pattern, validated, compiled once, immutable.

The module runs past 400 lines for one reason: it is one class (the class alone is about 460
lines), and each of its dozen public methods carries the docstring and runnable example that
the house rules ask for. Validation, compilation, code generation and the DynamoDB helpers
live in their own modules and load when first needed.

Its builder methods return new filters and also work on the class itself, so
``Filter.key("PK", prefix("SCORE#"))`` and ``Filter.insert().key(...)`` both read naturally.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from streamflow.errors import FilterValidationError
from streamflow.filters._json import as_record

# Validation, compilation and the DynamoDB helpers load when the first filter is built, not
# when this package is imported: ``import streamflow`` stays cheap for code without filters.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Concatenate, ParamSpec, Protocol

    from streamflow.filters._compile import BranchPlan, CompiledPattern
    from streamflow.filters._criteria import FilterCriteria
    from streamflow.filters._explain import Mismatch
    from streamflow.filters._lint import LintWarning
    from streamflow.filters._rule_objects import Rule

__all__ = ["Filter", "any_of", "lazy_matcher"]


class _Builder:
    """Make a builder method callable on an instance *and* on the class.

    On the class it starts from an empty pattern: ``Filter.insert()`` is the same as
    ``<empty>.insert()``. The empty pattern itself is never handed out.
    """

    def __init__(self, method: Callable[..., Filter]) -> None:
        self._method = method
        # What help() and doctest look for (doctest finds the examples through these).
        self.__doc__ = method.__doc__
        self.__name__ = method.__name__
        self.__qualname__ = method.__qualname__
        self.__module__ = method.__module__
        self.__wrapped__ = method

    def __get__(self, instance: Filter | None, owner: type[Filter]) -> Callable[..., Filter]:
        start = instance if instance is not None else _EMPTY
        method = self._method

        @functools.wraps(method)
        def bound(*args: Any, **kwargs: Any) -> Filter:
            return method(start, *args, **kwargs)

        return bound


if TYPE_CHECKING:  # how checkers see a builder: the method's own parameters, on both
    P = ParamSpec("P")

    class _BuilderMethod(Protocol[P]):
        def __get__(self, instance: Filter | None, owner: type[Filter]) -> Callable[P, Filter]: ...

    def _builder(method: Callable[Concatenate[Filter, P], Filter]) -> _BuilderMethod[P]: ...

else:
    _builder = _Builder


def lazy_matcher(owner: Any, plans: tuple[BranchPlan, ...]) -> Callable[[Any], bool]:
    """A stand-in that generates the real matcher on the first call, then steps aside.

    Builder calls make intermediate filters that are never matched; they never pay for code
    generation, and neither does a cold start that only defines filters.
    """

    def first_match(record: Any) -> bool:
        from streamflow.filters._codegen import build_matcher

        matcher = build_matcher(plans)
        object.__setattr__(owner, "_match", matcher)
        return matcher(record)

    return first_match


def _merge(base: dict[str, Any], extra: dict[str, Any], path: str = "") -> dict[str, Any]:
    """AND two patterns; refuses to constrain one field twice."""
    merged = dict(base)
    for key, value in extra.items():
        where = f"{path}.{key}" if path else key
        if key not in merged:
            merged[key] = value
        elif key == "$or":  # (A | B) & (C | D): push the second $or into each alternative
            merged[key] = [
                _merge(alternative, {"$or": value}, f"{where}[{i}]")
                for i, alternative in enumerate(merged[key])
            ]
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = _merge(merged[key], value, where)
        else:
            raise FilterValidationError(
                where,
                "this field is already constrained; list all accepted values in one call "
                "(they are OR-ed), or use any_of() for alternatives",
            )
    return merged


def _nest(segments: Sequence[str], leaf: Any) -> dict[str, Any]:
    fragment: Any = leaf
    for segment in reversed(segments):
        fragment = {segment: fragment}
    return dict(fragment)


class Filter:
    """One Lambda event filter pattern: validated, compiled once, immutable.

    Build it from a pattern (``Filter.from_pattern({...})`` or its JSON text) or with the
    builder methods, which return new filters and work on the class too. The builders refuse
    a filter with a rule that can never match a DynamoDB stream record (docs/filters.md,
    "When a filter is refused"); ``from_pattern`` accepts every pattern AWS accepts.
    Equality and hashing follow the pattern.

    >>> from streamflow.filters import prefix
    >>> f = Filter.insert().key("PK", prefix("SCORE#"))
    >>> f.pattern
    {'eventName': ['INSERT'], 'dynamodb': {'Keys': {'PK': {'S': [{'prefix': 'SCORE#'}]}}}}
    >>> f.matches({"eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "SCORE#1"}}}})
    True
    >>> Filter.from_pattern(f.pattern) == f
    True
    """

    __slots__ = ("_compiled", "_key", "_match", "_pattern", "_text")

    _compiled: CompiledPattern
    _key: str | None
    _match: Callable[[Any], bool]
    _pattern: dict[str, Any]
    _text: str

    def __init__(self, pattern: Mapping[str, Any] | str | bytes) -> None:
        """Validate and compile ``pattern``; see :meth:`from_pattern`."""
        from streamflow.filters._compile import compile_pattern
        from streamflow.filters._validate import parse_pattern

        parsed, text = parse_pattern(pattern)
        compiled = compile_pattern(parsed)
        for name, value in (
            ("_pattern", parsed),
            ("_text", text),
            ("_compiled", compiled),
            ("_match", lazy_matcher(self, compiled.plans)),
            ("_key", None),  # canonical text for == and hash, made when first needed
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def from_pattern(cls, pattern: Mapping[str, Any] | str | bytes) -> Filter:
        """Validate a pattern as Lambda does at CreateEventSourceMapping time, and compile it.

        Every pattern AWS accepts is accepted, even one with a rule that can never match (it
        reads what is already deployed): pass the filter to
        :func:`~streamflow.filters.refuse_never_matching` to refuse those, as the builders do.

        Args:
            pattern: the pattern as a mapping, or as its JSON text (``Filter.Pattern``).

        Returns:
            The filter.

        Raises:
            FilterValidationError: for every pattern AWS rejects, with the path and reason
                (e.g. ``dynamodb.NewImage.Score.N[0].numeric``).

        >>> Filter.from_pattern('{"eventName": ["INSERT"]}').pattern
        {'eventName': ['INSERT']}
        >>> Filter.from_pattern({"eventName": "INSERT"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        streamflow.errors.FilterValidationError: ... (write ["INSERT"]) at eventName
        """
        return cls(pattern)

    # --- reading ------------------------------------------------------------------------------

    @property
    def pattern(self) -> dict[str, Any]:
        """A fresh copy of the pattern, as a dict.

        >>> Filter.modify().pattern
        {'eventName': ['MODIFY']}
        """
        from streamflow.filters._json import copy_json

        copy: dict[str, Any] = copy_json(self._pattern)
        return copy

    def to_json(self) -> str:
        """The pattern as compact JSON text, the value of ``Filter.Pattern``.

        Returns:
            The JSON text.

        >>> Filter.remove().to_json()
        '{"eventName":["REMOVE"]}'
        """
        return self._text

    def matches(self, record: Any) -> bool:
        """AWS's verdict: would Lambda deliver ``record``?

        Args:
            record: the record as Lambda sees it (a dict parsed from the event JSON, type
                descriptors included) or a :class:`~streamflow.StreamRecord` (its DynamoDB
                ``change`` is matched, whether it came through a DynamoDB stream or
                Kinesis); any JSON value is accepted and never raises.

        Returns:
            True if the record matches the pattern.

        >>> Filter.insert().matches({"eventName": "INSERT"})
        True
        """
        if type(record) is not dict:
            record = as_record(record)
        return self._match(record)

    def explain(self, record: Any) -> list[Mismatch]:
        """Why ``record`` does not match: one :class:`Mismatch` per ``$or`` alternative.

        Args:
            record: the record, as for :meth:`matches`.

        Returns:
            An empty list when the record matches; otherwise, for each alternative of the
            pattern, its first field (in pattern order) that the record fails.

        >>> [str(m) for m in Filter.insert().explain({"eventName": "MODIFY"})]
        ['eventName: "MODIFY" does not match ["INSERT"]']
        """
        from streamflow.filters._explain import explain

        record = as_record(record)
        return explain(self._compiled, record, matched=self._match(record))

    def lint(self, *, view_type: str | None = None) -> list[LintWarning]:
        """Patterns AWS accepts but that never (or always) match: see :func:`lint`.

        Args:
            view_type: the stream's ``StreamViewType``, to check image rules against it.

        Returns:
            The warnings, empty when there is nothing to say.

        >>> Filter.new_image("status", "A").lint(view_type="KEYS_ONLY")[0].path
        'dynamodb.NewImage.status.S'
        """
        from streamflow.filters._lint import lint

        return lint(self, view_type=view_type)

    # --- building -----------------------------------------------------------------------------

    def _with(self, fragment: dict[str, Any]) -> Filter:
        """The filter every builder returns: ``fragment`` AND-ed in, checked as the DSL
        checks what it builds (docs/filters.md, "When a filter is refused")."""
        merged = Filter(_merge(self._pattern, fragment))
        if merged._compiled.overridden:
            path = sorted(merged._compiled.overridden)[0]
            raise FilterValidationError(
                path,
                "this field is given twice (inside and outside any_of(), or as a dotted key "
                "and nested); AWS keeps only the later one, so state it once, or put it into "
                "every alternative",
            )
        from streamflow.filters._refuse import refuse_never_matching

        return refuse_never_matching(merged)

    @_builder
    def where(self, path: str | Sequence[str], *rules: Rule) -> Filter:
        """Add a field at any path; its rules are OR-ed.

        Args:
            path: a dotted path (``"dynamodb.SizeBytes"``) or a sequence of keys.
            rules: values and rule objects; at least one.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if the path is already constrained, a rule is invalid, or
                a rule can never match (``numeric`` on ``dynamodb.NewImage.Score.N``, whose
                value is text in the record).

        >>> from streamflow.filters import numeric
        >>> Filter.where("dynamodb.SizeBytes", numeric(">", 1000)).pattern
        {'dynamodb': {'SizeBytes': [{'numeric': ['>', 1000]}]}}
        """
        if isinstance(path, str):
            segments = path.split(".")
        elif isinstance(path, Sequence) and not isinstance(path, (bytes, bytearray)):
            segments = list(path)
        else:
            raise FilterValidationError(
                "where", f"a path is a dotted string or a sequence of keys, not {path!r}"
            )
        where = ".".join(s if isinstance(s, str) else repr(s) for s in segments)
        for segment in segments:
            if not isinstance(segment, str) or not segment:
                raise FilterValidationError(
                    where or "where", f"each key of the path must be a non-empty string: {path!r}"
                )
        if not rules:
            raise FilterValidationError(where, "give at least one value or rule")
        from streamflow.filters._dynamodb import generic_value

        return self._with(_nest(segments, [generic_value(r, where) for r in rules]))

    @_builder
    def events(self, *names: str) -> Filter:
        """Keep records whose ``eventName`` is one of ``names``.

        Args:
            names: ``"INSERT"``, ``"MODIFY"`` and/or ``"REMOVE"``.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: for another name (they are case-sensitive).

        >>> Filter.events("INSERT", "MODIFY").pattern
        {'eventName': ['INSERT', 'MODIFY']}
        """
        from streamflow.filters._dynamodb import EVENT_NAMES

        for name in names:
            if name not in EVENT_NAMES:
                raise FilterValidationError(
                    "eventName", f"{name!r} is not an event name ({', '.join(EVENT_NAMES)})"
                )
        if not names:
            raise FilterValidationError("eventName", "give at least one event name")
        return self._with({"eventName": list(names)})

    @_builder
    def insert(self) -> Filter:
        """Keep ``INSERT`` records (new items).

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if ``eventName`` is already constrained.

        >>> Filter.insert().pattern
        {'eventName': ['INSERT']}
        """
        return self.events("INSERT")

    @_builder
    def modify(self) -> Filter:
        """Keep ``MODIFY`` records (updated items).

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if ``eventName`` is already constrained.

        >>> Filter.modify().pattern
        {'eventName': ['MODIFY']}
        """
        return self.events("MODIFY")

    @_builder
    def remove(self) -> Filter:
        """Keep ``REMOVE`` records (deleted items, TTL deletions included).

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if ``eventName`` is already constrained.

        >>> Filter.remove().pattern
        {'eventName': ['REMOVE']}
        """
        return self.events("REMOVE")

    @_builder
    def key(self, name: str, *rules: Rule, type: str | None = None) -> Filter:
        """Add a rule on a key attribute, ``dynamodb.Keys.<name>.<S|N|B>``.

        Args:
            name: the key attribute.
            rules: values and rule objects, OR-ed; the type descriptor is taken from them
                (str -> S, int/Decimal -> N as text, bytes -> B as base64).
            type: ``"S"``, ``"N"`` or ``"B"`` to set the descriptor explicitly.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: for rules that can never match (such as ``numeric()``).

        >>> from streamflow.filters import prefix
        >>> Filter.key("PK", prefix("SCORE#")).pattern
        {'dynamodb': {'Keys': {'PK': {'S': [{'prefix': 'SCORE#'}]}}}}
        """
        from streamflow.filters._dynamodb import KEY_DESCRIPTORS, attribute_fragment

        fragment = attribute_fragment(
            name, rules, type, where=f"key({name!r})", allowed=KEY_DESCRIPTORS, nested=False
        )
        return self._with({"dynamodb": {"Keys": fragment}})

    @_builder
    def new_image(
        self,
        name: str | Sequence[str],
        *rules: Rule,
        type: str | None = None,
    ) -> Filter:
        """Add a rule on an attribute of the new item, ``dynamodb.NewImage.<name>.<type>``.

        The descriptor comes from the rules: str and string rules -> ``S``; int, float and
        Decimal -> ``N`` with the number as DynamoDB's text (``30`` -> ``"30"``); bool ->
        ``BOOL``; None -> ``NULL: true``; bytes -> ``B`` as base64. ``exists(False)`` with no
        type means "no S, N, B, BOOL, NULL, SS, NS or BS value" (M and L values are objects
        and invisible to filters). ``numeric()`` is refused: it never matches an ``N`` value.

        Args:
            name: the attribute, or a sequence of names for a value nested in maps.
            rules: values and rule objects, OR-ed.
            type: an explicit descriptor (``"S"``, ``"N"``, ``"B"``, ``"BOOL"``, ``"NULL"``,
                ``"SS"``, ``"NS"``, ``"BS"``), required for ``exists(True)``.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: for rules that can never match or disagree on the type.

        >>> Filter.new_image("status", "ACTIVE").pattern
        {'dynamodb': {'NewImage': {'status': {'S': ['ACTIVE']}}}}
        >>> Filter.new_image("Score", 30).pattern
        {'dynamodb': {'NewImage': {'Score': {'N': ['30']}}}}
        """
        from streamflow.filters._dynamodb import attribute_fragment

        fragment = attribute_fragment(name, rules, type, where=f"new_image({name!r})")
        return self._with({"dynamodb": {"NewImage": fragment}})

    @_builder
    def old_image(
        self,
        name: str | Sequence[str],
        *rules: Rule,
        type: str | None = None,
    ) -> Filter:
        """Add a rule on an attribute of the old item, ``dynamodb.OldImage.<name>.<type>``.

        Same rules as :meth:`new_image`.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: for rules that can never match or disagree on the type.

        >>> Filter.old_image("verified", True).pattern
        {'dynamodb': {'OldImage': {'verified': {'BOOL': [True]}}}}
        """
        from streamflow.filters._dynamodb import attribute_fragment

        fragment = attribute_fragment(name, rules, type, where=f"old_image({name!r})")
        return self._with({"dynamodb": {"OldImage": fragment}})

    @_builder
    def ttl_deletes_only(self) -> Filter:
        """Keep only deletions made by DynamoDB's Time to Live (``userIdentity`` is set).

        TTL deletions carry ``userIdentity = {"type": "Service", "principalId":
        "dynamodb.amazonaws.com"}``, only in the Region that performed the delete.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if ``userIdentity`` is already constrained.

        >>> Filter.ttl_deletes_only().pattern["userIdentity"]
        {'type': ['Service'], 'principalId': ['dynamodb.amazonaws.com']}
        """
        return self._with(
            {"userIdentity": {"type": ["Service"], "principalId": ["dynamodb.amazonaws.com"]}}
        )

    @_builder
    def exclude_ttl_deletes(self) -> Filter:
        """Drop deletions made by DynamoDB's Time to Live (records without ``userIdentity``).

        Returns:
            A new filter.

        Raises:
            FilterValidationError: if ``userIdentity`` is already constrained.

        >>> Filter.remove().exclude_ttl_deletes().pattern["userIdentity"]
        {'type': [{'exists': False}]}
        """
        return self._with({"userIdentity": {"type": [{"exists": False}]}})

    @_builder
    def any_of(self, *alternatives: Filter) -> Filter:
        """Add ``$or``: at least one of the ``alternatives`` must match (AND-ed with the rest).

        Args:
            alternatives: two or more filters.

        Returns:
            A new filter.

        Raises:
            FilterValidationError: for fewer than two alternatives, or a field constrained
                both inside and outside the ``$or``.

        >>> f = Filter.insert().any_of(Filter.new_image("a", "x"), Filter.new_image("b", "y"))
        >>> f.matches({"eventName": "INSERT", "dynamodb": {"NewImage": {"b": {"S": "y"}}}})
        True
        """
        if len(alternatives) < 2 or not all(isinstance(a, Filter) for a in alternatives):
            raise FilterValidationError("$or", "any_of() needs two or more Filter objects")
        return self._with({"$or": [a._pattern for a in alternatives]})

    # --- operators and protocols --------------------------------------------------------------

    def __and__(self, other: Filter) -> Filter:
        """``a & b``: both patterns must match (merged into one pattern)."""
        if not isinstance(other, Filter):
            return NotImplemented
        return self._with(other._pattern)

    def __or__(self, other: Filter | FilterCriteria) -> FilterCriteria:
        """``a | b``: separate filters, OR-ed by Lambda (a :class:`FilterCriteria`)."""
        from streamflow.filters._criteria import FilterCriteria

        if isinstance(other, Filter):
            return FilterCriteria(self, other)
        if isinstance(other, FilterCriteria):
            return FilterCriteria(self, *other.filters, max_filters=other.max_filters)
        return NotImplemented

    def _canonical(self) -> str:
        """The text that equality and hashing compare.

        Key order does not change what a pattern matches unless a later key replaces an
        earlier one (``{"a.b": ...}`` next to ``{"a": {"b": ...}}``, or a field repeated
        inside ``$or``): then the order decides which rule AWS keeps, so it is kept.
        """
        key = self._key
        if key is None:
            from streamflow.filters._json import compact_json

            key = compact_json(self._pattern, sort_keys=not self._compiled.overridden)
            object.__setattr__(self, "_key", key)
        return key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Filter):
            return NotImplemented
        return self._canonical() == other._canonical()

    def __hash__(self) -> int:
        return hash(self._canonical())

    def __repr__(self) -> str:
        return f"Filter.from_pattern({self._text!r})"

    def __reduce__(self) -> tuple[Callable[[str], Filter], tuple[str]]:
        return (Filter.from_pattern, (self._text,))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Filter is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Filter is immutable: cannot delete {name!r}")


_EMPTY: Filter = object.__new__(Filter)
object.__setattr__(_EMPTY, "_pattern", {})


def any_of(*alternatives: Filter) -> Filter:
    """A filter that matches when at least one of ``alternatives`` matches (``$or``).

    Same as ``Filter.any_of(...)``. Prefer separate filters in a :class:`FilterCriteria`
    when the alternatives share nothing: ``$or`` is documented for Pipes, not for Lambda.

    Args:
        alternatives: two or more filters.

    Returns:
        The filter.

    Raises:
        FilterValidationError: for fewer than two alternatives.

    >>> any_of(Filter.insert(), Filter.remove()).pattern
    {'$or': [{'eventName': ['INSERT']}, {'eventName': ['REMOVE']}]}
    """
    return Filter.any_of(*alternatives)
