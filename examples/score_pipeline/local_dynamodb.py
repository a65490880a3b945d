"""A local DynamoDB endpoint for the demo: moto's server on 127.0.0.1, with atomic transactions.

moto (5.x) applies a TransactWriteItems item by item, after copying the whole table, and when
a condition fails it puts the copy back in the table's place. Three things then differ from
AWS, and each breaks a pipeline that reads the table's stream:

- the writes of the cancelled transaction's other items reach the stream anyway (a reader
  sees an INSERT that never happened);
- a stream reader's open iterator stays on the replaced copy and sees no later record;
- with requests served concurrently, putting the copy back undoes other requests' writes.

Copying the table also makes every transaction slower as the table grows. :func:`moto_server`
therefore serves one request at a time and, while it runs, lets moto's DynamoDB backend apply
a transaction as AWS does: every condition is checked first, and the writes are applied only
when all hold, so a cancelled transaction writes nothing and emits no stream record. The
library never relies on any of this: it is the demo's stand-in for AWS.

Run on its own, it serves in the foreground until Ctrl-C, for the local run described in
``examples/score_pipeline/README.md``::

    python examples/score_pipeline/local_dynamodb.py --port 5000
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["moto_server"]


@contextmanager
def moto_server(port: int = 0) -> Iterator[str]:
    """Run moto's server on 127.0.0.1; yields its URL.

    Args:
        port: the port; 0 picks a free one.

    Raises:
        OSError: the port is taken.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server("127.0.0.1", port, app, threaded=False, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="moto", daemon=True)
    original = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign,assignment]
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
        DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, all or nothing: check every item, then write them all."""
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    keys: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Any]] = []
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for action in transact_items:
        if len(action) != 1:
            raise TransactWriteSingleOpException
        ((kind, op),) = action.items()
        if kind not in ("ConditionCheck", "Put", "Delete", "Update"):
            raise ValueError(f"unsupported transaction operation {kind}")
        try:
            name = op["TableName"]
            table = backend.get_table(name)
            if kind == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(name), str(dict(sorted(key.items()))))
            if marker in keys:
                raise MultipleTransactionsException()
            keys.add(marker)
            current = backend.get_item(name, key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                test = get_filter_expression(
                    condition,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not test.expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                    continue
            errors.append((None, None, None))
            writes.append((kind, op, key))
        except MultipleTransactionsException:
            raise
        except Exception as error:
            errors.append((type(error).__name__, str(error), None))
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    for kind, op, key in writes:
        names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        if kind == "Put":
            backend.put_item(op["TableName"], op["Item"])
        elif kind == "Delete":
            backend.delete_item(op["TableName"], key)
        elif kind == "Update":
            backend.update_item(
                op["TableName"],
                key,
                update_expression=op["UpdateExpression"],
                expression_attribute_names=names,
                expression_attribute_values=values,
            )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="moto's DynamoDB server, atomic transactions")
    parser.add_argument("--port", type=int, default=5000, help="the port (0: any free one)")
    args = parser.parse_args(argv)
    from local_api import until_stopped  # a sibling: run as a script, this directory is on the path

    with moto_server(args.port) as url:
        print(f"DynamoDB (moto) at {url}; Ctrl-C stops it", flush=True)
        until_stopped()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
