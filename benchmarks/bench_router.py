"""Dispatching a batch: streamflow's Router against Powertools' BatchProcessor.

Both get the 1000-record event and a no-op handler. The Router has five routes (the record
goes to the first that matches) and reports partial failures; Powertools'
BatchProcessor(EventType.DynamoDBStreams) wraps each record and calls the handler.
"""

from __future__ import annotations

from typing import Any

from _common import Ratio, Section, measure

from streamflow import Router, StreamRecord
from streamflow.filters import Filter, prefix

__all__ = ["section"]

R = "streamflow Router, 5 routes, no-op handlers"
P = "Powertools BatchProcessor (DynamoDBStreams), no-op handler"
H = "Powertools BatchProcessor + hand-written dispatch, 5 routes"


def _router() -> Router:
    router = Router()

    def noop(record: StreamRecord) -> None:
        return None

    routes = [
        ("scores", Filter.insert().key("PK", prefix("SCORE#"))),
        ("totals", Filter.events("MODIFY").key("PK", prefix("USER#"))),
        ("changed", Filter.events("MODIFY").key("PK", prefix("SCORE#"))),
        ("expired", Filter.remove().ttl_deletes_only()),
        ("removed", Filter.remove()),
    ]
    for name, criteria in routes:
        router.on(criteria, name=name)(noop)
    return router


def section(event: dict[str, Any]) -> Section:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    router = _router()
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

    def noop_record(record: object) -> None:
        return None

    def dispatch(record: Any) -> None:
        """What a Powertools user writes to route: the same five conditions, by hand."""
        name = record.event_name.name
        pk = record.dynamodb.keys["PK"]
        if name == "INSERT" and pk.startswith("SCORE#"):
            return noop_record(record)
        if name == "MODIFY" and pk.startswith(("USER#", "SCORE#")):
            return noop_record(record)
        if name == "REMOVE":
            return noop_record(record)
        return None

    def streamflow_router() -> None:
        router.lambda_handler(event, None)

    def powertools() -> None:
        process_partial_response(event=event, record_handler=noop_record, processor=processor)

    def powertools_dispatch() -> None:
        process_partial_response(event=event, record_handler=dispatch, processor=processor)

    import logging

    logging.getLogger("streamflow").setLevel(logging.WARNING)
    rows = measure(
        {R: streamflow_router, P: powertools, H: powertools_dispatch}, len(event["Records"])
    )
    return Section(
        title=f"Routing a {len(event['Records'])}-record event",
        rows=rows,
        ratios=[
            Ratio("Router vs Powertools BatchProcessor", R, P),
            Ratio("Router vs Powertools + hand-written dispatch", R, H, 1.5),
        ],
    )
