"""What every mail source gives the archiving step, and the protocol it follows.

A source hands out batches of raw mails, each with a reference unique within
that source (``UIDVALIDITY:UID`` for IMAP, the Maildir key) and, for IMAP, the
checkpoint to store *in the same transaction* as the batch, so the archive
and the checkpoint can never disagree after a crash.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Checkpoint:
    """How far an IMAP folder has been archived."""

    folder: str
    uidvalidity: int
    last_uid: int


@dataclass(frozen=True)
class FetchedMail:
    """One raw mail as fetched, with its reference in the source."""

    ref: str
    raw: bytes


@dataclass(frozen=True)
class Batch:
    """Mails to archive together, and the checkpoint that holds once they are."""

    mails: list[FetchedMail]
    checkpoint: Checkpoint | None = None
    # After a UIDVALIDITY change every UID is new: skip mails already archived
    # under their old UID, recognised by their Message-ID as well as their bytes.
    rescan: bool = False
    refs_known: list[str] = field(default_factory=list)


class MailSource(Protocol):
    """A place mail arrives: an IMAP folder, a Maildir, a list in memory for tests."""

    name: str

    def open(self) -> None:
        """Connect; raises MailSourceError when the source cannot be reached."""

    def close(self) -> None:
        """Disconnect; never raises."""

    def fetch(self, checkpoint: Checkpoint | None, known: set[str]) -> Iterator[Batch]:
        """New mail since ``checkpoint`` (IMAP) or not in ``known`` (Maildir), in batches."""
        ...

    def committed(self, refs: list[str]) -> None:
        """The mails ``refs`` are archived and committed: the source may now mark or move them."""

    def processed(self, refs: list[str]) -> None:
        """The mails ``refs`` are fully handled (an IMAP source may move them to another folder)."""

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """Block until new mail may be there, ``timeout`` seconds pass, or ``stop`` is set."""
