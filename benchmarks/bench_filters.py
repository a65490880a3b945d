"""Filter matching speed: a realistic 5-filter FilterCriteria against ``json.dumps``.

``json.dumps`` of the same record is the yardstick: Lambda has to serialise every record it
delivers, so a filter that costs a tenth of that is cheap enough to run on every record.
The ratio row reports cost (1 / throughput) of filtering over cost of dumping; target <= 0.1.

Run it alone with ``python benchmarks/bench_filters.py`` (a generated 1000-record event), or
through ``benchmarks/run.py``, which passes the shared benchmark event.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Mapping
from typing import Any

from _common import Ratio, Section, measure

from streamflow.filters import Filter, FilterCriteria, any_of, equals_ignore_case, prefix

__all__ = ["criteria", "generate_event", "section"]

DUMPS_ROW = "json.dumps of each record (yardstick)"
FILTER_ROW = "FilterCriteria.matches, 5 filters"


def criteria() -> FilterCriteria:
    """Five filters of the kinds a score-keeping service deploys."""
    return FilterCriteria(
        # new scores
        Filter.insert().key("PK", prefix("SCORE#")),
        # user profile changes that leave the account active
        Filter.modify().key("PK", prefix("USER#")).new_image("status", "ACTIVE"),
        # deletions, but not the ones Time to Live makes
        Filter.remove().exclude_ttl_deletes(),
        # a perfect score (N values are text: the DSL writes "100")
        Filter.new_image("Score", 100),
        # hard tasks, or anything from the web client
        any_of(
            Filter.new_image("taskType", "hard"),
            Filter.new_image(("meta", "client"), equals_ignore_case("WEB")),
        ),
    )


def section(records: list[dict[str, Any]] | Mapping[str, Any]) -> Section:
    """Measure the 5-filter criteria and ``json.dumps`` on the same records.

    Args:
        records: stream records as Lambda delivers them, or the whole event
            (``{"Records": [...]}``, as ``benchmarks/run.py`` passes it).

    Returns:
        The table section: records/s for both, and the cost ratio (target <= 0.1).
    """
    if isinstance(records, Mapping):
        records = list(records["Records"])
    matcher = criteria()
    matches = matcher.matches
    dumps = json.dumps

    def run_filters() -> int:
        kept = 0
        for record in records:
            if matches(record):
                kept += 1
        return kept

    def run_dumps() -> None:
        for record in records:
            dumps(record)

    rows = measure({DUMPS_ROW: run_dumps, FILTER_ROW: run_filters}, len(records))
    return Section(
        title=f"Event filters: {len(records)} records, {run_filters()} kept by 5 filters",
        rows=rows,
        # cost = 1 / rate, so cost(filters) / cost(dumps) = rate(dumps) / rate(filters)
        ratios=[
            Ratio(
                "filter cost / json.dumps cost",
                numerator=DUMPS_ROW,
                denominator=FILTER_ROW,
                target=0.1,
                higher_is_better=False,
            )
        ],
    )


# --- a stand-alone event ----------------------------------------------------------------------


def _attribute(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    kind = rng.choice(
        ["S", "N", "BOOL", "NULL", "SS", "NS", "B", "BS", "M", "L"] if depth < 2 else ["S", "N"]
    )
    if kind == "S":
        return {"S": rng.choice(["ios", "web", "android", "2026-11-26T09:00:00Z", "note"])}
    if kind == "N":
        return {"N": str(rng.choice([1, 5, 30, 100, 1042, 0.375, -2.5]))}
    if kind == "BOOL":
        return {"BOOL": rng.random() < 0.5}
    if kind == "NULL":
        return {"NULL": True}
    if kind == "SS":
        return {"SS": rng.sample(["daily", "bonus", "streak", "weekly"], 2)}
    if kind == "NS":
        return {"NS": ["1", "2.5", "-0.125"]}
    if kind == "B":
        return {"B": base64.b64encode(rng.randbytes(6)).decode()}
    if kind == "BS":
        return {"BS": ["YWI=", "AA=="]}
    if kind == "M":
        return {"M": {f"m{i}": _attribute(rng, depth + 1) for i in range(3)}}
    return {"L": [_attribute(rng, depth + 1) for _ in range(3)]}


def _image(rng: random.Random, pk: str) -> dict[str, Any]:
    image = {
        "PK": {"S": pk},
        "SK": {"S": f"USER#{rng.randint(1, 99)}"},
        "status": {"S": rng.choice(["ACTIVE", "ACTIVE", "SUSPENDED"])},
        "taskType": {"S": rng.choice(["easy", "medium", "hard"])},
        "Score": {"N": str(rng.choice([5, 10, 30, 100]))},
        "meta": {
            "M": {"client": {"S": rng.choice(["ios", "web", "android"])}, "build": {"N": "1042"}}
        },
    }
    for i in range(6):
        image[f"attr{i}"] = _attribute(rng)
    return image


def generate_event(count: int = 1000, *, seed: int = 7) -> dict[str, Any]:
    """A Lambda DynamoDB stream event shaped like ``shared/samples/stream_event.json``."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        name = rng.choice(["INSERT", "INSERT", "MODIFY", "MODIFY", "REMOVE"])
        pk = rng.choice(["SCORE#", "USER#", "TASK#"]) + f"{i:05d}"
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": 1764148800 + i,
            "Keys": {"PK": {"S": pk}, "SK": {"S": "USER#42"}},
            "SequenceNumber": str(4300000000012345678901 + i * 1000),
            "SizeBytes": rng.randint(50, 400),
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if name != "REMOVE":
            dynamodb["NewImage"] = _image(rng, pk)
        if name != "INSERT":
            dynamodb["OldImage"] = _image(rng, pk)
        record: dict[str, Any] = {
            "eventID": f"{rng.getrandbits(128):032x}",
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "eu-west-1",
            "dynamodb": dynamodb,
            "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/GameTable/stream/"
            "2026-11-20T09:15:42.517",
        }
        if name == "REMOVE" and rng.random() < 0.3:
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        records.append(record)
    return {"Records": records}


if __name__ == "__main__":
    print(section(generate_event()).render())
