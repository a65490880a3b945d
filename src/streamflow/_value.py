"""The one base of streamflow's small immutable value objects.

Written by hand rather than with ``@dataclass(frozen=True, slots=True)``: handlers build
their routes and filters at import time, and ``dataclasses`` (which imports ``inspect``) would
add several milliseconds to every Lambda cold start.
"""

from __future__ import annotations

__all__ = ["Value"]


class Value:
    """Slots, construction by position or keyword, immutability, equality and hashing by
    value, a readable ``repr`` and pickling.

    A subclass names its fields in ``__slots__``; ``_order`` gives their constructor and
    ``repr`` order when it is not the order of ``__slots__``.

    >>> class Point(Value):
    ...     __slots__ = ("x", "y")
    >>> Point(1, y=2)
    Point(x=1, y=2)
    >>> Point(1, 2) == Point(x=1, y=2), hash(Point(1, 2)) == hash(Point(1, 2))
    (True, True)
    >>> Point(1, 2).x = 3
    Traceback (most recent call last):
    AttributeError: Point is immutable; cannot set 'x'
    """

    __slots__: tuple[str, ...] = ()
    _order: tuple[str, ...] = ()

    def __init__(self, *values: object, **named: object) -> None:
        names = self._names()
        if len(values) > len(names):
            raise TypeError(f"{type(self).__name__} takes {len(names)} fields")
        for name, value in zip(names, values, strict=False):  # the count is checked above
            object.__setattr__(self, name, value)
        for name in names[len(values) :]:
            if name not in named:
                raise TypeError(f"{type(self).__name__} is missing field {name!r}")
            object.__setattr__(self, name, named.pop(name))
        if named:
            raise TypeError(f"{type(self).__name__} has no fields {sorted(named)}")

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return cls._order or cls.__slots__

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._names())

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; cannot delete {name!r}")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Value):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._names())
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> tuple[type[Value], tuple[object, ...]]:
        return (type(self), self._values())
