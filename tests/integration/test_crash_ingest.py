"""kill -9 the real service at random moments while it ingests 500 mails: each is recorded once."""

from __future__ import annotations

import os
import random
import secrets
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from stack.mailstack import MailStack
from support.mails import make_mail
from support.service import log_of, mailtrack, write_config

from mailtrack.db.models import InboundMessage, MailboxCheckpoint, MessageState

pytestmark = pytest.mark.integration

MAILS = 500


@pytest.mark.parametrize(
    "rounds",
    [pytest.param(6, id="6-kills"), pytest.param(20, id="20-kills", marks=pytest.mark.slow)],
)
def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    mail_stack: MailStack, tmp_path: Path, rounds: int
) -> None:
    address = f"actas-{secrets.token_hex(4)}@tracker.test"
    mail_stack.add_user(address)
    config = write_config(tmp_path, mail_stack, address)
    password = mail_stack.password
    upgrade = mailtrack(config, "db", "upgrade", password=password)
    assert upgrade.wait(timeout=60) == 0, log_of(config)
    mail_stack.deliver_lmtp_many(
        (address, make_mail(cc=f"Actas <{address}>", subject=f"Acta {n}", body=f"Acuerdo {n}\n"))
        for n in range(MAILS)
    )
    rng = random.Random(int(os.environ.get("MT_CRASH_SEED", "7")))
    kills = 0
    for _ in range(rounds):
        service = mailtrack(config, "run", password=password)
        time.sleep(rng.uniform(0.3, 2.0))
        if service.poll() is None:
            service.send_signal(signal.SIGKILL)
            kills += 1
        service.wait(timeout=30)
    final = mailtrack(config, "run", "--once", password=password)
    assert final.wait(timeout=300) == 0, log_of(config)
    assert kills >= rounds // 2, "the service finished before most kills: nothing was tested"

    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'mailtrack.db'}")
    with engine.connect() as connection:
        total = connection.scalar(select(func.count()).select_from(InboundMessage))
        distinct_ids = connection.scalar(
            select(func.count(func.distinct(InboundMessage.message_id)))
        )
        distinct_hashes = connection.scalar(
            select(func.count(func.distinct(InboundMessage.sha256)))
        )
        states = dict(
            connection.execute(
                select(InboundMessage.state, func.count()).group_by(InboundMessage.state)
            ).all()
        )
        last_uid = connection.scalar(select(MailboxCheckpoint.last_uid))
    engine.dispose()
    assert (total, distinct_ids, distinct_hashes) == (MAILS, MAILS, MAILS)
    assert states == {MessageState.PROCESSED.value: MAILS}
    assert last_uid == MAILS
    archived = list((tmp_path / "data" / "archive").rglob("*.eml"))
    assert len(archived) == MAILS
