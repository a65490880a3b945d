"""``FilterCriteria``: up to 5 (or 10) filters, OR-ed, as an event source mapping holds them.

Reads and writes the ``FilterCriteria`` shape shared by boto3, the Lambda API and
CloudFormation: ``{"Filters": [{"Pattern": "<JSON text>"}]}``.
"""

from __future__ import annotations

from collections.abc import Mapping

from streamflow.errors import FilterValidationError
from streamflow.filters._filter import Filter, lazy_matcher
from streamflow.filters._json import as_record

__all__ = [
    "MAX_FILTERS",
    "FilterCriteria",
    "FilterCriteriaDict",
    "FilterDict",
    "absent_in_kinesis",
    "dispatcher",
]

MAX_FILTERS = 10
"""AWS never allows more than 10 filters per event source mapping (5 without a quota raise)."""


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from typing import Any, TypedDict

    from typing_extensions import NotRequired

    from streamflow.filters._compile import BranchPlan

    class FilterDict(TypedDict):
        """One entry of ``FilterCriteria.Filters``: the pattern as JSON text."""

        Pattern: str

    class FilterCriteriaDict(TypedDict):
        """The ``FilterCriteria`` of boto3, the Lambda API and CloudFormation:
        ``{"Filters": [{"Pattern": "<JSON text>"}]}`` (``Filters`` is optional there: a
        CloudFormation ``FilterCriteria`` with no filters is ``{}``)."""

        Filters: NotRequired[list[FilterDict]]

else:  # for type checkers the TypedDicts above; at run time, plain dicts
    FilterDict = FilterCriteriaDict = dict


