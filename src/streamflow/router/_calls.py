"""How the router calls a handler: what it passes, decided once at registration.

A record handler may take the :class:`~streamflow.records.StreamRecord`, a typed model of the
record's new image (by ``model=`` or by the first parameter's annotation), and optionally the
Lambda context. The signature is read once, when the route is declared; per record the router
only fills in a prepared list of argument kinds. ``async def`` handlers return awaitables,
which the router drives on an event loop of its own (asyncio is imported only then).
"""

from __future__ import annotations

import sys

from streamflow.errors import _Signal
from streamflow.records import StreamRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (a cold-start cost)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Literal

    ArgumentKind = Literal["record", "model", "context", "records", "state", "window"]

__all__ = ["Driver", "Overran", "plan_arguments"]

_CONTEXT_NAMES = frozenset({"context", "ctx", "lambda_context"})


def _is_model(annotation: object) -> bool:
    """A dataclass, a TypedDict (a dict subclass that knows its required keys), or a pydantic
    model (which exists only once pydantic is loaded: the test imports nothing otherwise)."""
    if not isinstance(annotation, type):
        return False
    if hasattr(annotation, "__dataclass_fields__"):
        return True
    if issubclass(annotation, dict) and hasattr(annotation, "__required_keys__"):
        return True
    if "pydantic.main" not in sys.modules:
        return False
    from streamflow.models._pydantic import is_pydantic_model

    return is_pydantic_model(annotation)


def _unwrapped(handler: Callable[..., Any]) -> Callable[..., Any]:
    """The function a decorator wrapped (``functools.wraps`` sets ``__wrapped__``), whose
    parameters the wrapper passes through: Powertools' ``tracer.capture_method``, say."""
    seen = 0
    while hasattr(handler, "__wrapped__") and seen < 100:  # a cycle stops somewhere
        handler = handler.__wrapped__
        seen += 1
    return handler


def _hints(handler: Callable[..., Any]) -> dict[str, Any]:
    """Each parameter's annotation, resolved in the handler's module where it can be;
    unresolvable ones (a class defined inside a function, under postponed annotations) stay
    text. Done without ``typing.get_type_hints``, so declaring routes imports nothing."""
    handler = _unwrapped(handler)
    raw = getattr(handler, "__annotations__", None) or {}
    namespace = getattr(handler, "__globals__", {})
    hints: dict[str, Any] = {}
    for name, annotation in raw.items():
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # the user's own annotation text
            except Exception:
                pass  # left as text: only a model annotation must resolve, checked below
        hints[name] = annotation
    return hints


def plan_arguments(
    handler: Callable[..., Any],
    *,
    leading: tuple[ArgumentKind, ...],
    model: type[Any] | None,
) -> tuple[tuple[ArgumentKind, ...], type[Any] | None]:
    """Decide, once, which arguments a handler takes.

    Args:
        handler: the user's function.
        leading: the kinds its first parameters receive, in order: ``("record",)`` for a
            record route, ``("records",)`` for a batch route, ``("records", "state",
            "window")`` for a window route.
        model: the model class given with ``model=``, if any.

    Returns:
        The argument kinds in call order, and the model class (given, or taken from the
        first parameter's annotation), if any.

    Raises:
        TypeError: the handler takes parameters the router cannot fill.
    """
    if not callable(handler):
        raise TypeError(f"a route handler must be callable, got {handler!r}")
    parameters, optional = _parameters(handler)
    hints = _hints(handler)
    kinds: list[ArgumentKind] = []
    if leading == ("record",):
        first = parameters[0] if parameters else None
        annotated = hints.get(first) if first is not None else None
        if model is None and _is_model(annotated):
            model = annotated
        if model is None and isinstance(annotated, str) and "StreamRecord" not in annotated:
            raise TypeError(
                f"{_name(handler)}: cannot resolve the annotation {annotated!r} of parameter "
                f"{first!r}; define the model at module level, or pass model="
            )
        if first is None:
            raise TypeError(f"{_name(handler)} must take the record (or its model) first")
        kinds.append("model" if model is not None else "record")
        rest = parameters[1:]
    else:
        if len(parameters) < len(leading):
            wanted = ", ".join(leading)
            raise TypeError(f"{_name(handler)} must take ({wanted}) as its first parameters")
        kinds.extend(leading)
        rest = parameters[len(leading) :]
    for parameter in rest:
        kind = _extra_kind(handler, parameter, hints.get(parameter), kinds, leading)
        if kind is None:
            raise TypeError(
                f"{_name(handler)}: the router cannot fill parameter {parameter!r}; "
                "a handler takes the record (or its model), optionally the StreamRecord "
                "after a model, and optionally the Lambda context"
            )
        kinds.append(kind)
    # Parameters with defaults: the context (or the record) is passed when asked for, up to
    # the first one the router does not know, which keeps its default from there on.
    for parameter in optional:
        try:
            kind = _extra_kind(handler, parameter, hints.get(parameter), kinds, leading)
        except TypeError:
            kind = None  # a second record: this parameter keeps its default
        if kind is None:
            break
        kinds.append(kind)
    return tuple(kinds), model


