"""What the code declares: a Router's routes (their filters, kinds and models) and options,
or a plain handler with the filters given for it (``--filter``), loaded as ``streamflow run``
loads them.

The Router's routes and options are read through its public ``declared_routes`` and
``options``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streamflow._value import Value
from streamflow.errors import CheckError, RunnerConfigError
from streamflow.filters import FilterCriteria
from streamflow.router import Router
from streamflow.runner._handler import (
    FilterSpec,
    load_handler,
    resolve_filters,
    resolve_handler,
)

__all__ = ["Declared", "RouteInfo", "declared"]


class RouteInfo(Value):
    """One route: its name, kind (``record``, ``batch``, ``window``), filters and model."""

    __slots__ = ("criteria", "kind", "model", "name")
    _order = ("name", "kind", "criteria", "model")
    name: str
    kind: str
    criteria: FilterCriteria
    model: type[Any] | None


class Declared(Value):
    """What the deployment must match.

    Attributes:
        label: how findings name the code (``the router``, ``the --filter patterns``).
        routes: a Router's routes, in declaration order (empty for a plain handler).
        criteria: the FilterCriteria the mapping must carry (the Router's, or the filters
            given); ``None`` when a plain handler came without filters.
        filters_given: whether ``criteria`` came from ``--filter`` (``filters=``).
        router: whether the handler is a Router (it answers with ``batchItemFailures``).
        dispatch: the Router's ``dispatch`` (``first`` or ``all``).
        on_unmatched: the Router's ``on_unmatched`` (``ignore`` or ``error``).
        time_margin: the Router's ``time_margin`` (``"auto"``, seconds, or ``None``).
    """

    __slots__ = (
        "criteria",
        "dispatch",
        "filters_given",
        "label",
        "on_unmatched",
        "router",
        "routes",
        "time_margin",
    )
    _order = (
        "label",
        "routes",
        "criteria",
        "filters_given",
        "router",
        "dispatch",
        "on_unmatched",
        "time_margin",
    )
    label: str
    routes: tuple[RouteInfo, ...]
    criteria: FilterCriteria | None
    filters_given: bool
    router: bool
    dispatch: str
    on_unmatched: str
    time_margin: float | str | None

    def taker(self, record: Any) -> RouteInfo | None:
        """The route a record goes to first (``None``: no route takes it)."""
        for route in self.routes:
            if route.criteria.matches(record):
                return route
        return None

    def takes(self, record: Any) -> bool:
        """Whether the code handles the record (a route, or the plain handler's filters)."""
        if self.router:
            return self.taker(record) is not None
        return self.criteria is None or self.criteria.matches(record)


def declared(target: object, filters: FilterSpec | Sequence[FilterSpec] | None) -> Declared:
    """Load the handler (a ``module:attribute`` spec, a Router, or a function) and read what
    it declares. ``filters`` replace a Router's own, as ``--filter`` does for
    ``streamflow run``.

    Raises:
        CheckError: (option ``handler``) the handler cannot be loaded, is not callable
            as ``(event, context)``, or is a Router without routes.
        FilterValidationError: a filter AWS would reject.
    """
    try:  # loaded as the runner loads it; its refusals become the command's
        loaded = load_handler(target) if isinstance(target, str) else target
        _, router_criteria = resolve_handler(loaded)
        given = resolve_filters(filters)
    except RunnerConfigError as exc:
        raise CheckError(exc.option, exc.reason) from None
    if not isinstance(loaded, Router):
        label = "the --filter patterns" if given is not None else "the handler"
        return Declared(label, (), given, given is not None, False, "first", "ignore", None)
    routes = tuple(
        RouteInfo(route.name, route.kind, route.criteria, route.model)
        for route in loaded.declared_routes
    )
    if not routes:  # resolve_handler refuses this already; kept for a clear message
        raise CheckError("handler", "the Router declares no routes")
    options = loaded.options
    return Declared(
        "the --filter patterns" if given is not None else "the router",
        routes,
        given if given is not None else router_criteria,
        given is not None,
        True,
        options["dispatch"],
        options["on_unmatched"],
        options["time_margin"],
    )
