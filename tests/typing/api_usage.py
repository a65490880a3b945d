"""Documented usage, type-checked by ``mypy --strict`` in ``make test`` (never executed).

If a public signature changes in a way that breaks these lines, the type check fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from streamflow import BatchResult, EventName, Router, StreamRecord, parse_event, testing
from streamflow.codec import deserialize, deserialize_item, serialize, serialize_item
from streamflow.models import KeyTemplate, from_item


@dataclass
class Score:
    PK: str
    points: int


def decoding(event: dict[str, Any]) -> None:
    records: list[StreamRecord] = parse_event(event, numbers="decimal")
    for record in records:
        name: EventName = record.event_name
        keys: dict[str, Any] = record.keys
        image: dict[str, Any] | None = record.new_image
        points: Any = record.new_value("points", 0)
        score: Score = record.new_image_as(Score)
        changed: frozenset[str] = record.changed_attributes()
        del name, keys, image, points, score, changed
    value: Any = deserialize({"N": "1"})
    item: dict[str, Any] = deserialize_item({"a": {"S": "x"}}, numbers="float")
    wire: dict[str, Any] = serialize(Decimal("1.5"), binary="base64")
    wire_item: dict[str, Any] = serialize_item({"a": 1})
    del value, item, wire, wire_item


def models() -> None:
    template = KeyTemplate("SCORE#{score_id}")
    parts: dict[str, str] = template.parse("SCORE#1")
    key: str = template.format(score_id="1")
    score: Score = from_item(Score, {"PK": key, "points": 1})
    del parts, score


def routing() -> dict[str, Any]:
    from streamflow.filters import Filter, prefix

    router = Router(failure_mode="continue", max_concurrency=2)

    @router.on(Filter.insert().key("PK", prefix("SCORE#")))
    def add(record: StreamRecord) -> None:
        del record

    @router.on_batch(Filter.events("MODIFY"))
    def batch(records: list[StreamRecord]) -> list[StreamRecord]:
        return records[:1]

    result: BatchResult = router.process(testing.records(testing.insert({"PK": "A", "SK": "B"})))
    reported: tuple[str, ...] = result.reported
    del reported
    router.assert_not_retriggered({"PK": "USER#1", "SK": "TOTAL"})
    return router.lambda_handler(testing.event(), None)


def recipe() -> None:
    from streamflow.recipes.scores import ScoreAggregator, scores_router, task_item

    router: Router = scores_router(table="scores", ttl_deletes="subtract")
    aggregator = ScoreAggregator(table="scores", mapping_ttl=60)
    item: dict[str, Any] = task_item("easy", 5)
    del router, aggregator, item


def runner() -> None:
    from streamflow.runner import RunSummary, run

    summary: RunSummary = run(
        "app:router", table="scores", endpoint_url="http://127.0.0.1:5000", until_idle=1.0
    )
    code: int = summary.exit_code
    del code


def router_introspection_and_deployment() -> None:
    from streamflow.check import Finding, check
    from streamflow.filters import FilterCriteria, refuse_never_matching
    from streamflow.models import from_item
    from streamflow.router import DeclaredRoute

    router = Router(time_margin=2.0)
    routes: tuple[DeclaredRoute, ...] = router.declared_routes
    names: list[str] = [route.name for route in routes]
    criteria: FilterCriteria = router.filter_criteria(source="kinesis")
    refuse_never_matching(criteria)
    options: dict[str, Any] = router.options
    findings: list[Finding] = check(router, template={"Resources": {}})
    total: dict[str, Any] = from_item(dict, {"PK": "A"}, source="keys")
    del names, options, findings, total
