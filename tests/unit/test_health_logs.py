"""`mailtrack health` and JSON logs, as an operator's monitoring meets them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from support.mails import make_mail

from mailtrack.cli import main
from mailtrack.db.migrate import upgrade
from mailtrack.db.models import OutboxKind, OutboxMessage, OutboxStatus
from mailtrack.db.session import make_engine, make_sessionmaker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Accept:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@pytest.fixture
def relay_port() -> Iterator[int]:
    port = free_port()
    controller = Controller(Accept(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def maildir(path: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def write_config(tmp_path: Path, imap_port: int, smtp_port: int, extra: str = "") -> Path:
    maildir(tmp_path / "box")
    config = tmp_path / "mailtrack.toml"
    config.write_text(
        f"""
[tracker]
data_dir = "data"
[[mailbox]]
address = "actas@consultora.test"
[mailbox.maildir]
path = "box"
[[mailbox]]
address = "proyectos@cliente.test"
[mailbox.imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "proyectos"
password_env = "MT_TEST_PW"
connect_timeout = "3s"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
timeout = "3s"
{extra}
"""
    )
    return config


def health(config: Path, *args: str) -> tuple[int, list[str], list[str]]:
    result = CliRunner(env={"MT_TEST_PW": "x"}).invoke(
        main, ["--config", str(config), "health", *args]
    )
    return result.exit_code, result.stdout.splitlines(), result.stderr.splitlines()


def test_every_unreachable_part_is_one_line_and_the_exit_status_says_so(tmp_path: Path) -> None:
    config = write_config(tmp_path, imap_port=free_port(), smtp_port=free_port())
    code, out, err = health(config)
    assert code == 1
    assert len(err) == 3, err
    assert err[0].startswith("mailtrack: health: database: sqlite:///")
    assert "found an empty database" in err[0] and "mailtrack db upgrade" in err[0]
    assert err[1].startswith("mailtrack: health: mailbox proyectos@cliente.test: ")
    assert "cannot connect to IMAP server 127.0.0.1" in err[1]
    assert err[2].startswith("mailtrack: health: smtp 127.0.0.1:")
    assert "cannot connect to SMTP relay" in err[2]
    assert any(line.startswith("ok    mailbox actas@consultora.test") for line in out)
    assert "Traceback" not in "\n".join(out + err)


def test_a_stuck_outbox_is_unhealthy_and_the_threshold_is_the_operators(
    tmp_path: Path, relay_port: int
) -> None:
    config = write_config(
        tmp_path,
        imap_port=free_port(),
        smtp_port=relay_port,
        extra='[health]\noutbox_max_age = "30m"',
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'data' / 'mailtrack.db'}")
    upgrade(engine)
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with make_sessionmaker(engine).begin() as session:
        session.add(
            OutboxMessage(
                kind=OutboxKind.REQUEST,
                message_id="<mt.x@consultora.test>",
                envelope_from="actas@consultora.test",
                recipients=["juan@cliente.test"],
                subject="x",
                raw=make_mail(),
                status=OutboxStatus.PENDING,
                attempts=3,
                last_error="451 4.3.0 try later",
                next_attempt_at=an_hour_ago,
                created_at=an_hour_ago,
            )
        )
    engine.dispose()
    code, out, err = health(config)
    assert code == 1
    assert "mailtrack: health: database" not in "\n".join(err)
    assert any(line.startswith("ok    smtp 127.0.0.1:") for line in out), out
    stuck = [line for line in err if "outbox" in line]
    assert stuck == [
        "mailtrack: health: outbox: stuck: 1 mail(s) waiting, the oldest for 60 min "
        "(more than 30 min); last error: 451 4.3.0 try later"
    ]
    code, out, err = health(config, "--outbox-max-age", "2h")
    assert [line for line in err if "outbox" in line] == []
    assert any(line.startswith("ok    outbox: 1 mail(s) waiting") for line in out)
    assert any(line.startswith("info  reader actas@consultora.test") for line in out)


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    box = maildir(tmp_path / "box")
    (box / "new" / "1.eml").write_bytes(make_mail(cc="Actas <actas@consultora.test>"))
    config = tmp_path / "mailtrack.toml"
    config.write_text(
        '[tracker]\naddress = "actas@consultora.test"\ndata_dir = "data"\n'
        '[maildir]\npath = "box"\n[smtp]\nhost = "127.0.0.1"\nsecurity = "none"\n'
        '[logging]\nlevel = "info"\n'
    )
    environment = {**os.environ, "PYTHONWARNINGS": "ignore"}
    upgrade_run = subprocess.run(
        [sys.executable, "-m", "mailtrack", "--config", str(config), "db", "upgrade"],
        capture_output=True, text=True, env=environment, check=False,
    )  # fmt: skip
    assert upgrade_run.returncode == 0, upgrade_run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "mailtrack", "--log-format", "json", "--config", str(config),
         "run", "--once"],
        capture_output=True, text=True, env=environment, check=False, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stderr.splitlines() if line.strip()]
    assert records, "nothing logged at info"
    for record in records:
        assert set(record) >= {"time", "level", "logger", "message", "worker"}
        assert record["time"].endswith("Z")
    messages = " | ".join(record["message"] for record in records)
    assert "reading mailbox actas@consultora.test" in messages
    assert "routed minutes" in messages
    assert all(record["worker"].split(":")[1].isdigit() for record in records)
