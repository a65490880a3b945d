"""A redrive's S3 source: Lambda's S3 on-failure destination (see :mod:`._redrive_source`
for what a source is).

:class:`S3Source` reads one S3 object (``s3://bucket/key``) or every object under a prefix
(``s3://bucket/prefix/``). Each object is one record, holding the batch's invocation event in
its ``payload``: the records are taken from it, not read from the stream. An object is marked
done by the tag ``streamflow-redriven=true`` (added to its other tags), and objects so tagged
are skipped. Its AWS calls go through :class:`~._redrive_aws.SourceCalls`, as the queue's do.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from functools import partial
from typing import Any

from streamflow.errors import RunnerConfigError, RunnerError
from streamflow.runner._aws import error_code
from streamflow.runner._redrive_aws import SourceCalls, direct_calls
from streamflow.runner._redrive_source import Item, ReadThrough, _item

__all__ = ["DONE_TAG", "S3Source"]

_LAMBDA_KEY = re.compile(r"(.*/\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2})-[0-9A-Fa-f-]{36}")
"""Lambda's key of an S3 destination's object, ``.../<shardId>/YYYY/MM/DD/`` then
``YYYY-MM-DDTHH.MM.SS-<UUID>``: the UUID is random, so key order is not write order within
one second."""


def _same_second(key: str) -> str:
    """The key without its random UUID, for a key in Lambda's form (a shard and a second);
    the key itself otherwise."""
    match = _LAMBDA_KEY.fullmatch(key)
    return match.group(1) if match else key


def _stream_order(item: Item) -> tuple[int, int]:
    """Batches in the order of their first sequence number; malformed ones after them."""
    return (0, int(item.info.start)) if item.info is not None else (1, 0)


DONE_TAG = "streamflow-redriven"
"""The tag that marks an S3 object done (value ``true``)."""


class S3Source(ReadThrough):
    """S3 objects of on-failure records (see the module docstring).

    Args:
        client: a boto3 S3 client.
        uri: ``s3://bucket/key`` (that object) or ``s3://bucket/prefix/`` (every object
            under the prefix, in key order; ``s3://bucket`` for the whole bucket).
        calls: how AWS calls are made (default: transient errors waited out silently).

    Raises:
        RunnerConfigError: the URI names no bucket.
    """

    def __init__(self, client: Any, uri: str, *, calls: SourceCalls | None = None) -> None:
        bucket, _, key = uri[len("s3://") :].partition("/")
        if not bucket:
            raise RunnerConfigError("source", f"{uri}: no bucket (s3://BUCKET/KEY or PREFIX/)")
        self.client = client
        self.uri = uri
        self.bucket = bucket
        self.key = key
        self.prefix = key == "" or key.endswith("/")
        self.calls = calls or direct_calls()

    def describe(self) -> str:
        return self.uri

    def _keys(self) -> list[str]:
        """The keys to read, in key order. A key without a final ``/`` is that object, or,
        when there is none, the prefix ``key/`` (``run --on-failure s3://B/PREFIX`` writes
        under it).

        Raises:
            RunnerError: neither an object nor a prefix holding one.
        """
        if self.prefix:
            return self._listed(self.key)
        if self.calls.read("HeadObject", partial(self._exists, self.key)):
            return [self.key]
        listed = self._listed(self.key + "/")
        if not listed:
            raise RunnerError(
                f"{self.uri}: no such object, and no object under s3://{self.bucket}/{self.key}/"
            )
        return listed

    def _listed(self, prefix: str) -> list[str]:
        """Every object's key under ``prefix``, in key order (every page)."""
        keys: list[str] = []
        token: str | None = None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self.calls.read(
                "ListObjectsV2",
                partial(self.client.list_objects_v2, Bucket=self.bucket, Prefix=prefix, **extra),
            )
            keys += [
                entry["Key"]
                for entry in page.get("Contents") or []
                if not entry["Key"].endswith("/")  # a console "folder"
            ]
            token = page.get("NextContinuationToken") if page.get("IsTruncated") else None
            if not token:
                return keys

    def _tags(self, key: str, version: str | None) -> list[dict[str, str]]:
        extra = {"VersionId": version} if version else {}
        response = self.calls.read(
            "GetObjectTagging",
            lambda: self.client.get_object_tagging(Bucket=self.bucket, Key=key, **extra),
        )
        return list(response.get("TagSet") or [])

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def _get(self, key: str) -> tuple[bytes, str | None]:
        """The object's body and version (``None`` unversioned), read whole: a read cut
        short is retried from the start."""
        response = self.client.get_object(Bucket=self.bucket, Key=key)
        version = response.get("VersionId")
        return response["Body"].read(), version if version and version != "null" else None

    def items(self) -> Iterator[Item]:
        """Each object not tagged done (one record per object), in key order, except that
        the objects Lambda wrote for one shard within one second (their keys differ only in
        the random UUID at the end) come in the order of their batches' sequence numbers.

        Raises:
            Stopped: a stop was requested while a throttled call was waited out.
            Exception: an AWS error that is not transient (no such bucket or key, access
                denied).
        """
        keys = self._keys()
        self.left = len(keys)
        for _, group in itertools.groupby(keys, key=_same_second):
            read = []
            for key in group:
                self.left -= 1
                item = self._read(key)
                if item is not None:
                    read.append(item)
            read.sort(key=_stream_order)  # stable: malformed ones stay in key order, last
            yield from read

    def _read(self, key: str) -> Item | None:
        """The object's item, or ``None`` when it is tagged done."""
        body, version = self.calls.read("GetObject", partial(self._get, key))
        tags = self._tags(key, version)
        if any(tag.get("Key") == DONE_TAG and tag.get("Value") == "true" for tag in tags):
            return None
        where = f"s3://{self.bucket}/{key}"
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            return Item(where, problem=f"not UTF-8 text: {exc}", token=(key, version, tags))
        return _item(where, text, (key, version, tags))

    def ack(self, item: Item) -> None:
        """Tag the object (the version read) ``streamflow-redriven=true``, keeping its
        other tags.

        Raises:
            Exception: an AWS error that is not transient, or still throttled after
                :data:`ACK_ATTEMPTS` tries (the object then stays untagged).
        """
        key, version, tags = item.token
        kept = [tag for tag in tags if tag.get("Key") != DONE_TAG]
        extra = {"VersionId": version} if version else {}
        self.calls.finish(
            "PutObjectTagging",
            lambda: self.client.put_object_tagging(
                Bucket=self.bucket,
                Key=key,
                Tagging={"TagSet": [*kept, {"Key": DONE_TAG, "Value": "true"}]},
                **extra,
            ),
        )
