"""The runner's settings, validated with the ranges CreateEventSourceMapping enforces."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Literal

from streamflow.runner._errors import RunnerConfigError

__all__ = ["RunnerConfig", "StartingPosition"]

StartingPosition = Literal["TRIM_HORIZON", "LATEST"]

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""Lambda's limit for a synchronous invocation payload (the whole event)."""

MAX_WINDOW_STATE_BYTES = 1024 * 1024
"""Tumbling window state kept per shard; a larger state ends the window early."""


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    """Every knob of a run. Field names follow :func:`streamflow.runner.run`.

    The last group are timings Lambda does not expose; tests shorten them.
    """

    table: str
    batch_size: int = 100
    batching_window: float = 0.0
    starting_position: StartingPosition = "TRIM_HORIZON"
    bisect_on_error: bool = False
    max_retries: int = -1
    max_record_age: int = -1
    parallelization_factor: int = 1
    tumbling_window: int = 0
    on_failure: str | None = None
    checkpoint: str | None = None
    until_idle: float | None = None
    max_records: int | None = None
    # Timings (seconds).
    poll_interval: float = 0.25
    discovery_interval: float = 10.0
    retry_base: float = 0.1
    retry_cap: float = 2.0
    throttle_base: float = 0.1
    throttle_cap: float = 10.0

    def __post_init__(self) -> None:
        if not isinstance(self.table, str) or not self.table:
            raise RunnerConfigError("table", "give the table's name")
        _int_range("batch_size", self.batch_size, 1, 10_000)
        _number_range("batching_window", self.batching_window, 0, 300)
        if self.starting_position not in ("TRIM_HORIZON", "LATEST"):
            raise RunnerConfigError(
                "starting_position",
                f"must be 'TRIM_HORIZON' or 'LATEST', got {self.starting_position!r} "
                "(AT_TIMESTAMP is Kinesis only)",
            )
        if not isinstance(self.bisect_on_error, bool):
            raise RunnerConfigError("bisect_on_error", "must be True or False")
        _int_range("max_retries", self.max_retries, -1, 10_000)
        _int_range("max_record_age", self.max_record_age, -1, 604_800)
        if 0 <= self.max_record_age < 60:
            raise RunnerConfigError(
                "max_record_age",
                f"must be -1 (no limit) or 60 to 604800, got {self.max_record_age}",
            )
        _int_range("parallelization_factor", self.parallelization_factor, 1, 10)
        _int_range("tumbling_window", self.tumbling_window, 0, 900)
        if self.tumbling_window and self.parallelization_factor > 1:
            raise RunnerConfigError(
                "tumbling_window",
                "the local runner keeps one window state per shard, so it cannot combine a "
                "tumbling window with a parallelization factor above 1",
            )
        if self.until_idle is not None:
            _number_range("until_idle", self.until_idle, 0, math.inf)
        if self.max_records is not None:
            _int_range("max_records", self.max_records, 1, 2**63)
        for name in ("on_failure", "checkpoint"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                raise RunnerConfigError(name, "must be a file path")
            folder = os.path.dirname(os.path.abspath(value))
            if not os.path.isdir(folder):
                raise RunnerConfigError(name, f"the directory {folder} does not exist")
            if os.path.isdir(value):
                raise RunnerConfigError(name, f"{value} is a directory, not a file")


def _int_range(option: str, value: object, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise RunnerConfigError(option, f"must be an integer, got {value!r}")
    if not low <= value <= high:
        raise RunnerConfigError(option, f"must be {low} to {high}, got {value}")


def _number_range(option: str, value: object, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or math.isnan(value):
        raise RunnerConfigError(option, f"must be a number of seconds, got {value!r}")
    if not low <= value <= high:
        shown = " or more" if high == math.inf else f" to {high:g}"
        raise RunnerConfigError(option, f"must be {low:g}{shown} seconds, got {value:g}")
