"""Checkpoints: where each shard of each stream was left, kept durably in one JSON file.

The file is rewritten whole after every completed batch: written to a temporary file in the
same directory, flushed to disk (``fsync``), then renamed over the old one (``os.replace``,
atomic on POSIX and Windows), and the directory is synced so the rename survives a power
cut. A reader therefore always finds either the old file or the new one, never a mix, and
``kill -9`` at any moment loses nothing that was checkpointed.

Format (``version`` 1)::

    {
      "version": 1,
      "streams": {
        "<stream ARN>": {
          "table": "<table name>",
          "shards": {
            "<shard id>": {
              "sequenceNumber": "<last processed sequence number, or null>",
              "finished": false,
              "latestSince": "2025-01-01T12:00:00Z",
              "updatedAt": "2025-01-01T12:00:00Z",
              "window": {"start": "2025-01-01T12:00:00Z", "state": {}}
            }
          }
        }
      }
    }

``sequenceNumber`` is the last record processed (delivered, filtered out or discarded); the
runner resumes AFTER_SEQUENCE_NUMBER it. ``null`` means no record was processed yet: with
``latestSince``, the shard was started at LATEST at that time, and a restart reads the shard
from TRIM_HORIZON, skipping records created before that second, so that records written while
the runner was down are not lost; without it, the shard started from TRIM_HORIZON and is read
from there again. ``finished`` marks a closed shard that was read to its end
(or skipped, when starting at LATEST). ``window`` appears only with tumbling windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from streamflow.codec._wire import json_type
from streamflow.errors import RunnerConfigError

__all__ = ["CheckpointStore", "ShardCheckpoint"]

VERSION = 1


@dataclass(frozen=True, slots=True)
class ShardCheckpoint:
    """Where one shard was left."""

    sequence_number: str | None
    finished: bool = False
    latest_since: int | None = None
    window_start: int | None = None
    window_state: dict[str, Any] | None = field(default=None, compare=False)


class CheckpointStore:
    """Checkpoints of every shard; durable in ``path`` (JSON), or in memory for ``None``.

    Thread-safe: shard workers commit concurrently.
    """

    def __init__(self, path: str | None) -> None:
        self.path = os.path.abspath(path) if path else None
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {"version": VERSION, "streams": {}}
        if self.path is not None and os.path.exists(self.path):
            self._data = _read(self.path)

    def has_stream(self, stream_arn: str) -> bool:
        """True when this stream was read before (any shard checkpointed)."""
        with self._lock:
            return bool(self._data["streams"].get(stream_arn, {}).get("shards"))

    def get(self, stream_arn: str, shard_id: str) -> ShardCheckpoint | None:
        """The shard's checkpoint, or ``None`` if it was never checkpointed."""
        with self._lock:
            entry = self._data["streams"].get(stream_arn, {}).get("shards", {}).get(shard_id)
        if entry is None:
            return None
        window = entry.get("window")
        return ShardCheckpoint(
            sequence_number=entry.get("sequenceNumber"),
            finished=bool(entry.get("finished", False)),
            latest_since=_parse_time(entry["latestSince"]) if entry.get("latestSince") else None,
            window_start=_parse_time(window["start"]) if window else None,
            window_state=dict(window.get("state") or {}) if window else None,
        )

    def commit(self, stream_arn: str, table: str, shards: dict[str, ShardCheckpoint]) -> None:
        """Record new checkpoints and, with a file, write it durably before returning.

        Raises:
            OSError: the file cannot be written (the run stops: nothing is lost).
        """
        now = _format_time(time.time())
        with self._lock:
            stream = self._data["streams"].setdefault(stream_arn, {"table": table, "shards": {}})
            stream["table"] = table
            for shard_id, checkpoint in shards.items():
                entry: dict[str, Any] = {
                    "sequenceNumber": checkpoint.sequence_number,
                    "finished": checkpoint.finished,
                    "updatedAt": now,
                }
                if checkpoint.sequence_number is None and checkpoint.latest_since is not None:
                    entry["latestSince"] = _format_time(checkpoint.latest_since)
                if checkpoint.window_start is not None:
                    entry["window"] = {
                        "start": _format_time(checkpoint.window_start),
                        "state": checkpoint.window_state or {},
                    }
                stream["shards"][shard_id] = entry
            if self.path is not None:
                _write_atomically(self.path, json.dumps(self._data, indent=2, sort_keys=True))


