"""Filter files: a JSON document holding one pattern, or a whole FilterCriteria.

``streamflow filter test|lint`` and ``streamflow run --filter`` read the same documents the
same way, through :func:`criteria_from_document`; ``run`` refuses a document with a rule that
can never match, and ``filter test`` evaluates it but says so (:func:`never_matching_notes`).
"""

from __future__ import annotations

from typing import Any

from streamflow.filters._criteria import FilterCriteria
from streamflow.filters._filter import Filter

__all__ = ["criteria_from_document", "never_matching_notes", "refuse_never_matching_in"]


def criteria_from_document(text: str, parsed: Any) -> FilterCriteria:
    """The filters of a document: one pattern, or a FilterCriteria (boto3, CloudFormation, or
    a whole ``aws lambda get-event-source-mapping`` response), with up to 10 filters.

    Args:
        text: the document's JSON text.
        parsed: the same text, parsed (the caller reports unreadable JSON its own way).

    Raises:
        FilterValidationError: a pattern AWS would reject, or more than 10 filters.
    """
    if _is_criteria(parsed):
        # Each Pattern string is sent to AWS as written: its 4096 characters count as is.
        return FilterCriteria.from_boto3(parsed, max_filters=10)
    # A pattern document is sent compact (to_boto3(), CDK and SAM all write it so): its
    # indentation must not count against the 4096 characters. Duplicate keys and their
    # order are kept, which parsing and writing back would not guarantee.
    return FilterCriteria(Filter.from_pattern(_without_whitespace(text)))


def refuse_never_matching_in(criteria: FilterCriteria, parsed: Any) -> None:
    """Refuse a document's filters if a rule can never match, as ``streamflow run`` does
    (:func:`~streamflow.filters.refuse_never_matching`), with the document's paths:
    ``Filters[1].Pattern.dynamodb...`` in a FilterCriteria, the pattern's own in a pattern.

    Args:
        criteria: what :func:`criteria_from_document` read from the document.
        parsed: the document, parsed.

    Raises:
        FilterValidationError: for the first rule that can never match.
    """
    from streamflow.filters._refuse import refuse_never_matching

    if _is_criteria(parsed):
        refuse_never_matching(criteria)
    else:
        refuse_never_matching(criteria.filters[0])


def never_matching_notes(criteria: FilterCriteria) -> list[str]:
    """What ``streamflow filter test`` writes on standard error about rules that can never
    match: each such lint finding, with its fix, then a line saying where such filters are
    refused. Empty when there is none.

    >>> from streamflow.filters import Filter
    >>> notes = never_matching_notes(FilterCriteria(Filter.from_pattern({"eventName": ["a"]})))
    >>> print(notes[0])  # doctest: +ELLIPSIS
    streamflow: eventName: error: eventName is never 'a' in a DynamoDB stream record ...
      fix: use one of INSERT, MODIFY, REMOVE
    """
    from streamflow.filters._lint import lint

    errors = [warning for warning in lint(criteria) if warning.severity == "error"]
    if not errors:
        return []
    notes = [f"streamflow: {warning}" for warning in errors]
    notes.append(
        "streamflow: such a filter is refused by the DSL, Router routes and streamflow run; "
        "filter test still shows what Lambda would do with it"
    )
    return notes


def _is_criteria(parsed: Any) -> bool:
    """A FilterCriteria shape, not a pattern that happens to name a field ``Filters``: its
    ``Filters`` holds ``{"Pattern": ...}`` objects (a pattern's list holds values or
    operators), or it is a response holding an object ``FilterCriteria``."""
    if not isinstance(parsed, dict):
        return False
    if isinstance(parsed.get("FilterCriteria"), dict) and "Filters" not in parsed:
        return True
    entries = parsed.get("Filters")
    return isinstance(entries, list) and all(
        isinstance(entry, dict) and "Pattern" in entry for entry in entries
    )


def _without_whitespace(text: str) -> str:
    """JSON ``text`` without the whitespace between its tokens (strings are kept whole)."""
    out: list[str] = []
    start = 0
    in_string = escaped = False
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in " \t\n\r":
            out.append(text[start:index])
            start = index + 1
    out.append(text[start:])
    return "".join(out)
