"""A redrive's SQS source, and how the AWS sources make their calls (see
:mod:`._redrive_source` for what a source is; the S3 source is :mod:`._redrive_s3`).

An SQS queue is Lambda's on-failure destination. A message body is the record itself, or an
SNS notification (``{"Type": "Notification", "Message": "..."}``) holding it, when an SNS
topic delivers to the queue without raw message delivery. A message is received hidden for
``visibility_timeout`` seconds and kept hidden while its batch is redriven (a heartbeat
extends it every third of the timeout), deleted once its batch succeeded, and made visible
again when the redrive ends otherwise. A redrive that is killed leaves its message in flight
hidden for at most one timeout. Messages hidden by another consumer (or by a killed redrive)
are counted at the end: not received, not lost.

Every AWS call goes through :class:`SourceCalls`: throttling, 5xx answers and connection
errors are waited out with the runner's backoff and reported as ``throttled`` events.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

from streamflow.runner._aws import AnySet, Backoff, is_transient, retrying
from streamflow.runner._destination import parse_destination, queue_url
from streamflow.runner._redrive_source import Item, _item, is_queue_url

__all__ = ["SourceCalls", "SqsSource", "direct_calls"]

T = TypeVar("T")

COUNT_EVERY = 2.0
"""Seconds between two counts of a queue's messages for the progress line."""

ACK_ATTEMPTS = 8
"""Tries of a call that finishes a batch (delete, tag) before the redrive gives up with an
error: with the default backoff, about a minute of throttling."""


class SourceCalls:
    """Makes a source's AWS calls, waiting out transient errors (see the module docstring).

    Args:
        stop: set to stop waiting for a call that reads (a stop request); calls that
            finish a batch are not stopped, they are part of the batch in flight.
        base: the first backoff delay, seconds.
        cap: the longest backoff delay, seconds.
        report: told of each retried call (operation, error code, delay).
        warn: told of trouble that does not stop the redrive (a heartbeat that failed).
    """

    def __init__(
        self,
        *,
        stop: threading.Event | AnySet,
        base: float,
        cap: float,
        report: Callable[[str, BaseException, float], None],
        warn: Callable[[str], None],
    ) -> None:
        self.stop = stop
        self.base = base
        self.cap = cap
        self.report = report
        self.warn = warn
        self._never = threading.Event()

    def read(self, operation: str, call: Callable[[], T]) -> T:
        """A call that reads: retried until it succeeds or a stop is requested.

        Raises:
            Stopped: a stop was requested while waiting.
            Exception: an error that is not transient.
        """
        return retrying(
            call,
            stop=self.stop,
            backoff=Backoff(self.base, self.cap),
            on_retry=lambda exc, delay: self.report(operation, exc, delay),
        )

    def finish(self, operation: str, call: Callable[[], T]) -> T:
        """A call that acknowledges or releases: retried :data:`ACK_ATTEMPTS` times.

        Raises:
            Exception: an error that is not transient, or the last transient one.
        """
        return retrying(
            call,
            stop=self._never,
            backoff=Backoff(self.base, self.cap),
            on_retry=lambda exc, delay: self.report(operation, exc, delay),
            attempts=ACK_ATTEMPTS,
        )


def direct_calls() -> SourceCalls:
    """Calls that wait out transient errors silently (sources made outside a redrive)."""
    return SourceCalls(
        stop=threading.Event(), base=0.1, cap=10.0, report=lambda *_: None, warn=lambda _: None
    )


class _Heartbeat:
    """Keeps one received message hidden while its batch is redriven: every third of the
    visibility timeout, its visibility is set to the whole timeout again. A transient error
    is tried again at the next beat; another one ends the heartbeat with a warning (the
    message may then be received by another consumer before its batch is done)."""

    def __init__(self, source: SqsSource, item: Item) -> None:
        self.source = source
        self.item = item
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._beat, name=f"streamflow-heartbeat-{item.where}", daemon=True
        )
        self.thread.start()

    def _beat(self) -> None:
        source = self.source
        while not self.stopped.wait(source.visibility_timeout / 3):
            try:
                source.client.change_message_visibility(
                    QueueUrl=source.queue_url,
                    ReceiptHandle=self.item.token,
                    VisibilityTimeout=source.visibility_timeout,
                )
            except Exception as exc:
                if is_transient(exc):
                    continue
                source.calls.warn(
                    f"{self.item.where}: cannot keep the message hidden while its batch is "
                    f"redriven ({exc}); another consumer may receive it"
                )
                return

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


