"""The runner's two errors, both under :class:`streamflow.errors.StreamflowError`.

::

    StreamflowError
    ├── RunnerConfigError  (ValueError)    an option, handler or filter the runner cannot use
    └── RunnerError        (RuntimeError)  the stream cannot be read (no table, no stream, ...)

They live in the runner package because only the runner raises them, and ``streamflow.errors``
must not know about the runner.
"""

from __future__ import annotations

from streamflow.errors import StreamflowError

__all__ = ["RunnerConfigError", "RunnerError"]


class RunnerConfigError(StreamflowError, ValueError):
    """An option, handler or filter that the runner cannot use (the CLI exits with code 2).

    Attributes:
        option: the option at fault, e.g. ``batch_size`` or ``handler``.
        reason: what is wrong with it.
    """

    option: str
    reason: str

    def __init__(self, option: str, reason: str) -> None:
        self.option = option
        self.reason = reason
        super().__init__(f"{option}: {reason}")

    def __reduce__(self) -> tuple[type[RunnerConfigError], tuple[str, str]]:
        return (type(self), (self.option, self.reason))


class RunnerError(StreamflowError, RuntimeError):
    """The stream cannot be read: no such table, no stream on it, or an AWS error that
    retrying cannot fix (access denied, bad credentials...).

    Attributes:
        reason: what went wrong.
        code: the AWS error code, when the failure came from AWS.
    """

    reason: str
    code: str | None

    def __init__(self, reason: str, *, code: str | None = None) -> None:
        self.reason = reason
        self.code = code
        super().__init__(f"{reason} ({code})" if code else reason)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_runner_error, (self.reason, self.code))


def _rebuild_runner_error(reason: str, code: str | None) -> RunnerError:
    return RunnerError(reason, code=code)