def _extra_kind(
    handler: Callable[..., Any],
    parameter: str,
    annotation: object,
    kinds: list[ArgumentKind],
    leading: tuple[ArgumentKind, ...],
) -> ArgumentKind | None:
    """What a parameter after the leading ones gets: the record, the context, or None."""
    if annotation is StreamRecord or parameter == "record":
        if "record" in kinds or leading != ("record",):
            raise TypeError(f"{_name(handler)}: parameter {parameter!r} is not fillable")
        return "record"
    if parameter in _CONTEXT_NAMES or getattr(annotation, "__name__", "") in (
        "LambdaContext",
        "Context",
    ):
        return "context"
    return None


def _parameters(handler: Callable[..., Any]) -> tuple[list[str], list[str]]:
    """Names of the positional parameters a call must fill, and of those after them that
    have defaults.

    Raises:
        TypeError: the handler has a keyword-only parameter without a default, which no call
            by the router fills.
    """
    handler = _unwrapped(handler)
    code = getattr(handler, "__code__", None)
    if code is not None and not hasattr(handler, "__self__"):
        names = list(code.co_varnames[: code.co_argcount])
        split = len(names) - len(getattr(handler, "__defaults__", None) or ())
        keyword_only = code.co_varnames[
            code.co_argcount : code.co_argcount + code.co_kwonlyargcount
        ]
        filled = getattr(handler, "__kwdefaults__", None) or {}
        missing = [name for name in keyword_only if name not in filled]
    else:
        import inspect  # methods, partials and callable objects: rare, and inspect is costly

        positional = [
            p
            for p in inspect.signature(handler).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        names = [p.name for p in positional]
        split = sum(1 for p in positional if p.default is p.empty)
        missing = [
            p.name
            for p in inspect.signature(handler).parameters.values()
            if p.kind is p.KEYWORD_ONLY and p.default is p.empty
        ]
    if missing:
        raise TypeError(
            f"{_name(handler)}: the router cannot fill keyword-only parameter {missing[0]!r}; "
            "give it a default"
        )
    return names[:split], names[split:]


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", repr(handler))


_CANCEL_GRACE = 0.1
"""Seconds an overrunning async handler is given to act on its cancellation."""


class Overran(_Signal):
    """An async handler did not complete in the time it had (see ``Driver.wait``)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class Driver:
    """Runs handlers, driving awaitables on one event loop per thread per invocation.

    A thread whose own event loop is running (a router called from async code) cannot run
    another loop: its awaitables are driven on a loop of the driver's own thread instead.
    """

    def __init__(self) -> None:
        self._loops: dict[int, Any] = {}
        self._aside: Any = None  # (loop, thread) for threads whose own loop is running

    def call(self, handler: Callable[..., Any], args: list[Any], timeout: float | None) -> Any:
        result = handler(*args)
        if result is not None and hasattr(result, "__await__"):
            return self.wait(result, timeout)
        return result

    def wait(self, awaitable: Any, timeout: float | None) -> Any:
        """Drive what an ``async def`` handler returned to completion; its result.

        Raises:
            Overran: it did not complete within ``timeout`` seconds (it was cancelled).
        """
        import asyncio  # only routers with async handlers pay for it

        async def bounded() -> Any:
            task = asyncio.ensure_future(awaitable)
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                await asyncio.wait({task}, timeout=_CANCEL_GRACE)  # let it see the cancel
                raise Overran(timeout or 0.0)
            return task.result()

        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running in this thread: the usual case
            return self._loop().run_until_complete(bounded())
        return asyncio.run_coroutine_threadsafe(bounded(), self._aside_loop()).result()

    def _loop(self) -> Any:
        import threading

        ident = threading.get_ident()
        loop = self._loops.get(ident)
        if loop is None:
            import asyncio

            loop = asyncio.new_event_loop()
            self._loops[ident] = loop  # one key per thread: no two threads write the same
        return loop

    def _aside_loop(self) -> Any:
        import threading

        if self._aside is None:  # only the calling thread runs a loop of its own
            import asyncio

            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="streamflow-async-handlers", daemon=True
            )
            thread.start()
            self._aside = (loop, thread)
        return self._aside[0]

    def close(self) -> None:
        """Close the loops; one still running a handler that overran is left to finish."""
        loops, self._loops = list(self._loops.values()), {}
        for loop in loops:
            if not loop.is_running():
                loop.close()
        if self._aside is not None:
            loop, thread = self._aside
            self._aside = None
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=1)
            if not thread.is_alive():
                loop.close()
