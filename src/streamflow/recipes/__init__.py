"""Ready-made stream processors built on streamflow's Router.

Each recipe is a tested, documented handler for a common job, written the way we would want
users to write their own: a filter that its own writes never match, exactly-once effects under
every way Lambda delivers a batch, and failures reported per record.

- :mod:`streamflow.recipes.scores`: per-user score totals, exactly once
  (``docs/score-recipe.md``).

Recipes sit above the core: they may import boto3 (lazily), and nothing in the core imports
them.
"""

from __future__ import annotations

__all__: list[str] = []