class FilterCriteria:
    """Filters OR-ed together, as an event source mapping's ``FilterCriteria``.

    A record is delivered if any filter matches. AWS allows 5 filters per mapping, or 10
    after a quota increase: pass ``max_filters=10`` then. With no filters, every record is
    delivered.

    >>> criteria = Filter.insert() | Filter.remove().exclude_ttl_deletes()
    >>> criteria.to_boto3()["Filters"][0]
    {'Pattern': '{"eventName":["INSERT"]}'}
    >>> criteria.matches({"eventName": "MODIFY"})
    False
    """

    __slots__ = ("_filters", "_match", "_max_filters", "_plans")

    _filters: tuple[Filter, ...]
    _max_filters: int
    _match: Callable[[Any], bool]
    _plans: tuple[BranchPlan, ...]  # every filter's branches, OR-ed: what _match runs

    def __init__(self, *filters: Filter, max_filters: int = 5) -> None:
        """Group ``filters``; see the class docstring.

        Raises:
            FilterValidationError: for more filters than ``max_filters``, or a
                ``max_filters`` outside 1..10.
        """
        if (
            not isinstance(max_filters, int)
            or isinstance(max_filters, bool)
            or not 1 <= max_filters <= MAX_FILTERS
        ):
            raise FilterValidationError(
                "Filters",
                f"max_filters must be 1 to {MAX_FILTERS} (AWS allows 5 per mapping, 10 with "
                f"a quota increase), not {max_filters!r}",
            )
        for index, item in enumerate(filters):
            if not isinstance(item, Filter):
                raise FilterValidationError(
                    f"Filters[{index}]", f"expected a Filter, not {type(item).__name__}"
                )
        if len(filters) > max_filters:
            hint = (
                " (AWS raises the limit to 10 on request: max_filters=10)"
                if len(filters) <= MAX_FILTERS
                else ""
            )
            raise FilterValidationError(
                "Filters",
                f"{len(filters)} filters, but at most {max_filters} are allowed{hint}",
            )
        object.__setattr__(self, "_filters", tuple(filters))
        object.__setattr__(self, "_max_filters", max_filters)
        plans = tuple(plan for f in self._filters for plan in f._compiled.plans)
        object.__setattr__(self, "_plans", plans)
        matcher = lazy_matcher(self, plans) if plans else _deliver_all
        object.__setattr__(self, "_match", matcher)

    @classmethod
    def from_boto3(cls, value: Mapping[str, Any], *, max_filters: int = 5) -> FilterCriteria:
        """Read the ``FilterCriteria`` shape of boto3, the Lambda API or CloudFormation.

        Args:
            value: ``{"Filters": [{"Pattern": "..."}]}``, or a whole
                ``get_event_source_mapping`` response holding ``FilterCriteria``.
            max_filters: the mapping's limit (5, or 10 after a quota increase).

        Returns:
            The criteria.

        Raises:
            FilterValidationError: for a malformed shape or an invalid pattern, with its
                path (``Filters[1].Pattern.eventName``).

        >>> FilterCriteria.from_boto3({"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]})
        FilterCriteria(Filter.from_pattern('{"eventName":["INSERT"]}'))
        """
        if isinstance(value, Mapping) and "FilterCriteria" in value and "Filters" not in value:
            value = value["FilterCriteria"]
        if not isinstance(value, Mapping):
            raise FilterValidationError("FilterCriteria", "expected an object")
        entries = value.get("Filters", [])
        if not isinstance(entries, list):
            raise FilterValidationError("Filters", "expected a list of {'Pattern': ...}")
        filters = []
        for index, entry in enumerate(entries):
            where = f"Filters[{index}].Pattern"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("Pattern"), str):
                raise FilterValidationError(where, "expected {'Pattern': '<JSON text>'}")
            try:
                filters.append(Filter.from_pattern(entry["Pattern"]))
            except FilterValidationError as exc:
                raise FilterValidationError(
                    f"{where}.{exc.path}" if exc.path else where, exc.reason
                ) from None
        return cls(*filters, max_filters=max_filters)

    @property
    def filters(self) -> tuple[Filter, ...]:
        """The filters, in order.

        >>> FilterCriteria(Filter.insert()).filters
        (Filter.from_pattern('{"eventName":["INSERT"]}'),)
        """
        return self._filters

    @property
    def max_filters(self) -> int:
        """The most filters allowed (5, or 10 after a quota increase).

        >>> FilterCriteria(max_filters=10).max_filters
        10
        """
        return self._max_filters

    @property
    def patterns(self) -> list[dict[str, Any]]:
        """The patterns as dicts, e.g. for CDK's ``FilterCriteria.filter(...)``.

        >>> (Filter.insert() | Filter.modify()).patterns
        [{'eventName': ['INSERT']}, {'eventName': ['MODIFY']}]
        """
        return [f.pattern for f in self._filters]

    def matches(self, record: Any) -> bool:
        """True if any filter matches ``record`` (always True with no filters).

        Args:
            record: the record as Lambda sees it, or a :class:`~streamflow.StreamRecord`
                (its DynamoDB ``change`` is matched, whether it came through a DynamoDB
                stream or Kinesis); any JSON value is accepted, never raises.

        Returns:
            Whether Lambda would deliver the record.

        >>> (Filter.insert() | Filter.modify()).matches({"eventName": "MODIFY"})
        True
        """
        if type(record) is not dict:
            record = as_record(record)
        return self._match(record)

    def to_boto3(self) -> FilterCriteriaDict:
        """The ``FilterCriteria`` argument of boto3's ``create_event_source_mapping``.

        Returns:
            ``{"Filters": [{"Pattern": "<compact JSON>"}, ...]}``.

        >>> FilterCriteria(Filter.insert()).to_boto3()
        {'Filters': [{'Pattern': '{"eventName":["INSERT"]}'}]}
        """
        return {"Filters": [{"Pattern": f.to_json()} for f in self._filters]}

    def to_cloudformation(self) -> FilterCriteriaDict:
        """The ``FilterCriteria`` property of ``AWS::Lambda::EventSourceMapping``.

        Returns:
            ``{"Filters": [{"Pattern": "<compact JSON>"}, ...]}`` (same shape as boto3's),
            or ``{}`` with no filters: CloudFormation refuses an empty ``Filters`` list
            (its schema asks for at least one filter).

        >>> FilterCriteria(Filter.remove()).to_cloudformation()
        {'Filters': [{'Pattern': '{"eventName":["REMOVE"]}'}]}
        >>> FilterCriteria().to_cloudformation()
        {}
        """
        if not self._filters:
            return {}
        return self.to_boto3()

    def for_kinesis(self) -> FilterCriteria:
        """The same filters for an event source mapping on a Kinesis data stream that
        Kinesis Data Streams for DynamoDB writes to.

        Lambda filters a Kinesis record only on its ``data`` (the DynamoDB change, decoded
        from base64 JSON), so each pattern is nested under ``data``. A DynamoDB change in
        Kinesis carries no ``eventSourceARN``, ``eventVersion``, ``dynamodb.SequenceNumber``
        nor ``dynamodb.StreamViewType`` (it has ``tableName`` and ``recordFormat``): a
        pattern on those could never match, and is refused.

        Raises:
            FilterValidationError: a pattern names a field the Kinesis change lacks.

        >>> FilterCriteria(Filter.insert()).for_kinesis().to_boto3()
        {'Filters': [{'Pattern': '{"data":{"eventName":["INSERT"]}}'}]}
        """
        for index, flt in enumerate(self._filters):
            absent = absent_in_kinesis(flt.pattern)
            if absent:
                raise FilterValidationError(
                    f"Filters[{index}].{absent}",
                    "a DynamoDB change read through Kinesis has no such field, so this "
                    "pattern would never match on a Kinesis event source mapping",
                )
        wrapped = [Filter.from_pattern({"data": flt.pattern}) for flt in self._filters]
        return FilterCriteria(*wrapped, max_filters=self._max_filters)

    def __or__(self, other: Filter | FilterCriteria) -> FilterCriteria:
        """Add a filter (or another criteria's filters), keeping this ``max_filters``."""
        if isinstance(other, Filter):
            return FilterCriteria(*self._filters, other, max_filters=self._max_filters)
        if isinstance(other, FilterCriteria):
            limit = max(self._max_filters, other._max_filters)
            return FilterCriteria(*self._filters, *other._filters, max_filters=limit)
        return NotImplemented

    def __iter__(self) -> Iterator[Filter]:
        return iter(self._filters)

    def __len__(self) -> int:
        return len(self._filters)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FilterCriteria):
            return NotImplemented
        return self._filters == other._filters

    def __hash__(self) -> int:
        return hash(self._filters)

    def __repr__(self) -> str:
        inner = ", ".join(repr(f) for f in self._filters)
        limit = f", max_filters={self._max_filters}" if self._max_filters != 5 else ""
        return f"FilterCriteria({inner}{limit})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_criteria, (self._filters, self._max_filters))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"FilterCriteria is immutable: cannot set {name!r}")


