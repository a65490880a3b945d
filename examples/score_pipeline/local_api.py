"""Serve a Lambda proxy-integration handler over HTTP on this machine, as API Gateway would.

``make demo`` serves ``handlers/submit.py`` at ``POST /scores`` with it, so that curl works
while the demo runs::

    curl -s -X POST http://127.0.0.1:8000/scores -d '{"userId": "ada", "taskType": "hard"}'

Each request becomes the event a REST API proxy integration sends (``httpMethod``, ``path``,
``resource``, ``headers``, ``multiValueHeaders``, ``queryStringParameters``, ``body``,
``isBase64Encoded``, ``requestContext``), and the handler's response (``statusCode``,
``headers``, ``body``, ``isBase64Encoded``) becomes the HTTP answer. As with a REST API, a path
with no resource answers 403 ``Missing Authentication Token``, and a handler that raises or
returns something that is not a proxy response answers 502 ``Internal server error``.

Run on its own, it serves ``handlers/submit.py`` at ``POST /scores`` until Ctrl-C (the submit
handler reads ``TABLE_NAME`` and boto3's settings, such as ``AWS_ENDPOINT_URL``, from the
environment)::

    python examples/score_pipeline/local_api.py --port 8000
"""

from __future__ import annotations

import argparse
import base64
import json
import pathlib
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalApi", "proxy_event"]

ProxyHandler = Callable[[dict[str, Any], Any], Any]


def proxy_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    resource: str,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The event an API Gateway REST API proxy integration sends for one request.

    Args:
        method: the HTTP method.
        target: the request target (path and query string).
        headers: the request's headers, in order, repeated names included.
        body: the raw body.
        resource: the API resource the path matched (``/scores``).
        source_ip: the caller's address.

    Returns:
        The event. A body that is not UTF-8 text is passed as base64, with
        ``isBase64Encoded`` true.
    """
    parts = urlsplit(target)
    query = parse_qs(parts.query, keep_blank_values=True)
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        multi.setdefault(name, []).append(value)
    try:
        text: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode("ascii"), True
    now = time.time()
    return {
        "resource": resource,
        "path": parts.path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi.items()} or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/local{parts.path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": multi.get("User-Agent", [None])[0]},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class LocalApi:
    """An HTTP server on 127.0.0.1 that invokes a proxy handler for one resource.

    Args:
        handler: the Lambda handler, ``handler(event, context) -> proxy response``.
        resource: the path it serves, e.g. ``/scores``.
        port: the port; 0 picks a free one.

    Raises:
        OSError: the port is taken.

    Use it as a context manager, or call :meth:`close`; :attr:`url` is the resource's URL.
    """

    def __init__(self, handler: ProxyHandler, *, resource: str, port: int = 0) -> None:
        self.handler = handler
        self.resource = resource
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _request_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-api", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The URL of the served resource."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.resource}"

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LocalApi:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def respond(self, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """Invoke the handler with ``event`` and turn its answer into status, headers, body."""
        with self._lock:
            self.requests += 1
        if event["path"].rstrip("/") != self.resource:
            return _json(403, {"message": "Missing Authentication Token"})
        try:
            response = self.handler(event, None)
            status = int(response["statusCode"])
            headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
            body = response.get("body") or ""
            raw = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        except Exception:  # the handler failed: what API Gateway answers then
            traceback.print_exc()
            return _json(502, {"message": "Internal server error"})
        return status, headers, raw


def _json(status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _request_handler(api: LocalApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            event = proxy_event(
                self.command,
                self.path,
                list(self.headers.items()),
                body,
                resource=api.resource,
                source_ip=self.client_address[0],
            )
            status, headers, raw = api.respond(event)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Requests are counted, not logged: the demo prints its own progress."""

    return Handler


def main(argv: Sequence[str] | None = None) -> int:
    """Serve ``handlers/submit.py`` at ``POST /scores`` until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="POST /scores on 127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="the port (0: any free one)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "handlers"))
    from submit import handler

    with LocalApi(handler, resource="/scores", port=args.port) as api:
        print(f"POST /scores served at {api.url}; Ctrl-C stops it", flush=True)
        until_stopped()
    return 0


def until_stopped() -> None:
    """Block until SIGTERM or Ctrl-C: the foreground of a local server run as a script."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    raise SystemExit(main())
