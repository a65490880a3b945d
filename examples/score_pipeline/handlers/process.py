"""The score processor: the stream of the scores table, to per-user totals, exactly once.

Deploy ``handler`` with an event source mapping on the table's stream that carries
``router.filter_criteria()`` (the infrastructure reads it from this module, so the deployed
filter and the code cannot drift apart), ``FunctionResponseTypes: ["ReportBatchItemFailures"]``,
bisection, bounded retries and record age, and an on-failure destination.

Environment: ``TABLE_NAME`` (required), ``TTL_DELETES`` (``ignore`` or ``subtract``).
"""

from __future__ import annotations

import os

from streamflow.recipes.scores import scores_router

router = scores_router(
    table=os.environ["TABLE_NAME"],
    ttl_deletes="subtract" if os.environ.get("TTL_DELETES") == "subtract" else "ignore",
)
handler = router.lambda_handler
