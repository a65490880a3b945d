"""Internal: compile a model's annotations into one converter, once per model.

:func:`streamflow.models.from_item` is the public face. A pydantic model validates itself
(:mod:`streamflow.models._pydantic`). The first time a dataclass or TypedDict is used, its
type hints are read once and each field gets a converter from
:mod:`streamflow.models._convert`; the model's converter is cached by type. Converting an
item then walks a list of ``(field, attribute, converter, exact classes, required)`` tuples
and never looks at an annotation again. Recursive models work: a model's converter is
registered before its fields are compiled.
"""

from __future__ import annotations

import collections.abc as abc
import dataclasses
import enum
import sys
import types
import typing
from collections.abc import Mapping
from typing import Any

from streamflow.errors import _name_segment
from streamflow.models._convert import (
    MISSING,
    SCALARS,
    Compiled,
    Converter,
    Invalid,
    describe,
    enumeration,
    fail,
    fixed_tuple,
    kind,
    literal,
    mapping,
    sequence,
    set_of,
    union,
)
from streamflow.models._pydantic import is_pydantic_model, pydantic_converter

__all__ = ["MISSING", "Attr", "converter_for"]

_FIELD_WRAPPERS = frozenset({"Required", "NotRequired", "ReadOnly", "Final"})
_SEQUENCES = {list: list, abc.Sequence: list, abc.MutableSequence: list}
_SETS = {set: set, frozenset: frozenset, abc.Set: set, abc.MutableSet: set}
_MAPPINGS = frozenset({dict, abc.Mapping, abc.MutableMapping})
_CACHE: dict[Any, Converter] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class Attr:
    """The item attribute a model field reads, when its name differs from the field's.

    Put it in ``Annotated`` on the field's own annotation (``Annotated[str, Attr("PK")]``);
    anywhere else it is ignored.

    Args:
        name: the attribute name in the item, e.g. ``"PK"``.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: ``name`` is empty.

    >>> from dataclasses import dataclass
    >>> from typing import Annotated
    >>> from streamflow.models import Attr, from_item
    >>> @dataclass
    ... class Score:
    ...     pk: Annotated[str, Attr("PK")]
    ...     points: Annotated[int, Attr("Points")]
    >>> from_item(Score, {"PK": "USER#7", "Points": 42})
    Score(pk='USER#7', points=42)
    """

    name: str

    def __reduce__(self) -> tuple[type[Attr], tuple[str]]:
        return (type(self), (self.name,))

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"Attr name must be a str, got {type(self.name).__name__}")
        if not self.name:
            raise ValueError("Attr name must not be empty")


def converter_for(model: Any) -> Converter:
    """The cached converter for a dataclass, TypedDict or pydantic ``model``, compiled on
    first use (a pydantic model's validates with its ``model_validate``).

    The converter raises :class:`~streamflow.models._convert.Invalid` listing every problem.

    Raises:
        TypeError: ``model`` is not a dataclass, TypedDict or pydantic v2 model type, or has
            an annotation that cannot be mapped (nothing is cached then).
    """
    try:
        cached = _CACHE.get(model)
    except TypeError:  # unhashable: certainly not a model type
        cached = None
    if cached is not None:
        return cached
    if is_pydantic_model(model):  # validated by pydantic itself
        cached = _CACHE[model] = pydantic_converter(model)
        return cached
    if not _is_model(model):
        raise TypeError(
            "from_item() maps onto a dataclass or TypedDict type, or a pydantic (v2) model, "
            f"got {describe(model)}"
        )
    building: dict[type, Converter] = {}
    convert = _compile_model(model, building)
    _CACHE.update(building)  # only once every model it reaches compiled cleanly
    return convert


# --- annotations ------------------------------------------------------------------------------


