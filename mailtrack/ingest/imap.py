"""An IMAP folder as a mail source: UID checkpoints, BODY.PEEK fetches, IDLE.

- New mail is every UID above the checkpoint's last UID (RFC 3501 UIDs only
  grow within one UIDVALIDITY). When UIDVALIDITY changes, the folder was
  recreated and every UID is new: the whole folder is read again, and the
  archiving step skips what it already holds (by content hash and Message-ID).
- Bodies are fetched with ``BODY.PEEK[]``, which never sets ``\\Seen``: a
  person reading the mailbox still sees what is unread.
- Batches are capped by count and by size, so a 20 MB attachment does not
  travel with a hundred other mails in one response.
- IDLE (RFC 2177) waits for the server's push; the IDLE is renewed well
  before the 29-minute limit the RFC lets servers enforce.
- A ``processed_folder``, when configured, receives mail only after our
  commit (UID MOVE, RFC 6851, or COPY + expunge of those UIDs).
"""

from __future__ import annotations

import contextlib
import logging
import shlex
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailtrack.errors import MailSourceError
from mailtrack.ingest.source import Batch, Checkpoint, FetchedMail

log = logging.getLogger(__name__)
# imapclient traces the whole IMAP conversation at DEBUG on this logger, the mails it
# fetches included. Mail bodies never go to a log, not even under --debug.
logging.getLogger("imapclient.imaplib").setLevel(logging.INFO)

NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # socket errors, timeouts, ssl.SSLError
    IMAPClientError,  # imaplib.IMAP4.error, and .abort beneath it
)
# UIDs per MOVE: some servers refuse command lines longer than a few kilobytes.
MOVE_CHUNK = 500


