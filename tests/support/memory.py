"""A mail source in memory: the seam where unit tests replace IMAP and Maildir."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from mailtrack.ingest.source import Batch, Checkpoint, FetchedMail


class MemorySource:
    """Mails appended by the test; every ref is its position, like a UID."""

    def __init__(self, name: str = "memory:test", batch_size: int = 10) -> None:
        self.name = name
        self.batch_size = batch_size
        self.mails: list[bytes] = []
        self.committed_refs: list[str] = []
        self.processed_refs: list[str] = []
        self.opened = 0

    def add(self, *raws: bytes) -> None:
        self.mails.extend(raws)

    def open(self) -> None:
        self.opened += 1

    def close(self) -> None:
        return None

    def fetch(self, checkpoint: Checkpoint | None, known: set[str]) -> Iterator[Batch]:
        last = checkpoint.last_uid if checkpoint else 0
        pending = [(uid, raw) for uid, raw in enumerate(self.mails, start=1) if uid > last]
        for start in range(0, len(pending), self.batch_size):
            chunk = pending[start : start + self.batch_size]
            yield Batch(
                [FetchedMail(f"1:{uid}", raw) for uid, raw in chunk],
                Checkpoint("INBOX", 1, chunk[-1][0]),
            )

    def committed(self, refs: list[str]) -> None:
        self.committed_refs.extend(refs)

    def processed(self, refs: list[str]) -> None:
        self.processed_refs.extend(refs)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(0.01)