def _read(path: str) -> dict[str, Any]:
    """The checkpoint document in ``path``, checked whole before the run uses any of it.

    Raises:
        RunnerConfigError: the file cannot be read, is not JSON, or is not a valid
            checkpoint document: naming the file, the place (``["streams"][...]``) and
            what is wrong there.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise RunnerConfigError("checkpoint", f"cannot read {path}: {exc}") from None
    except RecursionError:
        raise RunnerConfigError(
            "checkpoint", f"cannot read {path}: it nests too deeply to be a checkpoint"
        ) from None
    version = data.get("version") if isinstance(data, dict) else None
    if not isinstance(data, dict) or type(version) is not int or version != VERSION:
        found = f"version {_shown(version)}" if isinstance(data, dict) else json_type(data)
        raise RunnerConfigError(
            "checkpoint",
            f"cannot read {path}: not a streamflow checkpoint file (version {VERSION}); "
            f"found {found}",
        )
    problem = _problem(data)
    if problem is not None:
        raise RunnerConfigError("checkpoint", f"cannot read {path}: {problem}")
    return data


def _problem(data: dict[str, Any]) -> str | None:
    """What is wrong with a checkpoint document, and where; ``None`` if nothing is. Every
    field the runner reads must have the type it needs; unknown fields are left alone."""
    streams = data.get("streams")
    if not isinstance(streams, dict):
        return f'["streams"] must be an object, got {json_type(streams)}'
    for arn, stream in streams.items():
        at = f'["streams"][{json.dumps(arn)}]'
        if not isinstance(stream, dict):
            return f"{at} must be an object, got {json_type(stream)}"
        if not isinstance(stream.get("table"), str):
            return f'{at}["table"] must be a table name, got {_shown(stream.get("table"))}'
        shards = stream.get("shards")
        if not isinstance(shards, dict):
            return f'{at}["shards"] must be an object, got {json_type(shards)}'
        for shard_id, entry in shards.items():
            problem = _shard_problem(entry, f'{at}["shards"][{json.dumps(shard_id)}]')
            if problem is not None:
                return problem
    return None


def _shard_problem(entry: object, at: str) -> str | None:
    if not isinstance(entry, dict):
        return f"{at} must be an object, got {json_type(entry)}"
    if "sequenceNumber" not in entry or "finished" not in entry:
        return f'{at} must hold "sequenceNumber" and "finished"'
    sequence = entry["sequenceNumber"]
    if sequence is not None and not (
        isinstance(sequence, str) and sequence.isascii() and sequence.isdigit()
    ):
        return f'{at}["sequenceNumber"] must be a sequence number or null, got {_shown(sequence)}'
    if not isinstance(entry["finished"], bool):
        return f'{at}["finished"] must be true or false, got {_shown(entry["finished"])}'
    for name in ("latestSince", "updatedAt"):
        if entry.get(name) is not None and not _is_time(entry[name]):
            return f"{at}[{json.dumps(name)}] {_NOT_A_TIME}, got {_shown(entry[name])}"
    window = entry.get("window")
    if window is None:
        return None
    if not isinstance(window, dict):
        return f'{at}["window"] must be an object or null, got {json_type(window)}'
    if not _is_time(window.get("start")):
        return f'{at}["window"]["start"] {_NOT_A_TIME}, got {_shown(window.get("start"))}'
    if not isinstance(window.get("state", {}), dict):
        return f'{at}["window"]["state"] must be an object, got {json_type(window["state"])}'
    return None


_NOT_A_TIME = "must be a UTC time such as 2025-01-01T12:00:00Z"


def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        _parse_time(value)
    except (ValueError, OverflowError):
        return False
    return True


def _shown(value: object) -> str:
    """The value as JSON, shortened; an object or array by its type."""
    if isinstance(value, (dict, list)):
        return json_type(value)
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:56] + '..."'


def _write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename itself durable
        folder = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _format_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _parse_time(text: str) -> int:
    import calendar

    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
