"""The filter checks: the deployed FilterCriteria against the code's, explained in routes
(SF002, SF003, SF004), the function's own writes (SF005), the deployed patterns themselves
(SF006, SF007), and route filters on images the stream does not carry (SF008).

Filters are compared as parsed patterns (order of filters and of keys does not count). When
they differ, example records (:mod:`._witness`) show what the difference does: a record a
route wants that the mapping drops, or one the mapping delivers that no route takes.

A mapping on a Kinesis data stream that Kinesis Data Streams for DynamoDB writes to must carry
the code's patterns nested under ``data`` (``router.filter_criteria(source="kinesis")``):
deployed patterns written for a DynamoDB stream (SF023) and route filters on fields the
Kinesis change lacks (SF024) are found here too.

Over 400 lines: one function a check, each with its messages and fix texts, over one shared
comparison of parsed patterns; split, each part would import the others' private helpers.
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
from streamflow.filters import Filter, FilterCriteria, lint
from streamflow.filters._json import lambda_view

__all__ = ["carried", "criteria_fix", "filter_findings", "for_kinesis", "view_for"]

_CARRIES = {
    "KEYS_ONLY": frozenset(),
    "NEW_IMAGE": frozenset({"NewImage"}),
    "OLD_IMAGE": frozenset({"OldImage"}),
    "NEW_AND_OLD_IMAGES": frozenset({"NewImage", "OldImage"}),
}
_KINESIS_ONLY = ("tableName", "recordFormat")  # fields a change carries through Kinesis only
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


def criteria_fix(code: Declared, source: str = "dynamodb") -> str:
    """The FilterCriteria to paste: the code's, in CloudFormation's (and boto3's) shape;
    for a Kinesis mapping, nested under ``data``."""
    criteria = code.criteria
    if criteria is None:
        return "pass the handler's filters with --filter"
    if source == "kinesis":
        try:
            criteria = for_kinesis(criteria)
        except FilterValidationError:
            return (
                "filter the routes on fields a Kinesis record carries (SF024), then deploy "
                'router.filter_criteria(source="kinesis")'
            )
    if not criteria.filters:
        return "remove FilterCriteria: the routes want every record"
    shown = "FilterCriteria: " + json.dumps(criteria.to_cloudformation())
    if source == "kinesis":
        return shown + ' (router.filter_criteria(source="kinesis"))'
    return shown


def for_kinesis(criteria: FilterCriteria) -> FilterCriteria:
    """The patterns a Kinesis mapping carries for ``criteria``: nested under ``data``,
    unless they already are (filters given for a plain handler may be either).

    Raises:
        FilterValidationError: a pattern names a field the Kinesis change lacks.
    """
    if criteria.filters and all(set(flt.pattern) == {"data"} for flt in criteria):
        return criteria
    return criteria.for_kinesis()


def _takes(code: Declared, expected: FilterCriteria | None, example: Example) -> bool:
    """Whether the code handles the example: a route takes its change, or the plain
    handler's filters (the mapping's, in the mapping's shape) match what Lambda filters."""
    if code.router:
        return code.taker(example.change) is not None
    return expected is None or expected.matches(example.view)


def filter_findings(
    code: Declared, mapping: Deployed, *, writes: Sequence[Mapping[str, Any]]
) -> list[Finding]:
    """SF002 to SF008 (and, on a Kinesis mapping, SF023 and SF024) for one mapping."""
    table = mapping.table if isinstance(mapping.table, TableInfo) else None
    view = table.view_type if table is not None and isinstance(table.view_type, str) else None
    keys = table.keys if table is not None else None
    source = mapping.source
    out: list[Finding] = []
    expected = code.criteria
    if source == "kinesis":
        expected = _kinesis_expected(code, mapping.id, out)
    else:
        out.extend(_image_findings(code, mapping.id, view, table))
    patterns = mapping.settings.filter_patterns
    if isinstance(patterns, Unknown):
        return out  # reported by SF022
    fix = criteria_fix(code, source)
    numbered, valid = _parse(mapping.id, patterns or (), fix, out)
    if source == "kinesis" and _dynamodb_shaped(mapping.id, numbered, keys, fix, out):
        numbered = [(n, flt) for n, flt in numbered if set(flt.pattern) == {"data"}]
        valid = False  # SF023 gives the fix; drift examples would only repeat it
    deployed = [flt for _, flt in numbered]
    code_filters = set(code.criteria.filters) if code.criteria is not None else set()
    for number, flt in numbered:
        # A filter the code declares too has its view-type warnings reported as SF008.
        linted, prefix = (flt, "") if source == "dynamodb" else (_inner(flt), "data.")
        if linted is None:
            continue
        warnings = lint(linted, view_type=None if flt in code_filters or prefix else view)
        for warning in warnings:
            if prefix and warning.path.split(".", 1)[0] in _KINESIS_ONLY:
                continue  # lint reads DynamoDB stream records, which lack these fields
            # lint says "error" for a rule that can never match (where it tells them apart)
            never = getattr(warning, "severity", None) == "error"
            out.append(
                Finding(
                    "SF007",
                    "error" if never else "warning",
                    mapping.id,
                    f"deployed filter {number}, {prefix}{warning.path}: {warning.message}",
                    warning.fix,
                )
            )
    if valid and expected is not None:
        out.extend(_drift(code, expected, mapping.id, deployed, view, keys, source, fix))
    out.extend(
        _own_writes(code, expected, mapping, deployed if valid else None, view, keys, writes)
    )
    return out


def _inner(flt: Filter) -> Filter | None:
    """The pattern a Kinesis mapping's filter applies to the change (its ``data``)."""
    inner = flt.pattern.get("data")
    if set(flt.pattern) != {"data"} or not isinstance(inner, Mapping):
        return None
    try:
        return Filter.from_pattern(inner)
    except FilterValidationError:  # pragma: no cover - the whole pattern is valid
        return None


def _kinesis_expected(code: Declared, mapping_id: str, out: list[Finding]) -> FilterCriteria | None:
    """SF024 for each route (or the plain handler's filters) on a field the Kinesis change
    lacks; the patterns the Kinesis mapping must carry, ``None`` when some cannot be made."""
    if code.criteria is None:
        return None
    owners: list[tuple[str, FilterCriteria]] = (
        [(f"route {route.name!r}", route.criteria) for route in code.routes]
        if code.router and not code.filters_given
        else [(code.label, code.criteria)]
    )
    refused = False
    for owner, criteria in owners:
        try:
            for_kinesis(criteria)
        except FilterValidationError as exc:
            refused = True
            field = exc.path.split("].", 1)[-1]
            out.append(
                Finding(
                    "SF024",
                    "error",
                    mapping_id,
                    f"{owner} filters on {field}, which a DynamoDB change read through "
                    "Kinesis does not carry: its filter never matches there, and its records "
                    "never arrive",
                    "filter on fields the Kinesis change carries (tableName instead of "
                    "eventSourceARN; no eventVersion, dynamodb.SequenceNumber nor "
                    "dynamodb.StreamViewType: Kinesis carries both images), then deploy "
                    'router.filter_criteria(source="kinesis")',
                )
            )
    if refused:
        return None
    return for_kinesis(code.criteria)


def _outside_data(pattern: Mapping[str, Any]) -> list[str]:
    """The top-level fields of a pattern (or of its ``$or`` alternatives) other than
    ``data``: a Kinesis mapping filters on ``data`` alone."""
    found: list[str] = []
    for key, value in pattern.items():
        if key == "$or" and isinstance(value, list):
            for branch in value:
                if isinstance(branch, Mapping):
                    found += [k for k in _outside_data(branch) if k not in found]
        elif key != "data" and key not in found:
            found.append(key)
    return found


def _dynamodb_shaped(
    mapping_id: str,
    numbered: list[tuple[int, Filter]],
    keys: tuple[tuple[str, str], ...] | None,
    fix: str,
    out: list[Finding],
) -> bool:
    """SF023: deployed patterns on a Kinesis mapping that are not nested under ``data``."""
    shaped = [(n, flt, fields) for n, flt in numbered if (fields := _outside_data(flt.pattern))]
    if not shaped:
        return False
    plain = generic(view_type=None, keys=keys, source="kinesis")
    silent = [not any(flt.matches(ex.view) for ex in plain) for _, flt, _ in shaped]
    why = "Lambda filters a Kinesis record on its data alone, so fields outside data"
    if len(shaped) == len(numbered) and all(silent):
        fields = sorted({field for _, _, names in shaped for field in names})
        out.append(
            Finding(
                "SF023",
                "error",
                mapping_id,
                "the deployed filters are written for a DynamoDB stream (not nested under "
                f"data): {why} ({', '.join(fields)}) are never there, and the mapping drops "
                "every record: no route runs",
                fix,
            )
        )
        return True
    for (number, flt, names), never in zip(shaped, silent, strict=True):
        effect = "it matches no record" if never else "it does not test what it seems to"
        out.append(
            Finding(
                "SF023",
                "error",
                mapping_id,
                f"deployed filter {number} ({_short(flt)}) is written for a DynamoDB stream "
                f"(not nested under data): {why} ({', '.join(names)}) are never there, so "
                f"{effect}",
                fix,
            )
        )
    return True


def _parse(
    mapping_id: str, patterns: Sequence[Any], fix: str, out: list[Finding]
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
    criteria: FilterCriteria,
    mapping_id: str,
    deployed: list[Filter],
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    source: str,
    fix: str,
) -> list[Finding]:
    """SF002, SF003, SF004: the deployed filters against the code's (``criteria``, in the
    mapping's shape)."""
    expected = criteria.filters
    if set(deployed) == set(expected):
        return []

    def delivered(example: Example) -> bool:
        return not deployed or any(flt.matches(example.view) for flt in deployed)

    out = []
    wanted: list[Example] = (
        [
            ex
            for flt in expected
            if flt not in deployed
            for ex in examples(flt, view_type=view, keys=keys, source=source)
        ]
        if expected
        else generic(view_type=view, keys=keys, source=source)
    )
    lost: dict[str, Example] = {}
    for example in wanted:
        if delivered(example):
            continue
        route = code.taker(example.change) if code.router else None
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
    extra = _undelivered_takers(code, criteria, deployed, view, keys, source)
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
    criteria: FilterCriteria,
    deployed: list[Filter],
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    source: str,
) -> list[tuple[str, Example]]:
    """(where, example) for each deployed filter that delivers a record the code does not
    take (or for the whole mapping, when it has no filters)."""
    expected = set(criteria.filters)
    found = []
    if not deployed:
        for example in generic(view_type=view, keys=keys, source=source):
            if not _takes(code, criteria, example):
                return [("the mapping has no FilterCriteria: it", example)]
        return []
    for number, flt in enumerate(deployed, start=1):
        if flt in expected:
            continue
        for example in examples(flt, view_type=view, keys=keys, source=source):
            if not _takes(code, criteria, example):
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
    expected: FilterCriteria | None,
    mapping: Deployed,
    deployed: list[Filter] | None,
    view: str | None,
    keys: tuple[tuple[str, str], ...] | None,
    writes: Sequence[Mapping[str, Any]],
) -> list[Finding]:
    """SF005: the function's own writes delivered to it again."""
    fix = criteria_fix(code, mapping.source)
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
                insert(item),
                modify(item, item),
                keys=key_names,
                view_type=_view_literal(view),
                source="kinesis" if mapping.kinesis is not None else "dynamodb",
            ):
                example = Example(raw, ())
                if deployed and not any(flt.matches(lambda_view(raw)) for flt in deployed):
                    continue
                route = code.taker(example.change) if code.router else None
                shown = json.dumps(dict(item), default=str)[:120]
                event = example.change["eventName"]
                article = "an" if event == "INSERT" else "a"
                if route is not None or (not code.router and _takes(code, expected, example)):
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