_NOT_IN_KINESIS = {
    "eventSourceARN": None,
    "eventVersion": None,
    "dynamodb": frozenset({"SequenceNumber", "StreamViewType"}),
}
"""Fields of a DynamoDB stream record that the change written to Kinesis lacks (``None``: the
whole field; a set: those keys of it)."""


def absent_in_kinesis(pattern: Mapping[str, Any]) -> str | None:
    """The first field ``pattern`` (or one of its ``$or`` alternatives) constrains that a
    DynamoDB change read through Kinesis does not carry."""
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            for alternative in value:
                absent = isinstance(alternative, Mapping) and absent_in_kinesis(alternative)
                if absent:
                    return absent
        elif key in _NOT_IN_KINESIS:
            inner = _NOT_IN_KINESIS[key]
            if inner is None:
                return key
            if isinstance(value, Mapping):
                for name in value:
                    if name in inner:
                        return f"{key}.{name}"
                nested = value.get("$or")
                if isinstance(nested, list):
                    for alternative in nested:
                        if isinstance(alternative, Mapping):
                            hit = next((n for n in alternative if n in inner), None)
                            if hit:
                                return f"{key}.{hit}"
    return None


def _rebuild_criteria(filters: tuple[Filter, ...], max_filters: int) -> FilterCriteria:
    return FilterCriteria(*filters, max_filters=max_filters)


def dispatcher(criteria: Sequence[FilterCriteria], *, first: bool) -> Callable[[Any], int]:
    """One function matching a record against several criteria (a router's routes).

    It returns a bit mask of the criteria that match (bit ``i``: ``criteria[i]``), or with
    ``first`` only the first one's bit; 0 when none does. Each verdict is exactly that
    criteria's :meth:`FilterCriteria.matches`: the same branches, in one generated function
    (see ``_codegen.build_dispatcher``). Built when called: code generation is not a cost of
    declaring routes.
    """
    from streamflow.filters._codegen import RouteTest, build_dispatcher

    routes: list[RouteTest] = []
    for item in criteria:
        # A subclass may match in its own way: it is asked as it is.
        routes.append((item._plans if type(item) is FilterCriteria else None, item.matches))
    return build_dispatcher(routes, first=first)


def _deliver_all(record: Any) -> bool:
    """No filters: Lambda delivers every record."""
    return True
