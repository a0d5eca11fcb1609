"""The raw mail archive: every received mail's exact bytes, addressed by their SHA-256.

Content addressing makes writing idempotent: the same bytes always go to the
same path, so a crash between writing a file and committing its database row
leaves at worst an orphan file that the retry rewrites in place. A file is
written to a temporary name, flushed to disk, then renamed, so a reader never
sees half a mail. Files are never changed afterwards; ``verify`` re-hashes
them to prove it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from mailtrack.errors import MailtrackError


class ArchiveError(MailtrackError, OSError):
    """Raised when the archive cannot be written (disk full, permissions) or a file is missing."""


@dataclass(frozen=True)
class Stored:
    sha256: str
    path: str  # relative to the data directory, as stored in the database
    size: int


class RawArchive:
    """Raw mails under ``data_dir/archive/ab/cd/<sha256>.eml``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.root = data_dir / "archive"

    @staticmethod
    def digest(raw: bytes) -> str:
        return hashlib.sha256(raw).hexdigest()

    def relative_path(self, sha256: str) -> str:
        return f"archive/{sha256[:2]}/{sha256[2:4]}/{sha256}.eml"

    def store(self, raw: bytes) -> Stored:
        """Write ``raw`` durably (unless already there) and say where.

        Raises ArchiveError when the file cannot be written.
        """
        sha256 = self.digest(raw)
        relative = self.relative_path(sha256)
        path = self.data_dir / relative
        try:
            if path.exists() and path.stat().st_size == len(raw):
                return Stored(sha256, relative, len(raw))
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(temporary, "wb") as handle:
                handle.write(raw)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)  # the rename itself must survive a power cut
            finally:
                os.close(directory)
        except OSError as error:
            raise ArchiveError(f"cannot write to the mail archive {self.root}: {error}") from error
        return Stored(sha256, relative, len(raw))

    def load(self, relative: str) -> bytes:
        """The bytes stored at ``relative``; raises ArchiveError when missing or unreadable."""
        try:
            return (self.data_dir / relative).read_bytes()
        except OSError as error:
            raise ArchiveError(f"archived mail {relative} cannot be read: {error}") from error
