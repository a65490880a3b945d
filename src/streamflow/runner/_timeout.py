"""Invoking the handler under the function timeout.

Lambda stops an invocation that runs past the function's timeout and fails it with
``Sandbox.Timedout``. Python cannot stop a thread, so the runner stops *waiting* instead: each
call runs on a thread of an :class:`Invoker`, and the shard worker waits for its
:class:`Invocation` until the deadline at most. Past it, the invocation has failed with
Lambda's timeout error whatever the handler does later; the handler keeps running on its
thread until it returns, and what it returns or raises then is ignored.

Invoker threads are daemons (a handler that never returns cannot hold the process at exit)
and are reused: a thread that finished its call takes the next one, so one shard's
invocations keep running on the same thread; a thread still busy with a timed-out call is
left to it, and a new one serves the next call meanwhile.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from streamflow.runner._invoke import LambdaHandler, Outcome, call_handler, timed_out

__all__ = ["Invocation", "Invoker"]

_Job = tuple["Invocation", dict[str, Any], Any, Sequence[str], bool]


class Invocation:
    """One call of the handler, in flight on an invoker thread.

    Attributes:
        deadline: when the function timeout stops it (``time.monotonic()``).
    """

    __slots__ = ("_done", "_finished", "_on_done", "_outcome", "_raised", "deadline", "started")

    def __init__(self, timeout: float, on_done: Callable[[], object] | None) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + timeout
        self._on_done = on_done
        self._done = threading.Event()
        self._outcome: Outcome | None = None
        self._raised: BaseException | None = None
        self._finished = 0.0

    def done(self) -> bool:
        """The handler returned or raised (possibly after the deadline)."""
        return self._done.is_set()

    def over(self, now: float) -> bool:
        """The invocation has an outcome at ``now``: the handler's, or the timeout."""
        return now >= self.deadline or self._done.is_set()

    def wait(self) -> None:
        """Block until the handler returns or raises, or the deadline passes."""
        self._done.wait(max(0.0, self.deadline - time.monotonic()))

    def result(self) -> tuple[Outcome, float]:
        """What the invocation came to, and how long it took (seconds): the handler's outcome
        if it returned or raised by the deadline, else Lambda's timeout error.

        Raises:
            KeyboardInterrupt: the handler raised it in time (it interrupts the run).
        """
        timeout = self.deadline - self.started
        if not self._done.is_set() or self._finished > self.deadline:
            return timed_out(timeout), timeout
        if self._raised is not None:
            raise self._raised
        assert self._outcome is not None
        return self._outcome, self._finished - self.started

    def _finish(self, outcome: Outcome | None, raised: BaseException | None) -> None:
        self._outcome, self._raised = outcome, raised
        self._finished = time.monotonic()
        self._done.set()
        if self._on_done is not None:
            self._on_done()


class Invoker:
    """Runs calls of one handler on reusable daemon threads (see the module docstring).

    Args:
        handler: the Lambda handler.
        timeout: the function timeout, in seconds, of every call.
    """

    def __init__(self, handler: LambdaHandler, *, timeout: float) -> None:
        self.handler = handler
        self.timeout = timeout
        self._idle: list[queue.SimpleQueue[_Job | None]] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(
        self,
        event: dict[str, Any],
        context: Any,
        *,
        sequence_numbers: Sequence[str],
        windowed: bool,
        on_done: Callable[[], object] | None = None,
    ) -> Invocation:
        """Start one call of the handler; its deadline is ``timeout`` seconds from now.

        Args:
            event: the event.
            context: the context (its own countdown started just before).
            sequence_numbers: the batch's sequence numbers, in order.
            windowed: a tumbling window is configured.
            on_done: called on the invoker thread once the handler returns or raises.

        Returns:
            The invocation, to wait for or poll.
        """
        invocation = Invocation(self.timeout, on_done)
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            thread = threading.Thread(
                target=self._serve, args=(inbox,), name="streamflow-handler", daemon=True
            )
            thread.start()
        inbox.put((invocation, event, context, sequence_numbers, windowed))
        return invocation

    def close(self) -> None:
        """End the idle threads; a thread still running a timed-out call ends after it."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for inbox in idle:
            inbox.put(None)

    def _serve(self, inbox: queue.SimpleQueue[_Job | None]) -> None:
        while (job := inbox.get()) is not None:
            invocation, event, context, numbers, windowed = job
            del job
            outcome: Outcome | None = None
            raised: BaseException | None = None
            try:
                outcome = call_handler(
                    self.handler, event, context, sequence_numbers=numbers, windowed=windowed
                )
            except BaseException as exc:  # KeyboardInterrupt: raised by the waiting thread
                raised = exc
            del event, context
            with self._lock:  # idle again before the waiter wakes, so it finds this thread
                closed = self._closed
                if not closed:
                    self._idle.append(inbox)
            invocation._finish(outcome, raised)
            del invocation, outcome, raised
            if closed:
                return