class SqsSource:
    """An SQS queue of on-failure records (see the module docstring).

    Args:
        client: a boto3 SQS client.
        queue: the queue's URL, or its ARN (resolved with GetQueueUrl when first read).
        visibility_timeout: seconds a received message stays hidden, renewed while its
            batch is redriven.
        calls: how AWS calls are made (default: transient errors waited out silently).
    """

    def __init__(
        self,
        client: Any,
        queue: str,
        *,
        visibility_timeout: int,
        calls: SourceCalls | None = None,
    ) -> None:
        self.client = client
        self.queue = queue
        self.queue_url = queue if is_queue_url(queue) else ""
        self.visibility_timeout = visibility_timeout
        self.calls = calls or direct_calls()
        self.seen: set[str] = set()
        self.held: dict[str, str] = {}
        self.hidden = 0
        self._heartbeat: _Heartbeat | None = None
        self._visible: int | None = None
        self._counted_at = -COUNT_EVERY
        self._received_since = 0

    def describe(self) -> str:
        return self.queue

    def items(self) -> Iterator[Item]:
        """Each message of the queue once, received one at a time (so that none waits
        hidden while another's batch is redriven); ends when the queue shows no message.
        A message seen before in this redrive (its visibility ran out) is hidden again.
        At the end, the messages still in flight elsewhere are counted (:meth:`unreceived`).

        Raises:
            Stopped: a stop was requested while a throttled call was waited out.
            Exception: an AWS error that is not transient (no such queue, access denied).
        """
        if not self.queue_url:
            arn = parse_destination(self.queue)
            self.queue_url = self.calls.read("GetQueueUrl", partial(queue_url, self.client, arn))
        while True:
            response = self.calls.read(
                "ReceiveMessage",
                lambda: self.client.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=1,
                    VisibilityTimeout=self.visibility_timeout,
                    WaitTimeSeconds=0,
                ),
            )
            messages = response.get("Messages") or []
            if not messages:
                self.hidden = self._count_hidden()
                return
            for message in messages:
                receipt = message["ReceiptHandle"]
                if message["MessageId"] in self.seen:
                    self.held[message["MessageId"]] = receipt
                    continue
                self.seen.add(message["MessageId"])
                item = _item(
                    message["MessageId"], message.get("Body", ""), receipt, unwrap_sns=True
                )
                self._heartbeat = _Heartbeat(self, item)
                self._received_since += 1
                yield item

    def _count_hidden(self) -> int:
        """Messages in flight or delayed, less those this redrive holds."""
        names = ["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        attributes = self.calls.read(
            "GetQueueAttributes",
            lambda: self.client.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=names),
        ).get("Attributes", {})
        total = sum(int(attributes.get(name, 0)) for name in names)
        return max(0, total - len(self.held))

    def _stop_heartbeat(self) -> None:
        beating, self._heartbeat = self._heartbeat, None
        if beating is not None:
            beating.stop()

    def ack(self, item: Item) -> None:
        """Delete the message: its batch is done.

        Raises:
            Exception: an AWS error that is not transient, or still throttled after
                :data:`ACK_ATTEMPTS` tries (the message then stays, for the next redrive).
        """
        self._stop_heartbeat()
        self.calls.finish(
            "DeleteMessage",
            lambda: self.client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=item.token),
        )

    def release(self, item: Item) -> None:
        """Keep the message hidden until :meth:`close`, then visible again: it stays for
        the next redrive (shown at once, it would be received again by this one)."""
        self._stop_heartbeat()
        if item.token is not None:
            self.held[item.where] = item.token

    def close(self) -> None:
        """Make every released message visible again.

        Raises:
            Exception: an AWS error that is not transient (the messages then become visible
                when their visibility timeout ends).
        """
        self._stop_heartbeat()
        held, self.held = self.held, {}
        for receipt in held.values():
            self.calls.finish("ChangeMessageVisibility", partial(self._show, receipt))

    def _show(self, receipt: str) -> None:
        self.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
        )

    def unreceived(self) -> int:
        """Messages hidden by another consumer, or by a redrive that was stopped or killed
        (visible again after their visibility timeout), or delayed: not received by this
        redrive. Approximate, as SQS counts them."""
        return self.hidden

    def remaining(self) -> int | None:
        """Visible messages, as SQS last counted them (asked at most every
        :data:`COUNT_EVERY` seconds; a failed count keeps the last one: it is only shown),
        less those received since."""
        now = time.monotonic()
        if now - self._counted_at >= COUNT_EVERY:
            self._counted_at = now
            try:
                attributes = self.client.get_queue_attributes(
                    QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
                )["Attributes"]
                self._visible = int(attributes["ApproximateNumberOfMessages"])
                self._received_since = 0
            except Exception:  # a progress figure only: the next count may work
                pass
        return None if self._visible is None else max(0, self._visible - self._received_since)
