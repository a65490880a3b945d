"""What one score record does to its user's total.

Part of :mod:`streamflow.recipes.scores`; import from there. The recipe's errors,
``ScoreRecordError`` and ``ScoreWriteError``, live in :mod:`streamflow.errors`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from streamflow.codec._wire import shown
from streamflow.errors import ScoreRecordError
from streamflow.records import EventName, StreamRecord

__all__ = [
    "Change",
    "change_of",
    "checked_points",
    "images_of",
    "task_types_needed",
]


@dataclass(frozen=True, slots=True)
class Change:
    """The change one record makes: ``points`` and ``count`` to ADD to ``user_id``'s total."""

    record: StreamRecord
    user_id: str
    points: int
    count: int


def checked_points(value: object, where: str) -> int:
    """``value`` as a whole number of points >= 0, or ValueError naming ``where``."""
    if isinstance(value, (int, Decimal, float)) and not isinstance(value, bool):
        number = Decimal(value)
        if (
            number.is_finite()
            and number.adjusted() <= 125  # DynamoDB's largest: int() of 1E+10**17 would not end
            and number == number.to_integral_value()
            and number >= 0
        ):
            return int(number)
    raise ValueError(f"{where} has malformed points {shown(value)} (want a whole number >= 0)")


def images_of(record: StreamRecord) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The record's new and old image, decoded (and cached on the record).

    Raises:
        AttributeDecodeError: an image holds a malformed attribute; ``path`` names it.
    """
    return record.new_image, record.old_image


def task_types_needed(records: Iterable[StreamRecord]) -> set[str]:
    """The task types whose mapping the records' images need (those without ``points``).

    Every image must decode: :meth:`ScoreAggregator.apply` reads them with :func:`images_of`
    first, record by record, so that a malformed one fails its own record alone.
    """
    needed: set[str] = set()
    for record in records:
        for image in (record.new_image, record.old_image):
            if image and "points" not in image and isinstance(image.get("taskType"), str):
                needed.add(image["taskType"])
    return needed


def _image_points(
    record: StreamRecord, image: Mapping[str, Any], which: str, mappings: Mapping[str, Any]
) -> tuple[str, int]:
    user_id = image.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise ScoreRecordError(record.event_id, f"the {which} image has no userId")
    if "points" in image:
        try:
            return user_id, checked_points(image["points"], f"the {which} image")
        except ValueError as error:
            raise ScoreRecordError(record.event_id, str(error)) from None
    task_type = image.get("taskType")
    if not isinstance(task_type, str):
        raise ScoreRecordError(record.event_id, f"the {which} image has no points or taskType")
    value = mappings.get(task_type)
    if isinstance(value, int):
        return user_id, value
    raise ScoreRecordError(record.event_id, str(value or f"unknown task type {task_type!r}"))


def change_of(record: StreamRecord, mappings: Mapping[str, int | Exception]) -> Change:
    """The change ``record`` makes to its user's total.

    INSERT adds the score's points and 1 to the count; MODIFY the difference of its points
    (the count stays); REMOVE takes its points and 1 off. A score's points are its own
    ``points``, else its task type's in ``mappings`` (which may hold the error to report).

    Raises:
        ScoreRecordError: the record cannot be applied.
    """
    new, old = record.new_image, record.old_image
    name = record.event_name
    needs = {
        EventName.INSERT: (new,),
        EventName.MODIFY: (new, old),
        EventName.REMOVE: (old,),
    }[name]
    if any(image is None for image in needs):
        raise ScoreRecordError(
            record.event_id,
            f"a {name.value} record without the images it needs: the stream must be "
            "NEW_AND_OLD_IMAGES",
        )
    if name is EventName.INSERT:
        assert new is not None
        user_id, points = _image_points(record, new, "new", mappings)
        return Change(record, user_id, points, 1)
    if name is EventName.REMOVE:
        assert old is not None
        user_id, points = _image_points(record, old, "old", mappings)
        return Change(record, user_id, -points, -1)
    assert new is not None
    assert old is not None
    user_id, new_points = _image_points(record, new, "new", mappings)
    old_user, old_points = _image_points(record, old, "old", mappings)
    if old_user != user_id:
        raise ScoreRecordError(
            record.event_id, f"userId changed from {old_user!r} to {user_id!r}; not supported"
        )
    return Change(record, user_id, new_points - old_points, 0)
