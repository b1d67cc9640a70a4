"""A small disk of its own for a test: a tmpfs mounted on a temporary directory (we run as root, here
and in CI), that the test can fill to the last byte and free again."""

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def small_tmpfs(directory: Path, size: str = "8m") -> Iterator[Path]:
    """Mount a tmpfs of `size` on `directory` (created if needed); unmount it afterwards, lazily if a
    process still holds a file there, so no mount outlives the test. Fails (never skips) when the
    mount is not possible."""
    directory.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(directory)],
        capture_output=True,
        text=True,
    )
    assert mounted.returncode == 0, f"cannot mount a tmpfs on {directory} (the test needs root): {mounted.stderr}"
    try:
        yield directory
    finally:
        if subprocess.run(["umount", str(directory)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(directory)], check=True)


def fill(path: Path) -> int:
    """Append to `path` until the file system says ENOSPC, in ever smaller writes down to one byte, so
    that not a byte is left for anything else. Returns how many bytes were written."""
    written = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            chunk = b"\0" * size
            try:
                while True:
                    written += os.write(descriptor, chunk)
            except OSError as error:
                if error.errno != errno.ENOSPC:  # else this size no longer fits: try a smaller one
                    raise
    finally:
        os.close(descriptor)
    return written


def free_bytes(directory: Path) -> int:
    stats = os.statvfs(directory)
    return stats.f_bavail * stats.f_frsize


def release(path: Path, size: int) -> None:
    """Give `size` bytes of a filled disk back, from the end of the file that filled it."""
    os.truncate(path, max(0, path.stat().st_size - size))
