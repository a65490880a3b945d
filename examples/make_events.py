"""Regenerate the example events in ``examples/events/`` with streamflow's test factories.

python examples/make_events.py
"""

from __future__ import annotations

import json
import pathlib
from decimal import Decimal

from streamflow import testing

HERE = pathlib.Path(__file__).parent / "events"
CREATED_AT = 1764148800  # 2025-11-26T09:20:00Z

SCORE = {
    "PK": "SCORE#01JD8X",
    "SK": "USER#42",
    "userId": "42",
    "taskType": "hard",
    "points": 30,
    "createdAt": "2025-11-26T09:20:00Z",
    "tags": {"daily", "bonus"},
    "verified": True,
    "note": None,
    "meta": {"client": "ios", "build": 1042, "ratio": Decimal("0.375"), "history": [3, "x"]},
    "signature": b"\x8f\x02\xa1\x00",
}
TOTAL_BEFORE = {"PK": "USER#42", "SK": "TOTAL", "total": 120, "count": 7}
TOTAL_AFTER = {"PK": "USER#42", "SK": "TOTAL", "total": 150, "count": 8}
EXPIRED = {"PK": "SCORE#01JA00", "SK": "USER#42", "points": 5, "expiresAt": 1764100000}


def main() -> None:
    HERE.mkdir(exist_ok=True)
    event = testing.event(
        testing.insert(SCORE),
        testing.modify(TOTAL_BEFORE, TOTAL_AFTER),
        testing.remove(EXPIRED, ttl=True),
        table="scores",
        region="eu-west-1",
        stream_label="2025-11-01T00:00:00.000",
        created_at=CREATED_AT,
    )
    (HERE / "score_inserted.json").write_text(json.dumps(event, indent=2) + "\n")


if __name__ == "__main__":
    main()
