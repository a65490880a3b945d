"""Shared fixtures: a real DynamoDB endpoint on 127.0.0.1 (moto's server), never a patched
client. boto3 talks HTTP to it through ``endpoint_url``, exactly as it would talk to AWS."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    """The URL of a moto server started for this test session on a free local port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def aws_settings(dynamodb_endpoint: str) -> dict[str, Any]:
    """Keyword arguments for boto3 clients: the local endpoint and dummy credentials."""
    os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    return {
        "endpoint_url": dynamodb_endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
