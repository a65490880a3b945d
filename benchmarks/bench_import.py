"""Cold start: what importing the names a Lambda handler needs costs, as ``python -X
importtime`` reports it (the sum of the top-level imports, bytecode already compiled), over a
bare interpreter; Powertools' batch utilities measured the same way."""

from __future__ import annotations

import statistics
import subprocess
import sys
from typing import Any

from _common import Ratio, Section

__all__ = ["section"]

S = "streamflow: Router, StreamRecord, Filter (ms over a bare interpreter)"
P = "Powertools: batch utilities (ms over a bare interpreter)"
BUDGET = "the budget (ms)"
STREAMFLOW = "from streamflow import Router, StreamRecord; from streamflow.filters import Filter"
POWERTOOLS = (
    "from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, "
    "process_partial_response"
)


def _milliseconds(statement: str, runs: int = 9) -> float:
    """Median over fresh interpreters of the time ``-X importtime`` gives the statement's
    top-level imports (nested ones are inside those)."""
    totals = []
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", statement],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        microseconds = 0
        for line in err.splitlines():
            _, cumulative, name = [*line.split("|"), "", ""][:3]
            if cumulative.strip().isdigit() and not name.startswith("  "):
                microseconds += int(cumulative)
        totals.append(microseconds / 1000)
    return statistics.median(totals)


def section(event: dict[str, Any]) -> Section:
    for statement in (STREAMFLOW, POWERTOOLS):  # compile bytecode, as pip install leaves it
        subprocess.run([sys.executable, "-c", statement], check=True)
    bare = _milliseconds("pass")
    rows = {
        S: _milliseconds(STREAMFLOW) - bare,
        P: _milliseconds(POWERTOOLS) - bare,
        BUDGET: 20.0,
    }
    return Section(
        title="Importing what a handler needs",
        rows=rows,
        unit="ms",
        ratios=[
            Ratio("streamflow import vs the 20 ms budget", S, BUDGET, 1.0, higher_is_better=False),
            Ratio("streamflow import vs Powertools' batch utilities", S, P),
        ],
    )
