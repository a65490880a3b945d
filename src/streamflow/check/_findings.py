"""The findings of ``streamflow check``: their stable codes, severities and the value a check
returns.

A code never changes meaning once released; a retired check keeps its number unused.
``docs/check.md`` explains each code (why it matters, how to fix it) and a test keeps that
page and :data:`RULES` in step.
"""

from __future__ import annotations

from typing import Any, Literal

from streamflow._value import Value

__all__ = ["RULES", "SEVERITIES", "Finding", "Rule", "Severity"]

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")
"""The severities, most severe first."""


class Rule(Value):
    """One check: its stable code, its usual severity, and what it finds, in a few words.

    Attributes:
        code: ``SF001`` to ``SF025``.
        severity: ``"error"`` or ``"warning"`` (the few exceptions are documented per code).
        title: a short description.
    """

    __slots__ = ("code", "severity", "title")
    code: str
    severity: Severity
    title: str


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("SF001", "error", "partial batch failures are not reported"),
        Rule("SF002", "error", "a route's records never arrive"),
        Rule("SF003", "warning", "records are delivered that no route takes"),
        Rule("SF004", "warning", "the FilterCriteria differs from the code's"),
        Rule("SF005", "error", "the function's own writes can trigger it again"),
        Rule("SF006", "error", "a deployed filter pattern AWS rejects"),
        Rule("SF007", "warning", "a deployed filter pattern that does not do what it seems to"),
        Rule("SF008", "error", "a route filters on an image the stream does not carry"),
        Rule("SF009", "error", "a model route on a stream without the model's image"),
        Rule("SF010", "error", "the mapping's table has no usable stream"),
        Rule("SF011", "warning", "a tumbling window without a window route"),
        Rule("SF012", "error", "window routes without a tumbling window"),
        Rule("SF013", "error", "a failing record can block its shard for 24 hours"),
        Rule("SF014", "error", "discarded records leave no trace"),
        Rule("SF015", "warning", "a failing batch is not bisected"),
        Rule("SF016", "warning", "the mapping is disabled"),
        Rule("SF017", "warning", "the mapping starts at LATEST"),
        Rule("SF018", "warning", "a full batch has little time per record"),
        Rule("SF019", "error", "the router's time margin leaves no time to work"),
        Rule("SF020", "warning", "concurrent batches per shard with batch or window routes"),
        Rule("SF021", "error", "a setting AWS refuses"),
        Rule("SF022", "warning", "something could not be checked"),
        Rule("SF023", "error", "a Kinesis mapping's filters are written for a DynamoDB stream"),
        Rule("SF024", "error", "a route filters on a field a Kinesis record lacks"),
        Rule("SF025", "warning", "no table writes to the Kinesis stream"),
    )
}
"""Every check, by code."""


class Finding(Value):
    """One problem with a deployed event source mapping, and how to fix it.

    Attributes:
        code: the stable code, e.g. ``SF001`` (see :data:`RULES` and ``docs/check.md``).
        severity: ``"error"`` or ``"warning"``.
        mapping: the mapping it concerns: its logical id in a template, its UUID live.
        message: what is wrong and what happens because of it.
        fix: the setting to change, with its value (or the FilterCriteria to paste).

    >>> finding = Finding("SF016", "warning", "Mapping", "the mapping is disabled",
    ...                   "Enabled: true")
    >>> print(finding)
    Mapping: SF016 warning: the mapping is disabled
      fix: Enabled: true
    >>> finding.title
    'the mapping is disabled'
    """

    __slots__ = ("code", "fix", "mapping", "message", "severity")
    _order = ("code", "severity", "mapping", "message", "fix")
    code: str
    severity: Severity
    mapping: str
    message: str
    fix: str

    @property
    def title(self) -> str:
        """The code's short description (:data:`RULES`)."""
        return RULES[self.code].title

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data (what ``--format json`` prints).

        >>> Finding("SF017", "warning", "M", "starts at LATEST", "StartingPosition: "
        ...         "TRIM_HORIZON").to_dict()["code"]
        'SF017'
        """
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "mapping": self.mapping,
            "message": self.message,
            "fix": self.fix,
        }

    def __str__(self) -> str:
        return f"{self.mapping}: {self.code} {self.severity}: {self.message}\n  fix: {self.fix}"
