"""The filesystem blob store (PARLEY_BLOB_DIR): content-addressed, written atomically, fsynced.

A blob lives at `<dir>/<aa>/<bb>/<sha256>` (two levels of fan-out keep directories small). Bytes are
written to `<dir>/tmp/<random>` as they arrive, fsynced, then renamed into place (the directory
fsynced too), so a blob is whole whenever it has its name, and a crash leaves at most a stray
temporary file (the sweep removes those older than a day). Blocking: call it from worker threads."""

import contextlib
import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import BinaryIO

HEAD_BYTES = 64 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
STRAY_TEMPORARY_SECONDS = 24 * 3600


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class FileBlobWriter:
    def __init__(self, store: "FilesystemBlobStore") -> None:
        self.store = store
        self.path = store.tmp / secrets.token_hex(16)
        self.file: BinaryIO = open(self.path, "xb")
        self.digest = hashlib.sha256()
        self._size = 0
        self._head = bytearray()

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.digest.update(chunk)
        self._size += len(chunk)
        if len(self._head) < HEAD_BYTES:
            self._head += chunk[: HEAD_BYTES - len(self._head)]

    def head(self) -> bytes:
        return bytes(self._head)

    def commit(self) -> str:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        sha256 = self.digest.hexdigest()
        target = self.store.path_of(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, target)  # atomic: the same bytes under the same name, whoever wins
        _fsync_dir(target.parent)
        return sha256

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # closing or removing what is already gone changes nothing
            self.file.close()
        self.path.unlink(missing_ok=True)


class FileBlobReader:
    def __init__(self, path: Path, chunk_size: int) -> None:
        self.file: BinaryIO = open(path, "rb")
        self.size = os.fstat(self.file.fileno()).st_size
        self.chunk_size = chunk_size

    def read_chunk(self) -> bytes:
        return self.file.read(self.chunk_size)

    def close(self) -> None:
        self.file.close()


class FilesystemBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError("a blob is named by a lower-case hex SHA-256")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def writer(self) -> FileBlobWriter:
        return FileBlobWriter(self)

    def put(self, data: bytes) -> str:
        writer = self.writer()
        try:
            writer.write(data)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise

    def read(self, sha256: str) -> bytes | None:
        try:
            return self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def chunks(self, sha256: str, chunk_size: int = 65536) -> FileBlobReader | None:
        try:
            return FileBlobReader(self.path_of(sha256), chunk_size)
        except FileNotFoundError:
            return None

    def remove(self, sha256: str) -> None:
        self.path_of(sha256).unlink(missing_ok=True)

    def digests(self, older_than: float = 0.0) -> list[str]:
        cutoff = time.time() - older_than
        found = []
        for path in self.root.glob("??/??/*"):
            with contextlib.suppress(FileNotFoundError):
                if SHA256.match(path.name) and path.stat().st_mtime <= cutoff:
                    found.append(path.name)
        return found

    def remove_stray_temporaries(self, older_than: float = STRAY_TEMPORARY_SECONDS) -> int:
        """Temporary files a crashed upload left behind (an upload in progress is younger)."""
        removed, cutoff = 0, time.time() - older_than
        for path in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
        return removed
