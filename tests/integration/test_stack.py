"""The throwaway servers behave as the other integration tests assume.

Mail flows SMTP -> Postfix -> LMTP -> Dovecot -> IMAP with plus-addressing intact; TLS
verifies against the generated test CA and only against it; Dovecot restarts on the same
ports; PostgreSQL hands out a fresh database per test and survives a restart.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
import time
import uuid
from email import message_from_bytes
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from stack.mailstack import MailStack
from stack.pgserver import PgServer

pytestmark = pytest.mark.integration

USER = "actas@tracker.test"
# Postfix delivers asynchronously through its queue; normally in well under a second.
DELIVERY_TIMEOUT = 20.0


def _message(to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "secretaria@example.test"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Acta de la reunión.\n")
    return msg


def _tls_context(stack: MailStack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.ca_file))


def _fetch_by_subject(stack: MailStack, user: str, subject: str) -> bytes:
    """Poll `user`'s INBOX over IMAP until a message with `subject` is there; return it."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    with IMAPClient(stack.host, port=stack.imap_port, ssl=False, timeout=10) as client:
        client.login(user, stack.password)
        client.select_folder("INBOX", readonly=True)
        while True:
            uids = client.search(["SUBJECT", subject])
            if uids:
                raw: bytes = client.fetch(uids, ["BODY.PEEK[]"])[uids[0]][b"BODY[]"]
                return raw
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{subject!r} not in {user}'s INBOX after {DELIVERY_TIMEOUT} s"
                )
            time.sleep(0.05)
            client.noop()


def test_smtp_mail_to_plus_address_lands_in_base_inbox(mail_stack: MailStack) -> None:
    subject = f"acta {uuid.uuid4().hex}"
    with smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(_message("actas+tok123@tracker.test", subject))

    delivered = message_from_bytes(_fetch_by_subject(mail_stack, USER, subject))

    assert delivered["Delivered-To"] == "actas+tok123@tracker.test"
    assert delivered["Subject"] == subject


def test_lmtp_delivery_is_stored_before_it_returns(mail_stack: MailStack) -> None:
    user = f"u{uuid.uuid4().hex[:8]}@other.test"
    maildir = mail_stack.add_user(user)

    local, domain = user.split("@")
    mail_stack.deliver_lmtp(f"{local}+x@{domain}", _message(user, "x").as_bytes())

    assert len(list((maildir / "new").iterdir())) == 1


def test_imaps_verifies_with_test_ca(mail_stack: MailStack) -> None:
    context = _tls_context(mail_stack)
    with IMAPClient(
        mail_stack.host, port=mail_stack.imaps_port, ssl=True, ssl_context=context, timeout=10
    ) as client:
        client.login(USER, mail_stack.password)
    # The certificate also names "localhost", for clients configured with that host name.
    with (
        socket.create_connection((mail_stack.host, mail_stack.imaps_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.recv(100).startswith(b"* OK")


def test_imaps_fails_verification_without_test_ca(mail_stack: MailStack) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(
            mail_stack.host,
            port=mail_stack.imaps_port,
            ssl=True,
            ssl_context=ssl.create_default_context(),
            timeout=10,
        )


def test_imap_starttls_verifies_with_test_ca(mail_stack: MailStack) -> None:
    with IMAPClient(mail_stack.host, port=mail_stack.imap_port, ssl=False, timeout=10) as client:
        client.starttls(_tls_context(mail_stack))
        client.login(USER, mail_stack.password)
        assert client.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] > 0


def test_smtp_starttls_verifies_with_test_ca(mail_stack: MailStack) -> None:
    with smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=_tls_context(mail_stack))
        code, _ = smtp.ehlo()
        assert code == 250
        assert isinstance(smtp.sock, ssl.SSLSocket)
        assert smtp.sock.version() in {"TLSv1.2", "TLSv1.3"}


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_smtp_auth_accepts_stack_password_only(mail_stack: MailStack, mechanism: str) -> None:
    with smtplib.SMTP(mail_stack.host, mail_stack.smtp_port, timeout=10) as smtp:
        smtp.starttls(context=_tls_context(mail_stack))
        smtp.ehlo()
        authenticator = smtp.auth_plain if mechanism == "PLAIN" else smtp.auth_login
        smtp.user, smtp.password = USER, "wrong-password"
        with pytest.raises(smtplib.SMTPAuthenticationError):
            smtp.auth(mechanism, authenticator)
        smtp.password = mail_stack.password
        code, _ = smtp.auth(mechanism, authenticator)
        assert code == 235


def test_doveadm_recreating_a_mailbox_changes_uidvalidity(mail_stack: MailStack) -> None:
    mailbox = f"Scratch{uuid.uuid4().hex[:6]}"

    def uidvalidity() -> str:
        return mail_stack.doveadm(
            "-f", "flow", "mailbox", "status", "-u", USER, "uidvalidity", mailbox
        ).strip()

    mail_stack.doveadm("mailbox", "create", "-u", USER, mailbox)
    before = uidvalidity()
    mail_stack.doveadm("mailbox", "delete", "-u", USER, mailbox)
    mail_stack.doveadm("mailbox", "create", "-u", USER, mailbox)

    assert uidvalidity() != before


def test_restart_dovecot_keeps_ports_and_ends_idle_sessions(mail_stack: MailStack) -> None:
    ports = (mail_stack.imap_port, mail_stack.imaps_port, mail_stack.lmtp_port)
    idler = IMAPClient(mail_stack.host, port=mail_stack.imap_port, ssl=False, timeout=10)
    try:
        idler.login(USER, mail_stack.password)
        idler.select_folder("INBOX")
        idler.idle()

        mail_stack.restart_dovecot()

        assert idler.idle_check(timeout=5) == [(b"BYE", b"Server", b"shutting", b"down.")]
        with pytest.raises(imaplib.IMAP4.abort):
            idler.idle_done()
    finally:
        idler.shutdown()

    assert (mail_stack.imap_port, mail_stack.imaps_port, mail_stack.lmtp_port) == ports
    with IMAPClient(mail_stack.host, port=mail_stack.imap_port, ssl=False, timeout=10) as client:
        client.login(USER, mail_stack.password)
        client.select_folder("INBOX", readonly=True)


def test_pg_url_is_a_fresh_database_per_test(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            database = conn.execute(sa.text("select current_database()")).scalar_one()
            assert database == pg_url.rsplit("/", 1)[1]
            assert sa.inspect(conn).get_table_names() == []
    finally:
        engine.dispose()


def test_pg_restart_keeps_port(pg_server: PgServer, pg_url: str) -> None:
    port = pg_server.port
    engine = sa.create_engine(pg_url, pool_pre_ping=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))

        pg_server.restart()

        assert pg_server.port == port
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
    finally:
        engine.dispose()
