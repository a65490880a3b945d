"""Dispatch stream records to handlers, with partial batch failures a stream needs.

One declaration drives both the code and the infrastructure: each route's filter is the same
object that compiles to the event source mapping's FilterCriteria
(:meth:`Router.filter_criteria`), that the local runner applies, and that
:meth:`Router.assert_not_retriggered` tests a handler's own writes against.

Usage::

    from streamflow import Router, StreamRecord
    from streamflow.filters import Filter, prefix

    router = Router()

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add_score(record: StreamRecord) -> None:
        ...

    handler = router.lambda_handler
"""

from streamflow.router._report import BatchResult, RecordFailure, Window
from streamflow.router._router import DeclaredRoute, Router

__all__ = ["BatchResult", "DeclaredRoute", "RecordFailure", "Router", "Window"]

for _name in __all__:  # public reprs and pickling: streamflow.router.BatchResult
    globals()[_name].__module__ = __name__
del _name
