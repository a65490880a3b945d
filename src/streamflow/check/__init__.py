"""Check a deployed event source mapping against what the code declares.

A Router declares its routes once, and ``router.filter_criteria()`` turns them into the
mapping's FilterCriteria; but the mapping that runs is written in a template or clicked in a
console. :func:`check` reads a CloudFormation or SAM template (JSON, or YAML with its
intrinsic tags) or CDK's ``cdk.out``; :func:`check_live` reads a function's mappings with
boto3. Both return :class:`Finding` values with stable codes (:data:`RULES`): partial batch
failures not reported, filters that drifted from the routes, retries that block a shard or
discard without trace, a stream that does not carry the image a route reads, and more. See
``docs/check.md``; ``streamflow check`` is the same on the command line.

This package imports boto3 only to read live mappings, and PyYAML only for YAML templates
(the ``yaml`` extra); ``import streamflow`` never imports it.

Usage::

    from streamflow.check import check

    from app import router

    assert check(router, template="template.yaml") == []
"""

from __future__ import annotations

from streamflow.check._api import check, check_live
from streamflow.check._cli import add_check_command, check_command
from streamflow.check._findings import RULES, Finding, Rule
from streamflow.errors import CheckError

__all__ = [
    "RULES",
    "CheckError",
    "Finding",
    "Rule",
    "add_check_command",
    "check",
    "check_command",
    "check_live",
]

for _name in __all__:  # public reprs and pickling: streamflow.check.Finding
    _value = globals()[_name]
    if getattr(_value, "__module__", "").startswith(__name__ + "."):
        _value.__module__ = __name__
del _name, _value
