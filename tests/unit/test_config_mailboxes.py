"""Several tracker mailboxes in one configuration, and the keys of a multi-worker deployment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mailtrack.config import Config, parse_config
from mailtrack.errors import ConfigError

ENV = {"PW": "secret"}


def parse(text: str, tmp_path: Path | None = None) -> Config:
    path = tmp_path / "mailtrack.toml" if tmp_path else None
    return parse_config(text, path=path, environ=ENV)


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ=ENV)
    return [str(problem) for problem in caught.value.problems]


def imap(user: str, host: str = "imap.test") -> str:
    return f'[mailbox.imap]\nhost = "{host}"\nusername = "{user}"\npassword_env = "PW"\n'


TWO = (
    """[tracker]
timezone = "Europe/Madrid"
data_dir = "shared"

[[mailbox]]
address = "Actas@Consultora.test"
"""
    + imap("actas@consultora.test")
    + """
[[mailbox]]
address = "proyectos@cliente.test"
name = "Actas Cliente"
organizers = ["@cliente.test", "ana@consultora.test"]
language = "en"
timezone = "America/Bogota"
"""
    + imap("proyectos@cliente.test", host="outlook.test")
)


def test_the_single_tracker_form_is_one_mailbox(tmp_path: Path) -> None:
    config = parse(
        '[tracker]\naddress = "actas@consultora.test"\n[imap]\nhost = "imap.test"\n'
        'username = "actas"\npassword_env = "PW"\n',
        tmp_path,
    )
    assert len(config.mailboxes) == 1
    mailbox = config.mailboxes[0]
    assert mailbox.label == "tracker"
    assert mailbox.tracker == config.tracker
    assert mailbox.imap == config.imap and mailbox.imap is not None
    assert config.tracker_addresses == ("actas@consultora.test",)


def test_a_tracker_without_account_is_still_one_mailbox(tmp_path: Path) -> None:
    config = parse('[tracker]\naddress = "actas@consultora.test"\n', tmp_path)
    assert [m.tracker.address for m in config.mailboxes] == ["actas@consultora.test"]
    assert config.mailboxes[0].imap is None and config.mailboxes[0].maildir is None


def test_each_mailbox_has_its_identity_and_takes_the_rest_from_tracker(tmp_path: Path) -> None:
    config = parse(TWO, tmp_path)
    first, second = config.mailboxes
    assert (first.label, second.label) == ("mailbox[1]", "mailbox[2]")
    assert first.tracker.address == "actas@consultora.test"
    assert first.tracker.name == "Actas"
    assert first.tracker.organizers == ("@consultora.test",)  # its own domain by default
    assert first.tracker.timezone.key == "Europe/Madrid"  # from [tracker]
    assert first.tracker.language == "es"
    assert second.tracker.name == "Actas Cliente"
    assert second.tracker.organizers == ("@cliente.test", "ana@consultora.test")
    assert second.tracker.language == "en"
    assert second.tracker.timezone.key == "America/Bogota"
    assert first.imap is not None and first.imap.host == "imap.test"
    assert second.imap is not None and second.imap.host == "outlook.test"
    # Shared: one archive, one database.
    assert first.tracker.data_dir == second.tracker.data_dir == tmp_path / "shared"
    assert config.database.url == f"sqlite:///{tmp_path / 'shared' / 'mailtrack.db'}"
    assert config.tracker == first.tracker
    assert config.imap is None and config.maildir is None
    assert config.tracker_addresses == ("actas@consultora.test", "proyectos@cliente.test")


def test_tracker_organizers_are_the_default_of_every_mailbox() -> None:
    text = '[tracker]\norganizers = ["@grupo.test"]\n[[mailbox]]\naddress = "a@x.test"\n'
    config = parse(text + imap("a"))
    assert config.mailboxes[0].tracker.organizers == ("@grupo.test",)


def test_a_meeting_finds_its_tracker_by_address(tmp_path: Path) -> None:
    config = parse(TWO, tmp_path)
    assert config.tracker_for("PROYECTOS@cliente.test").name == "Actas Cliente"
    assert config.tracker_for("actas@consultora.test") == config.mailboxes[0].tracker
    gone = config.tracker_for("old@consultora.test")  # a mailbox removed since
    assert gone.address == "old@consultora.test"
    assert gone.name == config.tracker.name


def test_mailbox_mistakes_are_reported_with_their_mailbox_and_line() -> None:
    text = (
        '[tracker]\naddress = "actas@consultora.test"\n'  # 1-2
        '[imap]\nhost = "imap.test"\nusername = "u"\npassword_env = "PW"\n'  # 3-6
        '[[mailbox]]\naddress = "actas@consultora.test"\n'  # 7-8
        + imap("actas")  # 9-12
        + '[[mailbox]]\naddress = "actas+b@consultora.test"\ndata_dir = "x"\n'  # 13-15
        + imap("actas")  # 16-19
        + '[[mailbox]]\naddress = "c@consultora.test"\n'  # 20-21
        + '[[mailbox]]\naddress = "d@consultora.test"\n'  # 22-23
        + imap("d")  # 24-27
        + '[mailbox.maildir]\npath = "/nonexistent"\n'  # 28-29
    )
    found = problems(text)
    assert found == [
        "line 2: tracker.address: with [[mailbox]] sections each mailbox has its own address; "
        "[tracker] holds only what they share (name, organizers, timezone, language, "
        "data_dir, aliases_file)",
        "line 3: imap: with [[mailbox]] sections each mailbox has its own [mailbox.imap]: "
        "move this one below the [[mailbox]] it belongs to",
        "line 15: mailbox[2].data_dir: is shared by every mailbox: set it in [tracker]",
        "line 14: mailbox[2].address: actas+b@consultora.test is the same mailbox as "
        "mailbox[1]'s address (plus addresses of one mailbox deliver to it)",
        "line 16: mailbox[2].imap: reads the same account as mailbox[1] "
        "(actas on imap.test:993); give each mailbox its own",
        "line 20: mailbox[3]: no mail account: add a [mailbox.imap] or [mailbox.maildir] "
        "table below this [[mailbox]]",
        "line 29: mailbox[4].maildir.path: not a Maildir (no new/ folder): /nonexistent",
        "line 28: mailbox[4].maildir: use either imap or maildir, not both",
    ]


def test_mailbox_keys_are_checked_like_any_other() -> None:
    text = '[[mailbox]]\naddress = "not an address"\nlangauge = "en"\n' + imap("a")
    found = problems(text)
    assert "line 2: mailbox[1].address: not an e-mail address: 'not an address'" in found
    assert "line 3: mailbox[1].langauge: unknown key (did you mean 'language'?)" in found


def test_mailbox_must_be_an_array_of_tables() -> None:
    assert problems('[mailbox]\naddress = "a@x.test"\n') == [
        "line 1: mailbox: write each tracker mailbox as a [[mailbox]] section (array of tables)"
    ]


def test_worker_health_logging_and_claim_keys(tmp_path: Path) -> None:
    config = parse(
        '[tracker]\naddress = "a@x.test"\n'
        '[workers]\nlease_ttl = "20s"\npoll_interval = "500ms"\n'
        '[health]\noutbox_max_age = "1h"\n'
        '[logging]\nformat = "json"\n'
        '[processing]\nclaim_ttl = "90s"\n',
        tmp_path,
    )
    assert config.workers.lease_ttl == timedelta(seconds=20)
    assert config.workers.poll_interval == timedelta(milliseconds=500)
    assert config.health.outbox_max_age == timedelta(hours=1)
    assert config.logging.format == "json"
    assert config.processing.claim_ttl == timedelta(seconds=90)


def test_defaults_of_the_new_keys(tmp_path: Path) -> None:
    config = parse('[tracker]\naddress = "a@x.test"\n', tmp_path)
    assert config.workers.lease_ttl == timedelta(seconds=60)
    assert config.workers.poll_interval == timedelta(seconds=2)
    assert config.health.outbox_max_age == timedelta(minutes=15)
    assert config.logging.format == "text"
    assert config.processing.claim_ttl == timedelta(minutes=5)


def test_a_lease_too_short_to_renew_is_refused() -> None:
    found = problems('[tracker]\naddress = "a@x.test"\n[workers]\nlease_ttl = "1s"\n')
    assert found == [
        "line 4: workers.lease_ttl: must be at least 3s (it is renewed every third of it)"
    ]
