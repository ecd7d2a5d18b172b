"""Uploading one weight file: a single PUT below the multipart threshold, else a multipart upload
that resumes an interrupted one part by part.

A 140 GB model is a few thousand 64 MiB parts; a push cut off at 90 % used to start the file over.
Now the upload an earlier push left open for the same key (S3 keeps it until it is completed or
aborted, or a lifecycle rule aborts it) is found with ListMultipartUploads, its parts are listed,
and each part S3 already holds with this file's bytes (the part's SHA-256 checksum, or where a
store has no checksums its MD5 ETag) is kept; only the missing or different parts are sent.

The object's metadata (the file's sha256) is fixed when the upload is created, so a resumed upload
is completed only if that metadata names this file; otherwise the finished object is replaced by
a fresh upload.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

CHECKSUM_ALGORITHM = "SHA256"


class Bucket(Protocol):
    """What an upload needs of weights_store.WeightsBucket."""

    @property
    def client(self) -> Any: ...

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class StoredPart:
    size: int
    etag: str
    checksum: str | None


@dataclass(frozen=True)
class LocalPart:
    number: int
    offset: int
    size: int


def local_parts(size: int, part: int) -> list[LocalPart]:
    return [LocalPart(n + 1, offset, min(part, size - offset)) for n, offset in enumerate(range(0, size, part))]


def _read(path: Path, part: LocalPart) -> bytes:
    with path.open("rb") as handle:
        handle.seek(part.offset)
        return handle.read(part.size)


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _holds_part(stored: StoredPart | None, data: bytes) -> bool:
    """S3 already has this part's bytes: by its SHA-256 checksum, else (a store without flexible
    checksums) by the ETag, which for an unencrypted or store-encrypted part is its MD5."""
    if stored is None or stored.size != len(data):
        return False
    if stored.checksum is not None:
        return stored.checksum == _sha256_b64(data)
    return stored.etag.strip('"') == hashlib.md5(data, usedforsecurity=False).hexdigest()


def open_upload(bucket: Bucket, key: str, checksums: bool) -> str | None:
    """The newest upload an earlier push left open for this key, aborting any others; None if none
    (or only ones started without this push's checksum algorithm, which cannot take its parts)."""
    found = []
    for page in bucket.client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket.name, Prefix=key):
        found += [u for u in page.get("Uploads", []) if u["Key"] == key]
    found.sort(key=lambda u: str(u.get("Initiated", "")), reverse=True)
    usable = [u for u in found if not checksums or u.get("ChecksumAlgorithm") == CHECKSUM_ALGORITHM]
    keep = usable[0]["UploadId"] if usable else None
    for upload in found:
        if upload["UploadId"] != keep:
            bucket.client.abort_multipart_upload(Bucket=bucket.name, Key=key, UploadId=upload["UploadId"])
    return keep


def stored_parts(bucket: Bucket, key: str, upload_id: str) -> dict[int, StoredPart]:
    parts: dict[int, StoredPart] = {}
    pages = bucket.client.get_paginator("list_parts").paginate(Bucket=bucket.name, Key=key, UploadId=upload_id)
    for page in pages:
        for part in page.get("Parts", []):
            parts[part["PartNumber"]] = StoredPart(part["Size"], part["ETag"], part.get("ChecksumSHA256"))
    return parts


@dataclass
class MultipartUpload:
    """One file's multipart upload to one key: `run` sends what the open upload lacks and completes it."""

    bucket: Bucket
    path: Path
    key: str
    part_size: int
    extra_args: dict[str, Any]
    callback: Callable[[int], None]
    concurrency: int = 8

    @property
    def checksums(self) -> bool:
        return self.extra_args.get("ChecksumAlgorithm") == CHECKSUM_ALGORITHM

    def run(self, resume: bool = True) -> int:
        """Upload the file; returns how many parts an earlier upload had already stored."""
        client, size = self.bucket.client, self.path.stat().st_size
        upload_id = open_upload(self.bucket, self.key, self.checksums) if resume else None
        resumed = upload_id is not None
        if upload_id is None:
            created = client.create_multipart_upload(Bucket=self.bucket.name, Key=self.key, **self.extra_args)
            upload_id = created["UploadId"]
        have = stored_parts(self.bucket, self.key, upload_id) if resumed else {}
        pool = ThreadPoolExecutor(max_workers=self.concurrency)
        try:
            parts = local_parts(size, self.part_size)
            results = list(pool.map(lambda p: self._part(upload_id, p, have.get(p.number)), parts))
        except BaseException:
            # A failed part or Ctrl-C: the parts in flight finish (and are kept for the next push),
            # the queued ones never start, and the upload stays open to be resumed.
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
        client.complete_multipart_upload(
            Bucket=self.bucket.name,
            Key=self.key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [entry for entry, _ in results]},
        )
        if resumed and not self._metadata_names_this_file():
            # The open upload was another file's (its parts matched only where the files agree):
            # its object carries that file's sha256, so it is uploaded again, whole (progress is done).
            replace(self, callback=lambda _: None).run(resume=False)
            return 0
        return sum(1 for _, reused in results if reused)

    def _part(self, upload_id: str, part: LocalPart, stored: StoredPart | None) -> tuple[dict[str, Any], bool]:
        data = _read(self.path, part)
        entry: dict[str, Any] = {"PartNumber": part.number}
        if _holds_part(stored, data):
            assert stored is not None
            entry["ETag"] = stored.etag
            if self.checksums:
                entry["ChecksumSHA256"] = _sha256_b64(data)
            self.callback(part.size)
            return entry, True
        checksum = {"ChecksumSHA256": _sha256_b64(data)} if self.checksums else {}
        answer = self.bucket.client.upload_part(
            Bucket=self.bucket.name,
            Key=self.key,
            UploadId=upload_id,
            PartNumber=part.number,
            Body=data,
            **checksum,
        )
        entry["ETag"] = answer["ETag"]
        entry.update(checksum)
        self.callback(part.size)
        return entry, False

    def _metadata_names_this_file(self) -> bool:
        wanted = (self.extra_args.get("Metadata") or {}).get("sha256")
        found = self.bucket.client.head_object(Bucket=self.bucket.name, Key=self.key).get("Metadata", {})
        return wanted is None or found.get("sha256") == wanted
