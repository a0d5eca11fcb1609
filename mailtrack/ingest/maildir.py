"""A Maildir as a mail source: local delivery (Postfix or Dovecot on the same host) and the demo.

A mail is new while its key is unknown to the database; after its archive
commit it moves from ``new/`` to ``cur/`` (flag ``S``) so a mail client shows
it as read. A crash between the commit and the move leaves the file in
``new/``; the next scan sees its key is known and only moves it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from mailtrack.errors import MailSourceError
from mailtrack.ingest.source import Batch, Checkpoint, FetchedMail

log = logging.getLogger(__name__)


class MaildirSource:
    """Reads ``new/`` and ``cur/`` of one Maildir."""

    def __init__(self, path: Path, poll_interval: float = 1.0, batch_size: int = 100) -> None:
        self.path = path
        self.name = f"maildir:{path}"
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self._locations: dict[str, Path] = {}

    def open(self) -> None:
        for sub in ("new", "cur", "tmp"):
            if not (self.path / sub).is_dir():
                raise MailSourceError(f"{self.path} is not a Maildir (no {sub}/ folder)")

    def close(self) -> None:
        self._locations.clear()

    def _scan(self) -> dict[str, Path]:
        found: dict[str, Path] = {}
        for sub in ("new", "cur"):
            try:
                entries = sorted(os.scandir(self.path / sub), key=lambda entry: entry.name)
            except OSError as error:
                raise MailSourceError(f"cannot read {self.path / sub}: {error}") from error
            for entry in entries:
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                key = entry.name.split(":", 1)[0]
                found.setdefault(key, Path(entry.path))
        return found

    def fetch(self, checkpoint: Checkpoint | None, known: set[str]) -> Iterator[Batch]:
        self._locations = self._scan()
        already = [key for key in self._locations if key in known]
        if already:
            self.committed(already)  # finish moves a crash interrupted
        fresh = [key for key in self._locations if key not in known]
        for start in range(0, len(fresh), self.batch_size):
            mails: list[FetchedMail] = []
            for key in fresh[start : start + self.batch_size]:
                try:
                    mails.append(FetchedMail(key, self._locations[key].read_bytes()))
                except FileNotFoundError:
                    continue  # taken by someone else between the scan and the read
                except OSError as error:
                    raise MailSourceError(f"cannot read {self._locations[key]}: {error}") from error
            yield Batch(mails)

    def committed(self, refs: list[str]) -> None:
        for key in refs:
            path = self._locations.get(key)
            if path is None or path.parent.name != "new":
                continue
            target = self.path / "cur" / f"{key}:2,S"
            try:
                os.replace(path, target)
                self._locations[key] = target
            except FileNotFoundError:
                continue
            except OSError as error:  # a read-only Maildir still works; it just stays "unread"
                log.warning("cannot mark %s as read in %s: %s", key, self.path, error)

    def processed(self, refs: list[str]) -> None:
        return None

    def wait(self, timeout: float, stop: threading.Event) -> None:
        stop.wait(min(timeout, self.poll_interval))