def _compile(tp: Any, where: str, building: dict[type, Converter]) -> Compiled:
    """Compile one annotation; ``where`` (``Model.field``) names it in TypeErrors."""
    try:
        scalar = SCALARS.get(tp)
    except TypeError:  # an unhashable annotation object
        scalar = None
    if scalar is not None:
        return scalar
    if isinstance(tp, typing.NewType):
        return _compile(tp.__supertype__, where, building)
    origin = typing.get_origin(tp)
    if origin is None and isinstance(tp, type):  # a class, not list[int] (a type on 3.10)
        if issubclass(tp, enum.Enum):
            return enumeration(tp)
        if _is_model(tp):
            cached = _CACHE.get(tp) or _compile_model(tp, building)
            return Compiled(cached, frozenset())
        if is_pydantic_model(tp):  # nested in a dataclass or TypedDict
            return Compiled(converter_for(tp), frozenset())
    if origin is typing.Annotated:
        return _compile(tp.__origin__, where, building)  # metadata counts only on a field
    if origin is typing.Union or origin is types.UnionType:
        args = typing.get_args(tp)
        members = [_compile(arg, where, building) for arg in args if arg is not type(None)]
        return union(members, nullable=len(members) < len(args), expected=describe(tp))
    if origin is typing.Literal:
        return literal(tp)
    if origin is not None or isinstance(tp, type):
        container = _compile_container(tp, origin or tp, where, building)
        if container is not None:
            return container
    raise TypeError(f"cannot map {where}: streamflow.models does not support {describe(tp)}")


def _compile_container(
    tp: Any, origin: Any, where: str, building: dict[type, Converter]
) -> Compiled | None:
    """Containers, bare (``list``) or parametrised (``list[int]``); None if not a container."""
    args = typing.get_args(tp)
    expected = describe(tp)
    first = args[0] if args else Any
    if origin in _SEQUENCES:
        return sequence(_compile(first, where, building), _SEQUENCES[origin], expected)
    if origin in _SETS:
        return set_of(_compile(first, where, building), _SETS[origin], expected)
    if origin is tuple:
        bare = tp is tuple or tp is typing.Tuple  # noqa: UP006 (the bare alias, not a hint)
        if bare or (len(args) == 2 and args[1] is Ellipsis):
            return sequence(_compile(first, where, building), tuple, expected)
        return fixed_tuple([_compile(arg, where, building) for arg in args], expected)
    if origin in _MAPPINGS:
        if _unwrap_newtype(first) not in (str, Any, object):
            raise TypeError(f"cannot map {where}: DynamoDB map keys are str, not {expected}")
        return mapping(_compile(args[1] if args else Any, where, building), expected)
    return None


def _unwrap_newtype(tp: Any) -> Any:
    while isinstance(tp, typing.NewType):
        tp = tp.__supertype__
    return tp


def _is_model(tp: object) -> bool:
    if not isinstance(tp, type) or typing.get_origin(tp) is not None:  # list[int] on 3.10
        return False
    return dataclasses.is_dataclass(tp) or _is_typeddict(tp)


def _is_typeddict(tp: type) -> bool:
    # typing_extensions.TypedDict is its own class on some versions: test the shape
    return issubclass(tp, dict) and hasattr(tp, "__required_keys__") and hasattr(tp, "__total__")


# --- models -----------------------------------------------------------------------------------

_Field = tuple[str, str, "Converter | None", frozenset[type], bool, str]
"""(field name, item attribute, converter, exact classes, required, ``.attribute`` path)."""


class _Missing:
    """Sentinel for an absent attribute; its class is in no field's ``exact`` set."""


_MISSING = _Missing()


def _compile_model(model: type, building: dict[type, Converter]) -> Converter:
    if model in building:  # a recursive model: its field list is being filled in
        return _nesting_limited(building[model])
    fields: list[_Field] = []
    is_typeddict = _is_typeddict(model)
    name = model.__name__

    def convert(item: Any) -> Any:
        if item.__class__ is not dict and not isinstance(item, Mapping):
            fail(f"expected a map for {name}, got {kind(item)}")
        get = item.get
        out: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for field, key, fn, exact, required, at in fields:
            value = get(key, _MISSING)
            if value.__class__ in exact:
                out[field] = value
            elif value is _MISSING:
                if required:
                    problems.append((at, MISSING))
            elif fn is None:
                out[field] = value
            else:
                try:
                    out[field] = fn(value)
                except Invalid as invalid:
                    problems.extend((at + path, reason) for path, reason in invalid.problems)
        if problems:
            raise Invalid(problems)
        if is_typeddict:
            return out
        try:
            return model(**out)
        except (TypeError, ValueError) as error:  # e.g. a check in __post_init__
            fail(f"{name}() rejected the values: {type(error).__name__}: {error}")

    building[model] = convert
    try:
        hints = _type_hints(model)
    except Exception as error:  # NameError for an unresolvable forward reference, mostly
        raise TypeError(f"cannot resolve the annotations of {name}: {error}") from error
    if is_typeddict:
        required_keys = model.__required_keys__  # type: ignore[attr-defined]
        specs = [(key, hint, key in required_keys) for key, hint in hints.items()]
    else:
        specs = _dataclass_specs(model, hints)
    keys: dict[str, str] = {}
    for field, hint, required in specs:
        tp, attr, explicit = _unwrap_field(hint, f"{name}.{field}")
        key = attr or field
        if key in keys:
            raise TypeError(f"{name}.{field} and {name}.{keys[key]} both read attribute {key!r}")
        keys[key] = field
        compiled = _compile(tp, f"{name}.{field}", building)
        is_required = required if explicit is None else explicit
        fields.append((field, key, compiled.fn, compiled.exact, is_required, _name_segment(key)))
    return convert


