"""When a filter is refused: one rule, applied wherever a filter enters.

A filter with a rule that can never match a DynamoDB stream record (a lint finding of
severity ``"error"``) is refused with :class:`~streamflow.errors.FilterValidationError`;
warnings never are. The DSL refuses such a filter as it builds it, ``streamflow run``
refuses a ``--filter`` file holding one, and a Router refuses it as a route is declared;
``Filter.from_pattern`` accepts what AWS accepts, and this function checks it on request.
See docs/filters.md, "When a filter is refused".
"""

from __future__ import annotations

from streamflow.errors import FilterValidationError
from streamflow.filters._criteria import FilterCriteria
from streamflow.filters._filter import Filter
from streamflow.filters._lint import LintWarning, check_view_type, never_matching

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from typing import TypeVar

    Checked = TypeVar("Checked", Filter, FilterCriteria)

__all__ = ["refuse_never_matching"]


def refuse_never_matching(filters: Checked, *, view_type: str | None = None) -> Checked:
    """Refuse ``filters`` if one of their rules can never match a DynamoDB stream record.

    The rule streamflow applies wherever a filter enters (docs/filters.md, "When a filter is
    refused"): a lint finding of severity ``"error"`` (``numeric`` or a number on an ``N``
    value, which is text in the record; a rule on an attribute without its type descriptor;
    ``eventName`` in the wrong case...) refuses the filter; warnings never do. The DSL does
    this for every filter it builds; :meth:`Filter.from_pattern` accepts every pattern AWS
    accepts, so pass its result here to ask for the check.

    Args:
        filters: a :class:`Filter`, or a :class:`FilterCriteria` (each of its filters).
        view_type: the stream's ``StreamViewType``, if known: rules on an image it does not
            carry can never match either.

    Returns:
        ``filters`` itself, so that the call chains.

    Raises:
        FilterValidationError: for the first such rule: ``path`` is where it sits
            (``Filters[1].Pattern.dynamodb...`` in a FilterCriteria), ``reason`` says why it
            never matches, names the pattern (in a FilterCriteria) and gives the fix; also
            for a ``view_type`` that is no StreamViewType.
        TypeError: ``filters`` is neither a Filter nor a FilterCriteria.

    >>> refuse_never_matching(Filter.from_pattern({"eventName": ["INSERT"]}))
    Filter.from_pattern('{"eventName":["INSERT"]}')
    >>> refuse_never_matching(Filter.from_pattern({"eventName": ["insert"]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    streamflow.errors.FilterValidationError: a rule of this filter can never match: ...
    """
    check_view_type(view_type)
    if isinstance(filters, Filter):
        finding = never_matching(filters, view_type=view_type)
        if finding is not None:
            raise FilterValidationError(finding.path, _reason(finding))
        return filters
    if not isinstance(filters, FilterCriteria):
        raise TypeError(f"expected a Filter or FilterCriteria, not {type(filters).__name__}")
    for index, item in enumerate(filters.filters):
        finding = never_matching(item, view_type=view_type)
        if finding is not None:
            raise FilterValidationError(
                f"Filters[{index}].Pattern.{finding.path}",
                _reason(finding, pattern=item.to_json()),
            )
    return filters


def _reason(finding: LintWarning, *, pattern: str = "") -> str:
    """Why a filter is refused for ``finding``, with the fix; ``pattern``: the filter's text,
    named when the filter is one of several (shortened past 200 characters)."""
    shown = pattern if len(pattern) <= 200 else pattern[:197] + "..."
    which = f"the filter {shown}" if pattern else "this filter"
    return f"a rule of {which} can never match: {finding.message} (fix: {finding.fix})"
