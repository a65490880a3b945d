"""Drive a handler from a real table's stream, exactly as a Lambda event source mapping does.

:func:`run` reads a DynamoDB table's stream through the DynamoDB Streams API (AWS, or any
endpoint that speaks it, such as moto's server) and invokes a Lambda handler or a
:class:`~streamflow.Router` with Lambda's events, batching, filters, partial batch failures,
retries, bisection, on-failure records, parallelization, tumbling windows and durable
checkpoints. ``streamflow run`` is the same from the command line; see ``docs/runner.md``.
:func:`redrive` (``streamflow redrive``) delivers again, the same way, the batches an event
source mapping gave up on, from their on-failure records; see ``docs/redrive.md``.

This package imports boto3 (lazily, when it makes clients); ``import streamflow`` never
imports it.

Usage::

    from streamflow.runner import run

    summary = run("app:router", table="scores", endpoint_url="http://127.0.0.1:5000",
                  until_idle=2)
"""

from __future__ import annotations

from streamflow.errors import RunnerConfigError, RunnerError
from streamflow.runner._api import run
from streamflow.runner._cli import (
    add_redrive_command,
    add_run_command,
    redrive_command,
    run_command,
)
from streamflow.runner._invoke import LambdaContext, LambdaHandler
from streamflow.runner._redrive import redrive
from streamflow.runner._redrive_status import RedriveSummary
from streamflow.runner._status import RunSummary

__all__ = [
    "LambdaContext",
    "LambdaHandler",
    "RedriveSummary",
    "RunSummary",
    "RunnerConfigError",
    "RunnerError",
    "add_redrive_command",
    "add_run_command",
    "redrive",
    "redrive_command",
    "run",
    "run_command",
]

for _name in __all__:  # public reprs and pickling: streamflow.runner.RunSummary
    if globals()[_name].__module__.startswith(__name__ + "."):  # not the errors' home
        globals()[_name].__module__ = __name__
del _name