MAX_NESTING_DEPTH = 32  # DynamoDB's, as codec.MAX_NESTING_DEPTH (models may not import codec)


def _nesting_limited(convert: Converter) -> Converter:
    """A recursive model's reference to itself (or to a model that leads back to it), which
    fails past DynamoDB's 32 levels of nesting: an item built in Python and nested a
    thousand levels deep gets a ModelError with its path, never a RecursionError.

    The depth is counted per thread, as records of one batch may be mapped on several.
    """
    import threading  # loaded on the first recursive model, not when models is imported

    state = threading.local()

    def limited(value: Any) -> Any:
        depth = getattr(state, "depth", 0)
        if depth >= MAX_NESTING_DEPTH:
            fail(f"nested deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
        state.depth = depth + 1
        try:
            return convert(value)
        finally:
            state.depth = depth

    return limited


def _type_hints(model: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(model, include_extras=True)
    except TypeError:
        if sys.version_info >= (3, 11) or not dataclasses.is_dataclass(model):
            raise
    # Python 3.10 rejects a postponed "InitVar[int]" annotation ("Forward references must
    # evaluate to types"; fixed in 3.11): evaluate those by hand and the rest as usual.
    import inspect  # already loaded by dataclasses; imported here as only 3.10 needs it

    hints: dict[str, Any] = {}
    for klass in reversed(model.__mro__):
        annotations = inspect.get_annotations(klass)
        namespace = dict(vars(klass))
        initvars = {
            name: text
            for name, text in annotations.items()
            if isinstance(text, str) and "InitVar" in text
        }
        rest = {name: hint for name, hint in annotations.items() if name not in initvars}
        stand_in = type(
            klass.__name__, (), {"__annotations__": rest, "__module__": klass.__module__}
        )
        hints.update(typing.get_type_hints(stand_in, localns=namespace, include_extras=True))
        module = sys.modules[klass.__module__].__dict__
        hints.update({name: eval(text, module, namespace) for name, text in initvars.items()})
    return hints


def _dataclass_specs(model: type, hints: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """``(name, hint, required)`` for each field ``__init__`` takes, InitVars included."""
    specs = []
    for field in model.__dataclass_fields__.values():  # type: ignore[attr-defined]
        hint = hints.get(field.name, Any)
        if not field.init or hint is typing.ClassVar or typing.get_origin(hint) is typing.ClassVar:
            continue
        if isinstance(hint, dataclasses.InitVar):
            hint = hint.type
        missing = dataclasses.MISSING
        required = field.default is missing and field.default_factory is missing
        specs.append((field.name, hint, required))
    return specs


def _unwrap_field(hint: Any, where: str) -> tuple[Any, str | None, bool | None]:
    """Peel ``Annotated``, ``Required``/``NotRequired``, ``ReadOnly``, ``Final`` off a hint.

    Returns the inner annotation, the ``Attr`` name (if any) and an explicit requiredness.
    """
    attr: str | None = None
    required: bool | None = None
    while True:
        origin = typing.get_origin(hint)
        wrapper = None if isinstance(origin, type) else getattr(origin, "_name", None)
        if origin is typing.Annotated:
            for meta in hint.__metadata__:
                if isinstance(meta, Attr):
                    if attr is not None and attr != meta.name:
                        raise TypeError(f"{where} has two Attr names: {attr!r}, {meta.name!r}")
                    attr = meta.name
            hint = hint.__origin__
        elif wrapper in _FIELD_WRAPPERS:
            if wrapper in ("Required", "NotRequired"):
                required = wrapper == "Required"
            hint = typing.get_args(hint)[0]
        else:
            return hint, attr, required
