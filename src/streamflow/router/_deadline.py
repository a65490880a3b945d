"""The invocation's deadline: when to start no new record, so the router answers Lambda in
time.

A Lambda invocation that times out fails its whole batch: every record that succeeded in it is
delivered and applied again. The Lambda context says how long the invocation has left
(``get_remaining_time_in_millis()``); the router keeps a margin of it in reserve, starts no
record once only the margin is left, and reports the records it did not start, so that they
are delivered again and nothing that succeeded is.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import Any, Literal

    TimeMargin = float | Literal["auto"] | None

__all__ = ["Deadline", "auto_margin"]

_AUTO_SHARE = 0.1
_AUTO_MIN = 0.5
_AUTO_MAX = 5.0


def auto_margin(remaining: float) -> float:
    """The default margin: a tenth of the time the invocation had when it started, between
    half a second and five seconds (a 3 s function keeps 0.5 s, a 60 s one 5 s)."""
    return min(_AUTO_MAX, max(_AUTO_MIN, remaining * _AUTO_SHARE))


class Deadline:
    """The moment (``time.monotonic()``) after which the router starts no new work.

    >>> class Context:
    ...     def get_remaining_time_in_millis(self) -> int:
    ...         return 60_000
    >>> deadline = Deadline.of(Context(), "auto")
    >>> deadline.margin, deadline.passed(), 54.9 < deadline.left() <= 55.0
    (5.0, False, True)
    """

    __slots__ = ("at", "margin")

    def __init__(self, at: float, margin: float) -> None:
        self.at = at
        self.margin = margin

    @classmethod
    def of(cls, context: Any, setting: TimeMargin) -> Deadline | None:
        """The deadline of an invocation, or None without one (no margin asked for, or no
        Lambda context that tells the time left)."""
        if setting is None:
            return None
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        if not callable(remaining_ms):
            return None
        now = time.monotonic()
        remaining = remaining_ms() / 1000
        margin = auto_margin(remaining) if setting == "auto" else float(setting)
        return cls(now + remaining - margin, margin)

    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def left(self) -> float:
        """Seconds until the deadline (negative once it passed)."""
        return self.at - time.monotonic()

    def reason(self) -> str:
        return f"less than {self.margin:g} s of the invocation was left (time_margin)"
