"""Count a boto3 DynamoDB client's API calls and estimate the write capacity they consume.

Public as :class:`streamflow.testing.CapacityMeter`; the billing rules it follows, with their
sources in AWS's documentation, are in its docstring.
"""

from __future__ import annotations

from streamflow.codec import deserialize_item, item_size
from streamflow.errors import AttributeDecodeError, AttributeEncodeError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    import threading
    from collections.abc import Mapping
    from types import TracebackType
    from typing import Any

    # A planned write: (kind, table, key, size before or None if absent, size of new item)
    Write = tuple[str, str, dict[str, Any], int | None, int | None]

__all__ = ["CapacityMeter"]

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_SINGLE = {"PutItem": "put", "UpdateItem": "update", "DeleteItem": "delete"}
_ACTIONS = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}


class CapacityMeter:
    """API calls a boto3 DynamoDB client makes, and the write capacity units they consume.

    The meter hooks into the client's botocore events (``before-call`` and ``after-call``);
    the client is not wrapped or patched, so pass it on to the code under test unchanged.
    Every API call counts once, however many HTTP retries it took and whether it failed.

    Write capacity units (WCU) are estimated from item sizes
    (:func:`streamflow.codec.item_size`) by the rules of AWS's DynamoDB documentation, not
    read from ``ConsumedCapacity``, which moto's server, for one, does not return for
    ``TransactWriteItems``:

    - One WCU per started KB of the item, at least one: "Item sizes for writes are rounded
      up to the next 1 KB multiple" (Developer Guide, *Capacity unit consumption for
      writes*).
    - ``PutItem``: the larger of the item it replaces, if any, and the new item.
      ``UpdateItem``: the larger of the item before and after the update, however few
      attributes change. ``DeleteItem``: the deleted item (same section).
    - ``BatchWriteItem``: each put or delete request as its own ``PutItem`` or
      ``DeleteItem``, rounded up separately (same section); requests the response returns in
      ``UnprocessedItems`` consume nothing. "Delete operations on nonexistent items consume
      one write capacity unit" (API Reference, *BatchWriteItem*); so does a ``DeleteItem``
      of no item here.
    - ``TransactWriteItems``: "DynamoDB performs two underlying reads or writes of every item
      in the transaction: one to prepare the transaction and one to commit the transaction"
      (Developer Guide, *Capacity management for transactions*; and *Read/write capacity
      mode*: "Transactional write requests require 2 write capacity units to perform one
      write for items up to 1 KB"). So each ``Put``, ``Update`` and ``Delete`` costs twice
      the single write, and a ``ConditionCheck``, an item of the transaction too, costs two
      writes of the checked item's size.
    - A conditional ``PutItem``, ``UpdateItem`` or ``DeleteItem`` whose condition is false
      (``ConditionalCheckFailedException``) still consumes WCU: one when no item has the key;
      otherwise by "the size of the new item" (Developer Guide, *Capacity unit consumption
      for writes*). ``UpdateItem`` and ``DeleteItem`` send no new item: for them the meter
      uses the existing item's size.
    - Any other failed call (validation, throttling, a missing table, a connection error)
      consumes nothing. Nor does a cancelled transaction (``TransactionCanceledException``):
      AWS documents no capacity for one, though its prepare phase may consume some. For
      transactions that can be cancelled, read ``wcu`` as a lower bound.

    The estimate follows these rules, so AWS's own ``ConsumedCapacity`` can differ where
    AWS sizes an item its own way or rounds differently. Writes through PartiQL
    (``ExecuteStatement``, ``BatchExecuteStatement``, ``ExecuteTransaction``) count as calls
    but their WCU are not estimated.

    To know an item's size before and after a write, the meter reads it with a strongly
    consistent ``GetItem``, and each table's key schema once with ``DescribeTable``. Those
    reads go through ``reader`` when given, otherwise through ``client`` itself, and are
    never counted. A write racing another write to the same item from another thread may
    be billed on a size the other write produced. The counters themselves are safe to
    update from several threads at once, as the local runner's handlers do.

    Args:
        client: a boto3 DynamoDB client (for AWS, or a local endpoint via ``endpoint_url``).
        reader: another DynamoDB client for the meter's own reads; ``client`` by default.

    Use it as a context manager, or call :meth:`close` to remove its hooks::

        with CapacityMeter(dynamodb) as meter:
            handler(event, None)
        records = len(event["Records"])
        assert meter.calls <= 0.6 * records and meter.wcu <= 3 * records
    """

    _flags: threading.local | None = None  # per thread: is a meter reading for itself?

    def __init__(self, client: Any, *, reader: Any = None) -> None:
        import threading

        if CapacityMeter._flags is None:
            CapacityMeter._flags = threading.local()
        self._client = client
        self._reader = client if reader is None else reader
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._wcu: dict[str, int] = {}
        self._key_names: dict[str, list[str]] = {}
        self._tag = f"streamflow.capacity.{id(self)}"
        self._hooks = [
            ("before-parameter-build.dynamodb", self._on_params),
            ("before-call.dynamodb", self._on_call),
            ("after-call.dynamodb", self._on_result),
        ]
        for event, hook in self._hooks:
            client.meta.events.register(event, hook, unique_id=f"{self._tag}.{event}")
        self._open = True

    @property
    def calls(self) -> int:
        """API calls the client made since the meter was created or last reset."""
        with self._lock:
            return sum(self._calls.values())

    @property
    def calls_by_operation(self) -> dict[str, int]:
        """API calls per operation name, e.g. ``{"BatchGetItem": 1, "PutItem": 3}``."""
        with self._lock:
            return dict(self._calls)

    @property
    def wcu(self) -> int:
        """Write capacity units consumed, estimated from item sizes."""
        with self._lock:
            return sum(self._wcu.values())

    @property
    def wcu_by_operation(self) -> dict[str, int]:
        """Write capacity units per operation that wrote, e.g. ``{"TransactWriteItems": 4}``."""
        with self._lock:
            return dict(self._wcu)

    @staticmethod
    def write_units(size: int) -> int:
        """WCU of one write of an item of ``size`` bytes: one per started KB, at least one.

        >>> [CapacityMeter.write_units(n) for n in (0, 1024, 1025, 2560)]
        [1, 1, 2, 3]
        """
        return max(1, -(-size // 1024))

    def reset(self) -> None:
        """Set every count to zero; the meter goes on counting. A call in flight when
        ``reset`` runs is counted after it."""
        with self._lock:
            self._calls.clear()
            self._wcu.clear()

    def close(self) -> None:
        """Remove the meter's hooks from the client; the counts stay readable."""
        if self._open:
            self._open = False
            for event, hook in self._hooks:
                self._client.meta.events.unregister(event, hook, unique_id=f"{self._tag}.{event}")

    def __enter__(self) -> CapacityMeter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CapacityMeter(calls={self.calls}, wcu={self.wcu})"

    # -- hooks: botocore passes one ``context`` dict through all events of one API call ---

    def _on_params(
        self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        if model.name in _WRITES and not _reading():
            context[self._tag] = params

    def _on_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        if _reading():
            return
        with self._lock:
            self._calls[model.name] = self._calls.get(model.name, 0) + 1
        params = context.get(self._tag)
        if params is not None:
            try:
                context[self._tag] = (params, self._plan(model.name, params))
            except (AttributeDecodeError, AttributeEncodeError):
                del context[self._tag]  # values DynamoDB will reject too: nothing is written

    def _on_result(
        self,
        http_response: Any,
        parsed: Mapping[str, Any],
        model: Any,
        context: dict[str, Any],
        **_: Any,
    ) -> None:
        planned = context.pop(self._tag, None)
        if not isinstance(planned, tuple) or _reading():
            return  # not a write, or a call that never reached this meter's before-call
        params, plan = planned
        ok = http_response.status_code < 300
        error = parsed.get("Error", {}).get("Code")
        units = self._settle(model.name, params, plan, ok, error, parsed)
        if units:
            with self._lock:
                self._wcu[model.name] = self._wcu.get(model.name, 0) + units

    # -- what a write costs ----------------------------------------------------------------

    def _plan(self, operation: str, params: Mapping[str, Any]) -> list[Write]:
        """The writes a call makes, with the sizes of the items before it."""
        if operation in _SINGLE:
            return [self._write(_SINGLE[operation], params)]
        if operation == "TransactWriteItems":
            return [
                self._write(_ACTIONS[kind], body)
                for action in params.get("TransactItems", [])
                for kind, body in action.items()
                if kind in _ACTIONS
            ]
        return [  # BatchWriteItem: each request as its own PutItem or DeleteItem
            self._write(kind, {"TableName": table, **body})
            for table, kind, body, _ in _batch_requests(params)
        ]

    def _write(self, kind: str, body: Mapping[str, Any]) -> Write:
        table = body["TableName"]
        if "Item" in body:
            new: int | None = item_size(deserialize_item(body["Item"]))
            key = {name: body["Item"][name] for name in self._keys(table) if name in body["Item"]}
        else:
            new, key = None, dict(body["Key"])
        return (kind, table, key, self._size(table, key), new)

    def _settle(
        self,
        operation: str,
        params: Mapping[str, Any],
        plan: list[Write],
        ok: bool,
        error: str | None,
        parsed: Mapping[str, Any],
    ) -> int:
        """WCU of a call that returned, given the writes planned before it ran."""
        if operation in _SINGLE:
            if ok:
                return self._cost(plan[0])
            if error == "ConditionalCheckFailedException":
                _, _, _, before, new = plan[0]
                if before is None:
                    return 1
                return self.write_units(new if new is not None else before)
            return 0
        if not ok:
            return 0  # a rejected batch, a cancelled or failed transaction
        if operation == "TransactWriteItems":
            return 2 * sum(self._cost(write) for write in plan)
        left = parsed.get("UnprocessedItems") or {}
        requests = _batch_requests(params)
        return sum(
            self._cost(write)
            for (table, _, _, request), write in zip(requests, plan, strict=True)
            if request not in left.get(table, [])
        )

    def _cost(self, write: Write) -> int:
        """WCU of a write that succeeded (before any transactional doubling)."""
        kind, table, key, before, new = write
        if kind == "put":
            return self.write_units(max(before or 0, new or 0))
        if kind == "update":
            after = self._size(table, key)
            return self.write_units(max(before or 0, after or 0))
        return self.write_units(before or 0)  # delete, or a transaction's ConditionCheck

    # -- the meter's own reads, never counted ------------------------------------------------

    def _keys(self, table: str) -> list[str]:
        """The table's key attribute names, read once (not cached while it does not exist)."""
        if table not in self._key_names:
            schema = self._read("describe_table", TableName=table)
            if not schema:
                return []
            self._key_names[table] = [k["AttributeName"] for k in schema["Table"]["KeySchema"]]
        return self._key_names[table]

    def _size(self, table: str, key: dict[str, Any]) -> int | None:
        """The item's size, or None when there is no item with that key."""
        found = self._read("get_item", TableName=table, Key=key, ConsistentRead=True)
        item = found.get("Item") if found else None
        return item_size(deserialize_item(item)) if item else None

    def _read(self, method: str, **params: Any) -> Any:
        flags = CapacityMeter._flags
        previous = getattr(flags, "reading", False)
        flags.reading = True  # type: ignore[union-attr]
        try:
            return getattr(self._reader, method)(**params)
        except Exception:  # the meter must not change the outcome of the call it watches:
            return None  # an item it cannot read counts as absent
        finally:
            flags.reading = previous  # type: ignore[union-attr]


def _reading() -> bool:
    """Whether this thread is inside a meter's own read."""
    return bool(getattr(CapacityMeter._flags, "reading", False))


def _batch_requests(params: Mapping[str, Any]) -> list[tuple[str, str, Any, Any]]:
    """A BatchWriteItem's requests as (table, kind, PutRequest or DeleteRequest, request)."""
    out = []
    for table, requests in params.get("RequestItems", {}).items():
        for request in requests:
            if "PutRequest" in request:
                out.append((table, "put", request["PutRequest"], request))
            elif "DeleteRequest" in request:
                out.append((table, "delete", request["DeleteRequest"], request))
    return out
