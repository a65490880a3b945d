"""The filter checks: the deployed FilterCriteria against the code's, explained in routes
(SF002, SF003, SF004), the function's own writes (SF005), the deployed patterns themselves
(SF006, SF007), and route filters on images the stream does not carry (SF008).

Filters are compared as parsed patterns (order of filters and of keys does not count). When
they differ, example records (:mod:`._witness`) show what the difference does: a record a
route wants that the mapping drops, or one the mapping delivers that no route takes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from streamflow.check._code import Declared
from streamflow.check._deployment import Deployed, TableInfo, Unknown
from streamflow.check._findings import Finding
from streamflow.check._witness import Example, examples, generic
from streamflow.errors import FilterValidationError
from streamflow.filters import Filter, lint

__all__ = ["carried", "criteria_fix", "filter_findings", "view_for"]

_CARRIES = {
    "KEYS_ONLY": frozenset(),
    "NEW_IMAGE": frozenset({"NewImage"}),
    "OLD_IMAGE": frozenset({"OldImage"}),
    "NEW_AND_OLD_IMAGES": frozenset({"NewImage", "OldImage"}),
}
_MAX_FILTERS = 10  # AWS's limit, after a quota increase (5 without)


def view_for(images: frozenset[str]) -> str:
    """The smallest view type that carries ``images`` (``NewImage``, ``OldImage``)."""
    for view, carried in _CARRIES.items():
        if images <= carried:
            return view
    return "NEW_AND_OLD_IMAGES"  # pragma: no cover - every set fits that one


def carried(view: str) -> frozenset[str]:
    """The images a stream of this view type carries."""
    return _CARRIES.get(view, frozenset({"NewImage", "OldImage"}))


def criteria_fix(code: Declared) -> str:
    """The FilterCriteria to paste: the code's, in CloudFormation's (and boto3's) shape."""
    criteria = code.criteria
    if criteria is None:
        return "pass the handler's filters with --filter"
    if not criteria.filters:
        return "remove FilterCriteria: the routes want every record"
    return "FilterCriteria: " + json.dumps(criteria.to_cloudformation())


def filter_findings(
    code: Declared, mapping: Deployed, *, writes: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """SF002 to SF008 for one mapping."""
    table = mapping.table if isinstance(mapping.table, TableInfo) else None
    view = table.view_type if table is not None and isinstance(table.view_type, str) else None
    keys = table.keys if table is not None else None
    out: list[Finding] = []
    out.extend(_image_findings(code, mapping.id, view, table))
    patterns = mapping.settings.filter_patterns
    if isinstance(patterns, Unknown):
        return out  # reported by SF022
    numbered, valid = _parse(mapping.id, patterns or (), code, out)
    deployed = [flt for _, flt in numbered]
    code_filters = set(code.criteria.filters) if code.criteria is not None else set()
    for number, flt in numbered:
        # A filter the code declares too has its view-type warnings reported as SF008.
        warnings = lint(flt, view_type=None if flt in code_filters else view)
        for warning in warnings:
            # lint says "error" for a rule that can never match (where it tells them apart)
            never = getattr(warning, "severity", None) == "error"
            out.append(
                Finding(
                    "SF007",
                    "error" if never else "warning",
                    mapping.id,
                    f"deployed filter {number}, {warning.path}: {warning.message}",
                    warning.fix,
                )
            )
    if valid and code.criteria is not None:
        out.extend(_drift(code, mapping.id, deployed, view, keys))
    out.extend(_own_writes(code, mapping, deployed if valid else None, view, keys, writes))
    return out


def _parse(
    mapping_id: str, patterns: Sequence[Any], code: Declared, out: list[Finding]
) -> tuple[list[tuple[int, Filter]], bool]:
    """The deployed filters AWS would accept, by their number, and whether all of them are
    (SF006 for the others)."""
    refused: list[str] = []
    if len(patterns) > _MAX_FILTERS:
        refused.append(
            f"{len(patterns)} filters: AWS allows 5 per mapping, 10 after a quota increase"
        )
    deployed: list[tuple[int, Filter]] = []
    for number, pattern in enumerate(patterns, start=1):
        if not isinstance(pattern, str):
            shown = f"{type(pattern).__name__} {pattern!r}"[:200]
            refused.append(
                f"deployed filter {number}: Pattern must be a string of JSON; CloudFormation "
                f"refuses {shown}"
            )
            if not isinstance(pattern, Mapping):
                continue
        try:
            deployed.append((number, Filter.from_pattern(pattern)))
        except FilterValidationError as exc:
            refused.append(f"deployed filter {number}: AWS rejects this pattern: {exc}")
    fix = criteria_fix(code)
    out.extend(Finding("SF006", "error", mapping_id, message, fix) for message in refused)
    return deployed, not refused


def _image_findings(
    code: Declared, mapping_id: str, view: str | None, table: TableInfo | None
) -> list[Finding]:
    """SF008: code filters reading an image the stream does not carry."""
    if view is None or code.criteria is None:
        return []
    owners: list[tuple[str, Filter]] = (
        [(f"route {route.name!r}", flt) for route in code.routes for flt in route.criteria]
        if code.router and not code.filters_given
        else [(code.label, flt) for flt in code.criteria]
    )
    out = []
    for owner, flt in owners:
        plain = {(w.path, w.message) for w in lint(flt)}
        extra = [w for w in lint(flt, view_type=view) if (w.path, w.message) not in plain]
        if not extra:
            continue
        images = frozenset(
            part for w in extra for part in ("NewImage", "OldImage") if f".{part}." in f".{w.path}."
        )
        paths = ", ".join(sorted({w.path for w in extra}))
        out.append(
            Finding(
                "SF008",
                "error",
                mapping_id,
                f"{owner} filters on {paths}, which a {view} stream does not carry: "
                f"{extra[0].message}",
                f"StreamViewType: {view_for(images | carried(view))} on table "
                f"{table.name if table else ''} (changing it turns the stream off and on: a "
                "new stream ARN, which the mapping must then read)",
            )
        )
    return out


def _drift(
    code: Declared,
    mapping_id: str,
    deployed: list[Filter],
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
) -> list[Finding]:
    """SF002, SF003, SF004: the deployed filters against the code's."""
    assert code.criteria is not None
    expected = code.criteria.filters
    if set(deployed) == set(expected):
        return []
    fix = criteria_fix(code)

    def delivered(record: Any) -> bool:
        return not deployed or any(flt.matches(record) for flt in deployed)

    out = []
    wanted: list[Example] = (
        [
            ex
            for flt in expected
            if flt not in deployed
            for ex in examples(flt, view_type=view, keys=keys)
        ]
        if expected
        else generic(view_type=view, keys=keys)
    )
    lost: dict[str, Example] = {}
    for example in wanted:
        if delivered(example.record):
            continue
        route = code.taker(example.record) if code.router else None
        owner = (
            f"route {route.name!r} never receives its records"
            if route is not None
            else f"records {code.label} match never arrive"
        )
        lost.setdefault(owner, example)
    for owner, example in lost.items():
        out.append(
            Finding(
                "SF002",
                "error",
                mapping_id,
                f"{owner}: the deployed FilterCriteria drops them, e.g. {example.describe()}",
                fix,
            )
        )
    extra = _undelivered_takers(code, deployed, view, keys)
    unmatched_fail = code.router and code.on_unmatched == "error"
    for where, example in extra:
        consequence = (
            "each fails its batch (on_unmatched='error') and is retried"
            if unmatched_fail
            else "each invokes the function for nothing"
        )
        out.append(
            Finding(
                "SF003",
                "error" if unmatched_fail else "warning",
                mapping_id,
                f"{where} delivers records {code.label} does not take, e.g. "
                f"{example.describe()}: {consequence}",
                fix,
            )
        )
    if not lost and not extra:
        out.append(
            Finding(
                "SF004",
                "warning",
                mapping_id,
                f"the deployed FilterCriteria is not the one {code.label} declares (no example "
                "record showed a route losing records or a record delivered for nothing, but "
                "the patterns differ)",
                fix,
            )
        )
    return out


def _undelivered_takers(
    code: Declared,
    deployed: list[Filter],
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
) -> list[tuple[str, Example]]:
    """(where, example) for each deployed filter that delivers a record the code does not
    take (or for the whole mapping, when it has no filters)."""
    assert code.criteria is not None
    expected = set(code.criteria.filters)
    found = []
    if not deployed:
        for example in generic(view_type=view, keys=keys):
            if not code.takes(example.record):
                return [("the mapping has no FilterCriteria: it", example)]
        return []
    for number, flt in enumerate(deployed, start=1):
        if flt in expected:
            continue
        for example in examples(flt, view_type=view, keys=keys):
            if not code.takes(example.record):
                found.append((f"deployed filter {number} ({_short(flt)})", example))
                break
    return found


def _view_literal(
    view: str | None,
) -> Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]:
    if view == "KEYS_ONLY":
        return "KEYS_ONLY"
    if view == "NEW_IMAGE":
        return "NEW_IMAGE"
    if view == "OLD_IMAGE":
        return "OLD_IMAGE"
    return "NEW_AND_OLD_IMAGES"


def _short(flt: Filter) -> str:
    text = flt.to_json()
    return text if len(text) <= 100 else text[:97] + "..."


def _own_writes(
    code: Declared,
    mapping: Deployed,
    deployed: list[Filter] | None,
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    writes: Sequence[Mapping[str, Any]],
) -> list[Finding]:
    """SF005: the function's own writes delivered to it again."""
    fix = criteria_fix(code)
    if deployed is None:
        return []
    out = []
    if writes:
        from streamflow.testing import insert, modify, records

        for item in writes:
            key_names = (
                tuple(name for name, _ in keys or ())
                or tuple(name for name in ("PK", "SK") if name in item)
                or tuple(item)[:1]
            )
            for raw in records(
                insert(item), modify(item, item), keys=key_names, view_type=_view_literal(view)
            ):
                if deployed and not any(flt.matches(raw) for flt in deployed):
                    continue
                route = code.taker(raw) if code.router else None
                shown = json.dumps(dict(item), default=str)[:120]
                event = raw["eventName"]
                article = "an" if event == "INSERT" else "a"
                if route is not None or (not code.router and code.takes(raw)):
                    owner = f"route {route.name!r}" if route is not None else code.label
                    out.append(
                        Finding(
                            "SF005",
                            "error",
                            mapping.id,
                            f"writing {shown} emits {article} {event} record that the mapping "
                            f"delivers and {owner} takes: the function triggers itself",
                            f"{fix}, with a filter that excludes the function's own items",
                        )
                    )
                else:
                    out.append(
                        Finding(
                            "SF005",
                            "warning",
                            mapping.id,
                            f"writing {shown} emits {article} {event} record that the mapping "
                            "delivers and no route takes: an invocation per write",
                            fix,
                        )
                    )
                break
        return out
    if not deployed and mapping.writes_own_table:
        table = mapping.table.name if isinstance(mapping.table, TableInfo) else "its table"
        test = "test the items it writes with router.assert_not_retriggered(item) (or --writes)"
        wants_all = code.criteria is not None and not code.criteria.filters
        out.append(
            Finding(
                "SF005",
                "warning",
                mapping.id,
                f"the function may write to {table}, whose stream invokes it, and the mapping "
                "filters nothing: every write of its own invokes it again",
                "narrow the routes' filters so that the function's own items match none, and "
                f"deploy router.filter_criteria(); {test}"
                if wants_all
                else f"{fix}; then {test}",
            )
        )
    return out
