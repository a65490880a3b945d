"""Shared helpers for the benchmark suite: timing by medians, and the printed table.

Every section measures its contenders in the same run, on the same data, and reports
records per second (median of several repeats) plus ratios between them. These machines
are noisy: compare ratios, not absolute numbers.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Ratio", "Section", "records_per_second"]


def records_per_second(
    fn: Callable[[], object], records: int, *, repeats: int = 7, min_time: float = 0.2
) -> float:
    """Median records per second of ``fn()``, which processes ``records`` records per call.

    Each repeat calls ``fn`` as many times as fit in ``min_time`` seconds (at least once);
    the garbage collector is paused while timing, as ``timeit`` does.
    """
    fn()  # warm caches and lazy imports outside the timed region
    samples: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            calls = 0
            start = time.perf_counter()
            elapsed = 0.0
            while elapsed < min_time or calls == 0:
                fn()
                calls += 1
                elapsed = time.perf_counter() - start
            samples.append(calls * records / elapsed)
    finally:
        if gc_was_enabled:
            gc.enable()
    return statistics.median(samples)


@dataclass
class Ratio:
    """``numerator / denominator`` of two rows' figures, with the target it must reach."""

    label: str
    numerator: str
    denominator: str
    target: float | None = None
    higher_is_better: bool = True


@dataclass
class Section:
    """One table section: named rows of records per second, and ratios between them."""

    title: str
    rows: dict[str, float] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"## {self.title}", "", f"| {'contender':58} | {'records/s':>12} |"]
        lines.append(f"|{'-' * 60}|{'-' * 14}|")
        for name, value in self.rows.items():
            lines.append(f"| {name:58} | {value:12,.0f} |")
        if self.ratios:
            lines += ["", f"| {'ratio':40} | {'value':>8} | {'target':>8} | {'met':>4} |"]
            lines.append(f"|{'-' * 42}|{'-' * 10}|{'-' * 10}|{'-' * 6}|")
            for r in self.ratios:
                value = self.rows[r.numerator] / self.rows[r.denominator]
                if r.target is None:
                    target, met = "", ""
                elif r.higher_is_better:
                    target, met = f">= {r.target:g}", "yes" if value >= r.target else "NO"
                else:
                    target, met = f"<= {r.target:g}", "yes" if value <= r.target else "NO"
                lines.append(f"| {r.label:40} | {value:8.2f} | {target:>8} | {met:>4} |")
        return "\n".join(lines)
