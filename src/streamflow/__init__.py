"""streamflow: stream-processing primitives for DynamoDB Streams on AWS Lambda.

The main names live here; each concept has its own module (:mod:`streamflow.codec`,
:mod:`streamflow.records`, :mod:`streamflow.models`, :mod:`streamflow.filters`,
:mod:`streamflow.testing`) and every exception is in :mod:`streamflow.errors`.
"""

from __future__ import annotations

from streamflow.errors import StreamflowError
from streamflow.records import EventName, StreamRecord, StreamViewType, parse_event
from streamflow.router import BatchResult, Router

__all__ = [
    "BatchResult",
    "EventName",
    "Router",
    "StreamRecord",
    "StreamViewType",
    "StreamflowError",
    "parse_event",
]

__version__ = "0.1.0.dev0"
