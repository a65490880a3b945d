"""The :class:`Router`: routes declared with their filters, a batch run through them, the
Lambda entry point, and the FilterCriteria the routes need.

Over 400 lines: one public class whose every method carries its full documentation; what a
batch run does lives in ``_run``, how handlers are called in ``_calls``, the report in
``_report``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

from streamflow._value import Value
from streamflow.errors import FilterValidationError, RecordShapeError, RecursionRiskError
from streamflow.records import StreamRecord
from streamflow.router._calls import plan_arguments
from streamflow.router._report import (
    BatchResult,
    Window,
    default_service,
    emit_metrics,
)
from streamflow.router._run import Route, Settings, run_batch

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, Literal, TypeVar

    from streamflow.filters import Filter, FilterCriteria
    from streamflow.router._calls import ArgumentKind
    from streamflow.router._run import RouteKind

    F = TypeVar("F", bound=Callable[..., Any])
    Dispatch = Literal["first", "all"]
    FailureMode = Literal["stop", "continue"]

__all__ = ["DeclaredRoute", "Router"]


class DeclaredRoute(Value):
    """A route as declared on a :class:`Router` (see :attr:`Router.declared_routes`).

    Attributes:
        name: the route's name.
        kind: ``"record"``, ``"batch"`` or ``"window"``.
        criteria: its filters, as a :class:`~streamflow.filters.FilterCriteria`.
        handler: the function it calls.
        model: the model its records are mapped onto, or None.
    """

    __slots__ = ("criteria", "handler", "kind", "model", "name")
    _order = ("name", "kind", "criteria", "handler", "model")
    name: str
    kind: RouteKind
    criteria: FilterCriteria
    handler: Callable[..., Any]
    model: type[Any] | None


class Router:
    """Routes each stream record to the handlers whose filters match it.

    Args:
        dispatch: ``"first"`` (default) hands each record to the first matching route in
            declaration order; ``"all"`` to every matching route.
        on_unmatched: ``"ignore"`` (default) counts records no route matches;
            ``"error"`` fails them.
        failure_mode: ``"stop"`` (default) starts nothing at or after the first failure;
            ``"continue"`` processes every record. Both report the lowest failure and every
            record after it, which is where Lambda resumes the shard.
        max_concurrency: run record routes for up to this many item keys at once, each
            key's records in order (threads; default 1, sequential).
        metrics: also write CloudWatch Embedded Metric Format figures to stdout.
        namespace: the CloudWatch namespace of those metrics.
        numbers: how ``N`` values decode: ``"auto"``, ``"decimal"`` or ``"float"``.
        time_margin: seconds of the invocation's time to keep in reserve: once only that is
            left (by the Lambda context's ``get_remaining_time_in_millis()``), no new record
            starts, the unstarted ones are reported for redelivery, and the router answers
            before Lambda's timeout would fail the whole batch. ``"auto"`` (default): a
            tenth of the time the invocation had, between 0.5 and 5 seconds. ``None``: no
            deadline. Async handlers and concurrent lanes still running at the deadline fail
            their record with :class:`~streamflow.errors.HandlerTimeoutError`; a plain
            handler is not interrupted, so the deadline is checked between records.

    Exactly once: a record's effects are applied once, across Lambda's redeliveries, with
    ``failure_mode="stop"`` and ``dispatch="first"`` (the defaults), as long as each handler
    either completes its record's effects or fails without applying them. With
    ``dispatch="all"`` a record that one route applied and another failed is delivered again
    and the first route runs again; with ``failure_mode="continue"`` the records after a
    failure run now and again on redelivery; with batch routes, a batch route applies its
    records before a record route fails an earlier one. Those combinations need idempotent
    handlers (docs: Partial failures).

    >>> from streamflow import StreamRecord, testing
    >>> from streamflow.filters import Filter
    >>> router = Router()
    >>> seen = []
    >>> @router.on(Filter.insert())
    ... def inserted(record: StreamRecord) -> None:
    ...     seen.append(record.keys["PK"])
    >>> router.lambda_handler(testing.event(testing.insert({"PK": "A", "SK": "B"})), None)
    {'batchItemFailures': []}
    >>> seen
    ['A']
    """

    def __init__(
        self,
        *,
        dispatch: Dispatch = "first",
        on_unmatched: Literal["ignore", "error"] = "ignore",
        failure_mode: FailureMode = "stop",
        max_concurrency: int = 1,
        metrics: bool = False,
        namespace: str = "streamflow",
        numbers: Literal["auto", "decimal", "float"] = "auto",
        time_margin: float | Literal["auto"] | None = "auto",
    ) -> None:
        _choose("dispatch", dispatch, ("first", "all"))
        _choose("on_unmatched", on_unmatched, ("ignore", "error"))
        _choose("failure_mode", failure_mode, ("stop", "continue"))
        _choose("numbers", numbers, ("auto", "decimal", "float"))
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise ValueError(f"max_concurrency must be a positive int, got {max_concurrency!r}")
        if time_margin not in ("auto", None) and (
            isinstance(time_margin, bool)
            or not isinstance(time_margin, (int, float))
            or not 0 <= time_margin < 900
        ):
            raise ValueError(
                "time_margin must be 'auto', None or seconds from 0 to 900 (Lambda's longest "
                f"timeout), got {time_margin!r}"
            )
        self._settings = Settings(
            dispatch=dispatch,
            on_unmatched=on_unmatched,
            failure_mode=failure_mode,
            max_concurrency=max_concurrency,
            numbers=numbers,
            time_margin=time_margin,
        )
        self._metrics = metrics
        self._namespace = namespace
        self._routes: list[Route] = []
        # The routes and the function matching a record against all of them (see
        # _build_dispatch), built at the first batch and again once routes were declared.
        self._dispatch: tuple[tuple[Route, ...], Callable[[Any], int]] | None = None

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes' names, in declaration order."""
        return tuple(route.name for route in self._routes)

    @property
    def declared_routes(self) -> tuple[DeclaredRoute, ...]:
        """The routes as declared, in declaration order: for tools that compare them with a
        deployment (``streamflow check``) or document them.

        >>> from streamflow.filters import Filter
        >>> router = Router()
        >>> router.on(Filter.remove(), name="removed")(lambda record: None)  # doctest: +ELLIPSIS
        <function <lambda> at ...>
        >>> [(r.name, r.kind, r.criteria.patterns) for r in router.declared_routes]
        [('removed', 'record', [{'eventName': ['REMOVE']}])]
        """
        return tuple(
            DeclaredRoute(route.name, route.kind, route.criteria, route.handler, route.model)
            for route in self._routes
        )

    @property
    def options(self) -> dict[str, Any]:
        """The options the router was made with, by their names in :class:`Router`.

        >>> Router(dispatch="all").options["dispatch"]
        'all'
        """
        settings = self._settings
        return {
            "dispatch": settings.dispatch,
            "on_unmatched": settings.on_unmatched,
            "failure_mode": settings.failure_mode,
            "max_concurrency": settings.max_concurrency,
            "metrics": self._metrics,
            "namespace": self._namespace,
            "numbers": settings.numbers,
            "time_margin": settings.time_margin,
        }

    # --- declaring routes ------------------------------------------------------------------

    def on(
        self,
        criteria: Filter | FilterCriteria,
        *,
        model: type[Any] | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Declare a record route: ``handler`` is called once per matching record.

        The handler takes the :class:`StreamRecord`, or a typed model of its image (given by
        ``model=`` or by its first parameter's annotation: a dataclass, TypedDict or pydantic
        model), then
        optionally the record (after a model) and the Lambda context (a parameter named
        ``context``). ``async def`` handlers work too.

        Args:
            criteria: a :class:`~streamflow.filters.Filter` or a
                :class:`~streamflow.filters.FilterCriteria` (any of its filters).
            model: map the record's new image (old image for REMOVE) onto this class.
            name: the route's name in results, logs and metrics (default: the function's).

        Raises:
            TypeError: the handler takes parameters the router cannot fill.
            ValueError: another route has the same name.
            FilterValidationError: a rule of the filter can never match a stream record.
        """
        return self._declare("record", criteria, ("record",), model, name)

    def on_batch(
        self, criteria: Filter | FilterCriteria, *, name: str | None = None
    ) -> Callable[[F], F]:
        """Declare a batch route: ``handler(records)`` gets all matching records at once.

        Records come in stream order. The handler returns ``None`` when all succeeded, or
        the records (or their sequence numbers) that failed, or ``(record, exception)``
        pairs that also say why; raising fails all of them.
        Batch routes run before record routes. See the Router page for ordering.

        Args:
            criteria: a :class:`~streamflow.filters.Filter` or FilterCriteria.
            name: the route's name (default: the function's).
        """
        return self._declare("batch", criteria, ("records",), None, name)

    def on_window(
        self, criteria: Filter | FilterCriteria, *, name: str | None = None
    ) -> Callable[[F], F]:
        """Declare a tumbling-window route: ``handler(records, state, window) -> new state``.

        For event source mappings with ``TumblingWindowInSeconds``: ``state`` is the dict the
        route returned last time in this window (empty at a window's start), ``window`` a
        :class:`Window`. The returned dict is kept by Lambda for the next invocation. Each
        route's state is stored under its name in the response's ``state``. On the final
        invocation the route is called even without records; if it fails then, the whole
        invocation fails, so that Lambda retries it.
        """
        return self._declare("window", criteria, ("records", "state", "window"), None, name)

    def _declare(
        self,
        kind: RouteKind,
        criteria: Filter | FilterCriteria,
        leading: tuple[ArgumentKind, ...],
        model: type[Any] | None,
        name: str | None,
    ) -> Callable[[F], F]:
        from streamflow.filters import Filter, FilterCriteria, refuse_never_matching

        if isinstance(criteria, Filter):
            refuse_never_matching(criteria)  # a route that could never fire is a mistake
            criteria = FilterCriteria(criteria)
        elif isinstance(criteria, FilterCriteria):
            refuse_never_matching(criteria)
        else:
            raise TypeError(
                f"a route needs a Filter or FilterCriteria, got {type(criteria).__name__}"
            )
        matches = criteria.matches

        def register(handler: F) -> F:
            arguments, chosen_model = plan_arguments(handler, leading=leading, model=model)
            route_name = name or getattr(handler, "__name__", None) or repr(handler)
            if route_name in self.routes:
                raise ValueError(f"a route named {route_name!r} is already declared")
            route = Route(
                name=route_name,
                kind=kind,
                matches=matches,
                criteria=criteria,
                handler=handler,
                arguments=arguments,
                model=chosen_model,
            )
            self._routes.append(route)
            return handler

        return register

    # --- running ---------------------------------------------------------------------------

    def process(
        self,
        records: Sequence[StreamRecord | Mapping[str, Any]],
        *,
        context: Any = None,
        window: Window | None = None,
        state: dict[str, Any] | None = None,
    ) -> BatchResult:
        """Process one batch of records and say what happened.

        A record that cannot be read, matched to its model, or handled is a failure; it is
        never dropped. The result's :attr:`BatchResult.reported` holds what Lambda must
        retry: the lowest failure and every record after it.

        Args:
            records: raw records of a Lambda event, or StreamRecords.
            context: the Lambda context, passed to handlers that ask for it.
            window: the tumbling window, for window routes.
            state: the window state Lambda passed in.

        Raises:
            Exception: a window route failed the window's final invocation, which has no
                record to report it on; raised as the route raised it.
        """
        dispatch = self._dispatch
        # Routes are only ever appended, so the same count means the same routes.
        if dispatch is None or len(dispatch[0]) != len(self._routes):
            dispatch = self._build_dispatch()
        routes, choose = dispatch
        result = run_batch(
            records,
            routes,
            self._settings,
            choose=choose,
            context=context,
            window=window,
            state=state,
        )
        _log(result)
        if self._metrics:
            emit_metrics(result, namespace=self._namespace, service=default_service(), out=None)
        return result

    def _build_dispatch(self) -> tuple[tuple[Route, ...], Callable[[Any], int]]:
        """One generated function matching a record against every route's filter, with the
        routes it numbers: each route's verdict is its ``criteria.matches``, but a record
        costs one call, and the look-ups the routes share are done once."""
        from streamflow.filters._criteria import dispatcher

        routes = tuple(self._routes)
        first = self._settings.dispatch == "first"
        self._dispatch = routes, dispatcher([route.criteria for route in routes], first=first)
        return self._dispatch

    def lambda_handler(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """The Lambda entry point: ``handler = router.lambda_handler``.

        Returns ``{"batchItemFailures": [...]}`` (and ``state`` for tumbling windows), for an
        event source mapping with ``FunctionResponseTypes: ["ReportBatchItemFailures"]``.

        Raises:
            RecordShapeError: the event is not a stream event, or a failed record carries no
                sequence number to report (Lambda then retries the whole batch).
            Exception: what a window route raised on a window's final invocation without
                records (no record to report: Lambda retries the invocation).
        """
        records = event.get("Records") if isinstance(event, Mapping) else None
        if not isinstance(records, list):
            raise RecordShapeError("Records", "missing or not an array: not a stream event")
        window = _window_of(event)
        state = event.get("state") if window is not None else None
        result = self.process(
            records,
            context=context,
            window=window,
            state=dict(state) if isinstance(state, dict) else None,
        )
        if result.failures and not result.reported:
            error = result.failures[0].error
            raise RecordShapeError(
                "dynamodb.SequenceNumber",
                f"a failed record has no sequence number to report; failing the whole "
                f"batch so that nothing is lost ({error})",
                index=result.failures[0].index,
            )
        return result.response()

    # --- infrastructure ---------------------------------------------------------------------

    def filter_criteria(
        self, *, max_filters: int = 5, source: Literal["dynamodb", "kinesis"] = "dynamodb"
    ) -> FilterCriteria:
        """The OR of every route's filter: what the event source mapping must carry, so that
        records no route wants never invoke the function.

        A route on an empty ``FilterCriteria()`` wants every record, and so does the mapping:
        the result is then an empty ``FilterCriteria()`` too (no filtering), not the other
        routes' filters, which would drop records that route is waiting for.

        Beyond ``max_filters``, filters that differ only in one field's values (such as
        routes on different key prefixes) are merged into one pattern matching the same
        records.

        The same routes serve a table's DynamoDB stream and a Kinesis data stream that
        Kinesis Data Streams for DynamoDB writes to: the router matches a Kinesis record by
        the DynamoDB change it carries. Only the mapping's patterns differ, since Lambda
        filters a Kinesis record on its ``data``: ask for them with ``source="kinesis"``.

        Args:
            max_filters: 5 by AWS's default quota, 10 if raised on request.
            source: ``"dynamodb"`` (a DynamoDB stream's mapping) or ``"kinesis"`` (each
                pattern nested under ``data``; see :meth:`FilterCriteria.for_kinesis`).

        Raises:
            FilterValidationError: the routes need more filters than ``max_filters``, or
                (Kinesis) a route's filter names a field the Kinesis change lacks.
            ValueError: no route is declared, or ``source`` is neither.
        """
        from streamflow.filters import Filter, FilterCriteria

        _choose("source", source, ("dynamodb", "kinesis"))
        if not self._routes:
            raise ValueError("no routes are declared")
        if any(not route.criteria.filters for route in self._routes):
            return FilterCriteria(max_filters=max_filters)
        filters: list[Filter] = []
        for route in self._routes:
            for pattern in route.criteria.patterns:
                candidate = Filter.from_pattern(pattern)
                if candidate not in filters:
                    filters.append(candidate)
        if len(filters) > max_filters:
            from streamflow.filters._merge import merge_filters

            filters = merge_filters(filters, max_filters)
        if len(filters) > max_filters:
            raise FilterValidationError(
                "Filters",
                f"the routes need {len(filters)} filters, even with those that differ in one "
                f"field's values merged, and a mapping holds at most {max_filters} (AWS raises "
                "the limit to 10 on request: max_filters=10); give routes a shared filter, or "
                "split them over two functions",
            )
        criteria = FilterCriteria(*filters, max_filters=max_filters)
        return criteria.for_kinesis() if source == "kinesis" else criteria

    def assert_not_retriggered(
        self,
        item: Mapping[str, Any],
        *,
        old_item: Mapping[str, Any] | None = None,
        keys: Sequence[str] = ("PK", "SK"),
    ) -> None:
        """Check that writing ``item`` cannot trigger this router again.

        Builds the INSERT record, and the MODIFY record (from ``old_item``, or the item
        itself), that writing ``item`` would put on the stream, and tests every route.

        Args:
            item: the item the handler writes, as plain Python values.
            old_item: the item before the write, for the MODIFY record.
            keys: the table's key attribute names (those present in ``item`` are used).

        Raises:
            RecursionRiskError: a route's filter matches one of those records; it names the
                route and the event.
        """
        from streamflow.testing import insert, modify, records

        key_names = tuple(k for k in keys if k in item) or tuple(keys)
        changes = [insert(item), modify(old_item or item, item)]
        for raw in records(*changes, keys=key_names):
            for route in self._routes:
                if route.matches(raw):
                    raise RecursionRiskError(route.name, raw["eventName"])


def _choose(option: str, value: object, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{option} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _window_of(event: Mapping[str, Any]) -> Window | None:
    window = event.get("window")
    if not isinstance(window, dict):
        return None
    from datetime import datetime

    def when(text: object) -> Any:
        if isinstance(text, str):
            try:
                return datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return text
        return text

    return Window(
        start=when(window.get("start")),
        end=when(window.get("end")),
        shard_id=event.get("shardId"),
        is_final=bool(event.get("isFinalInvokeForWindow")),
        terminated_early=bool(event.get("isWindowTerminatedEarly")),
    )


def _log(result: BatchResult) -> None:
    """One structured JSON line per invocation on the ``streamflow`` logger, and each
    failure with its traceback. Configure nothing: Powertools' Logger or the Lambda
    runtime's handler formats and ships them.

    A process that has not imported :mod:`logging` has configured no handler, so its INFO
    line would go nowhere: ``logging`` (about 6 ms, with ``traceback``) and ``json`` are then
    loaded only to report failures. Lambda's runtime has loaded both before the handler.
    """
    if "logging" not in sys.modules and not result.failures:
        return
    import logging

    logger = logging.getLogger("streamflow")
    for failure in result.failures:
        logger.error(
            "record %s (sequence number %s) failed in route %s: %s",
            failure.index,
            failure.sequence_number,
            failure.route,
            failure.error,
            exc_info=failure.error,
        )
    if logger.isEnabledFor(logging.INFO):  # what logger.info checks: skip building the JSON
        import json

        logger.info(json.dumps(result.summary(), default=str))