@dataclass(frozen=True)
class ImapSettings:
    """Everything the IMAP source needs, already validated by the configuration."""

    host: str
    port: int
    security: str  # tls | starttls | none
    username: str
    password: str | None = None
    oauth_token_command: str | None = None
    ca_file: Path | None = None
    folder: str = "INBOX"
    processed_folder: str | None = None
    idle: bool = True
    poll_interval: float = 60.0
    idle_refresh: float = 600.0
    timeout: float = 30.0
    batch_size: int = 100
    batch_bytes: int = 20 * 1024 * 1024


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """A verifying TLS context: the system's authorities, or only ``ca_file`` when given."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def oauth_token(command: str, timeout: float = 30.0) -> str:
    """Run the configured token command (e.g. a helper that refreshes an OAuth token).

    Raises MailSourceError when it fails or prints nothing. Its output is a
    secret: it is never logged.
    """
    try:
        result = subprocess.run(  # noqa: S603 - the operator's own configured command
            shlex.split(command), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise MailSourceError(f"IMAP token command failed: {error}") from error
    token = result.stdout.strip()
    if result.returncode != 0 or not token:
        raise MailSourceError(
            f"IMAP token command exited with status {result.returncode} and "
            f"{'no token' if not token else 'a token'} (stderr: {result.stderr.strip()[:200]!r})"
        )
    return token


class ImapSource:
    """One IMAP folder, read through one connection at a time."""

    def __init__(self, settings: ImapSettings) -> None:
        self.settings = settings
        self.name = f"imap://{settings.username}@{settings.host}:{settings.port}"
        self.client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self._highest_uid = 0

    # -- connection -----------------------------------------------------------

    def open(self) -> None:
        """Connect, authenticate and select the folder. Raises MailSourceError."""
        settings = self.settings
        where = f"{settings.host}:{settings.port}"
        try:
            context = tls_context(settings.ca_file) if settings.security != "none" else None
            client = IMAPClient(
                settings.host,
                port=settings.port,
                ssl=settings.security == "tls",
                ssl_context=context,
                timeout=settings.timeout,
            )
        except ssl.SSLCertVerificationError as error:
            raise MailSourceError(
                f"IMAP server {where}: certificate not trusted ({error.verify_message}); "
                "set imap.ca_file for a private authority"
            ) from error
        except NETWORK_ERRORS as error:
            raise MailSourceError(f"cannot connect to IMAP server {where}: {error}") from error
        try:
            if settings.security == "starttls":
                client.starttls(context)
            if settings.oauth_token_command:
                client.oauth2_login(settings.username, oauth_token(settings.oauth_token_command))
            else:
                client.login(settings.username, settings.password or "")
            selected = client.select_folder(settings.folder, readonly=not settings.processed_folder)
        except LoginError as error:
            _quietly(client.shutdown)
            raise MailSourceError(
                f"IMAP server {where} refused the login of {settings.username}"
            ) from error
        except ssl.SSLCertVerificationError as error:
            _quietly(client.shutdown)
            raise MailSourceError(
                f"IMAP server {where}: certificate not trusted ({error.verify_message}); "
                "set imap.ca_file for a private authority"
            ) from error
        except NETWORK_ERRORS as error:
            _quietly(client.shutdown)
            raise MailSourceError(f"IMAP server {where}: {error}") from error
        self.client = client
        self.uidvalidity = int(selected[b"UIDVALIDITY"])
        log.info(
            "connected to %s, folder %s (UIDVALIDITY %s)", where, settings.folder, self.uidvalidity
        )

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            _quietly(client.logout)
            _quietly(client.shutdown)

    def _client(self) -> IMAPClient:
        if self.client is None:
            raise MailSourceError("IMAP connection is not open")
        return self.client

    # -- fetching -------------------------------------------------------------

    def fetch(self, checkpoint: Checkpoint | None, known: set[str]) -> Iterator[Batch]:
        """Every mail above the checkpoint, in batches capped by count and size."""
        client = self._client()
        uidvalidity = self.uidvalidity or 0
        rescan = checkpoint is not None and checkpoint.uidvalidity != uidvalidity
        if rescan:
            log.warning(
                "UIDVALIDITY of %s changed from %s to %s: reading the folder again",
                self.settings.folder,
                checkpoint.uidvalidity if checkpoint else None,
                uidvalidity,
            )
        last_uid = 0 if checkpoint is None or rescan else checkpoint.last_uid
        self._highest_uid = max(self._highest_uid, last_uid)
        try:
            # "UID n:*" always matches the highest UID, even below n (RFC 3501 6.4.8).
            uids = sorted(
                uid for uid in client.search(["UID", f"{last_uid + 1}:*"]) if uid > last_uid
            )
            if not uids:
                return
            sizes = client.fetch(uids, ["RFC822.SIZE"])
            for chunk in self._chunks(uids, sizes):
                response = client.fetch(chunk, ["BODY.PEEK[]"])
                mails = []
                for uid in chunk:
                    data = response.get(uid, {})
                    raw = data.get(b"BODY[]")
                    if raw is None:
                        # Expunged between SEARCH and FETCH: nothing to archive, move on.
                        continue
                    mails.append(FetchedMail(f"{uidvalidity}:{uid}", bytes(raw)))
                self._highest_uid = max(self._highest_uid, chunk[-1])
                yield Batch(
                    mails,
                    Checkpoint(self.settings.folder, uidvalidity, chunk[-1]),
                    rescan=rescan,
                )
        except NETWORK_ERRORS as error:
            raise MailSourceError(f"IMAP fetch failed: {error}") from error

    def _chunks(self, uids: list[int], sizes: dict[int, Any]) -> Iterator[list[int]]:
        chunk: list[int] = []
        total = 0
        for uid in uids:
            size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0))
            if chunk and (
                len(chunk) >= self.settings.batch_size or total + size > self.settings.batch_bytes
            ):
                yield chunk
                chunk, total = [], 0
            chunk.append(uid)
            total += size
        if chunk:
            yield chunk

    def committed(self, refs: list[str]) -> None:
        return None

    def processed(self, refs: list[str]) -> None:
        """Move handled mail to ``processed_folder`` (only ever after our commit).

        A ref is ``UIDVALIDITY:UID``, so nothing is remembered between fetch and
        move (a service that runs for months keeps no per-mail state); a ref from
        an earlier UIDVALIDITY names a UID of a folder that no longer exists and
        is left alone.
        """
        target = self.settings.processed_folder
        if not target or not refs:
            return
        client = self._client()  # selects the folder: self.uidvalidity is current
        uids = sorted(uid for uid in (self._uid_of(ref) for ref in refs) if uid is not None)
        if not uids:
            return
        try:
            if not client.folder_exists(target):
                client.create_folder(target)
            for start in range(0, len(uids), MOVE_CHUNK):
                chunk = uids[start : start + MOVE_CHUNK]
                if client.has_capability("MOVE"):
                    client.move(chunk, target)
                else:
                    client.copy(chunk, target)
                    client.delete_messages(chunk)
                    if client.has_capability("UIDPLUS"):
                        client.uid_expunge(chunk)
                    else:
                        client.expunge()
        except NETWORK_ERRORS as error:
            raise MailSourceError(f"IMAP move to {target} failed: {error}") from error

    def _uid_of(self, ref: str) -> int | None:
        validity, _, uid = ref.partition(":")
        if not uid.isdigit() or not validity.isdigit() or int(validity) != self.uidvalidity:
            return None
        return int(uid)

    # -- waiting --------------------------------------------------------------

    def _mail_arrived_meanwhile(self, client: IMAPClient) -> bool:
        """Whether mail came in since the last fetch, which an IDLE started now would not announce.

        A server reports new mail (untagged EXISTS) at the end of whatever command
        runs next, and only once: mail that arrived while we processed was
        announced inside a FETCH or SEARCH response and IDLE will stay silent
        about it. So look by UID, and also catch an EXISTS that the SEARCH
        itself carried for mail newer than its result.
        """
        pending = client._imap.untagged_responses  # imaplib keeps unclaimed untagged responses
        pending.pop("EXISTS", None)
        uids = client.search(["UID", f"{self._highest_uid + 1}:*"])
        announced = pending.pop("EXISTS", None)
        return bool(announced) or any(uid > self._highest_uid for uid in uids)

    def wait(self, timeout: float, stop: threading.Event) -> None:
        """IDLE until the server reports a change, ``timeout`` passes or ``stop`` is set.

        Raises MailSourceError when the connection dies, so the caller reconnects.
        """
        client = self._client()
        if not (self.settings.idle and client.has_capability("IDLE")):
            stop.wait(min(timeout, self.settings.poll_interval))
            try:
                client.noop()
            except NETWORK_ERRORS as error:
                raise MailSourceError(f"IMAP connection lost: {error}") from error
            return
        deadline = time.monotonic() + min(timeout, self.settings.idle_refresh)
        try:
            if self._mail_arrived_meanwhile(client):
                return
            client.idle()
            try:
                while not stop.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    started = time.monotonic()
                    responses = client.idle_check(timeout=min(1.0, remaining))
                    if any(_is_change(response) for response in responses):
                        break
                    if not responses and time.monotonic() - started < 0.5:
                        # poll() woke with nothing to read: the server closed the connection.
                        raise MailSourceError("IMAP server closed the connection during IDLE")
            finally:
                client.idle_done()
        except NETWORK_ERRORS as error:
            raise MailSourceError(f"IMAP connection lost during IDLE: {error}") from error


def _is_change(response: Any) -> bool:
    """EXISTS, EXPUNGE or RECENT: the folder changed. "OK Still here" is not a change."""
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and response[1] in (b"EXISTS", b"EXPUNGE", b"RECENT")
    )


def _quietly(action: Any) -> None:
    with contextlib.suppress(*NETWORK_ERRORS):
        action()
