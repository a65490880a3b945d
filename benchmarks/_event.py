"""The benchmark event: 1000 NEW_AND_OLD_IMAGES records, about 12 attributes per image.

Built with streamflow's own test factories, so it has exactly Lambda's shape: nested ``M``
and ``L``, string and number sets, binary as base64 text, numbers as text.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from streamflow import testing

__all__ = ["benchmark_event"]

_TASKS = ("easy", "medium", "hard")


def _item(rng: random.Random, index: int, version: int) -> dict[str, Any]:
    user = (index * 7919) % 50
    return {
        "PK": f"SCORE#{index:06d}" if index % 4 else f"USER#{user}",
        "SK": f"USER#{user}" if index % 4 else "TOTAL",
        "userId": str(user),
        "taskType": _TASKS[index % 3],
        "points": (5, 10, 30)[index % 3] + version,
        "createdAt": f"2026-11-26T09:{index % 60:02d}:00Z",
        "tags": {"daily", "bonus", f"t{index % 5}"},
        "verified": bool(index % 2),
        "note": None,
        "ratio": Decimal("0.375") + version,
        "meta": {
            "client": "ios" if index % 2 else "web",
            "build": 1042 + index,
            "history": [3, "x", {"deep": True, "n": Decimal("1.25")}],
        },
        "levels": {1, 2, 3 + index % 4},
        "avatar": rng.randbytes(24),
    }


def benchmark_event(records: int = 1000, *, seed: int = 7) -> dict[str, Any]:
    """A Lambda event of ``records`` INSERT/MODIFY/REMOVE records with both images."""
    rng = random.Random(seed)
    changes = []
    for index in range(records):
        kind = index % 10
        if kind < 6:
            changes.append(testing.modify(_item(rng, index, 0), _item(rng, index, 1)))
        elif kind < 9:
            changes.append(testing.insert(_item(rng, index, 0)))
        else:
            changes.append(testing.remove(_item(rng, index, 0), ttl=index % 20 == 9))
    return testing.event(*changes, table="scores", created_at=1764148800)
