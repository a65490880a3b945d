"""Shared helpers for the benchmark suite: interleaved timing by medians, and the table.

Every section measures its contenders in the same run, on the same data, and reports
records per second (the median of several rounds) plus ratios between them. Contenders are
timed in turns, round after round, so a slow spell of this noisy machine hits all of them
alike. Compare ratios, not absolute numbers.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

__all__ = ["Ratio", "Section", "measure"]


def _rate(fn: Callable[[], object], records: int, min_time: float) -> float:
    calls = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < min_time or calls == 0:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
    return calls * records / elapsed


def measure(
    contenders: Mapping[str, Callable[[], object]],
    records: int,
    *,
    rounds: int = 9,
    min_time: float = 0.15,
) -> dict[str, float]:
    """Median records per second of each contender, each call processing ``records``.

    Each round times every contender once, in turn, for at least ``min_time`` seconds; the
    garbage collector is paused while timing, as ``timeit`` does.
    """
    for fn in contenders.values():
        fn()  # warm caches and lazy imports outside the timed region
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in contenders.items():
                samples[name].append(_rate(fn, records, min_time))
                gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


@dataclass
class Ratio:
    """``numerator / denominator`` of two rows' figures, with the target it must reach."""

    label: str
    numerator: str
    denominator: str
    target: float | None = None
    higher_is_better: bool = True

    def value(self, rows: Mapping[str, float]) -> float:
        return rows[self.numerator] / rows[self.denominator]

    def met(self, rows: Mapping[str, float]) -> bool | None:
        if self.target is None:
            return None
        value = self.value(rows)
        return value >= self.target if self.higher_is_better else value <= self.target


@dataclass
class Section:
    """One table section: named rows (records per second, unless ``unit`` says otherwise),
    and ratios between them."""

    title: str
    rows: dict[str, float] = field(default_factory=dict)
    ratios: list[Ratio] = field(default_factory=list)
    unit: str = "records/s"

    def render(self) -> str:
        width = max([58, *map(len, self.rows)])
        label = max([40, *(len(r.label) for r in self.ratios)])
        lines = [f"## {self.title}", "", f"| {'contender':{width}} | {self.unit:>12} |"]
        lines.append(f"|{'-' * (width + 2)}|{'-' * 14}|")
        for name, value in self.rows.items():
            shown = f"{value:12,.0f}" if value >= 100 else f"{value:12.1f}"
            lines.append(f"| {name:{width}} | {shown} |")
        if self.ratios:
            lines += ["", f"| {'ratio':{label}} | {'value':>8} | {'target':>8} | {'met':>4} |"]
            lines.append(f"|{'-' * (label + 2)}|{'-' * 10}|{'-' * 10}|{'-' * 6}|")
            for r in self.ratios:
                met = r.met(self.rows)
                target = (
                    ""
                    if r.target is None
                    else f"{'>=' if r.higher_is_better else '<='} {r.target:g}"
                )
                shown = "" if met is None else ("yes" if met else "NO")
                lines.append(
                    f"| {r.label:{label}} | {r.value(self.rows):8.2f} | {target:>8} | {shown:>4} |"
                )
        return "\n".join(lines)
