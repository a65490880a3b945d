"""The score processor: the stream of the scores table, to per-user totals, exactly once.

Deploy ``handler`` with an event source mapping on the table's stream that carries
``router.filter_criteria()`` (the infrastructure reads it from this module, so the deployed
filter and the code cannot drift apart), ``FunctionResponseTypes: ["ReportBatchItemFailures"]``,
bisection, bounded retries and record age, and an on-failure destination.

Environment: ``TABLE_NAME`` (required), ``TTL_DELETES`` (``ignore`` or ``subtract``).
"""

from __future__ import annotations

import os
from typing import Any

from streamflow import Router
from streamflow.recipes.scores import scores_router


def build_router(dynamodb: Any = None) -> Router:
    """The processor's router, configured from the environment.

    Args:
        dynamodb: a boto3 DynamoDB client; without one, a default client is made on first
            use (in Lambda, the function's role and Region).
    """
    return scores_router(
        table=os.environ["TABLE_NAME"],
        dynamodb=dynamodb,
        ttl_deletes="subtract" if os.environ.get("TTL_DELETES") == "subtract" else "ignore",
    )


router = build_router()
handler = router.lambda_handler
