"""The configuration loader: typed values, defaults, and every problem reported at once."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from mailtrack.config import load_config, parse_config, parse_duration
from mailtrack.errors import ConfigError

MINIMAL = '[tracker]\naddress = "actas@consultora.test"\n'
EXAMPLE = Path(__file__).parents[2] / "config.example.toml"
SECRETS = {"MAILTRACK_IMAP_PASSWORD": "imap-secret", "MAILTRACK_SMTP_PASSWORD": "smtp-secret"}


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ=environ or {})
    return [str(problem) for problem in caught.value.problems]


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mailtrack.toml"
    path.write_text(MINIMAL)
    config = load_config(path, environ={})
    assert config.tracker.address == "actas@consultora.test"
    assert config.tracker.name == "Actas"
    assert config.tracker.organizers == ("@consultora.test",)
    assert config.tracker.timezone.key == "UTC"
    assert config.tracker.language == "es"
    assert config.tracker.data_dir == tmp_path / "data"
    assert config.database.url == f"sqlite:///{tmp_path / 'data' / 'mailtrack.db'}"
    assert config.imap is None and config.smtp is None
    assert config.confirmations.reminder_after == timedelta(days=2)
    assert config.confirmations.max_reminders == 2
    assert config.digest.time == time(8, 0)
    assert config.digest.recipients == ("organizer",)


def test_example_config_is_valid_and_reads_secrets_from_environment() -> None:
    config = load_config(EXAMPLE, environ=SECRETS)
    assert config.imap is not None and config.smtp is not None
    assert config.imap.password is not None
    assert config.imap.password.reveal() == "imap-secret"
    assert config.smtp.password is not None
    assert config.smtp.password.reveal() == "smtp-secret"
    assert config.imap.poll_interval == timedelta(seconds=60)
    assert config.tracker.timezone.key == "Europe/Madrid"


def test_secret_never_shows_in_repr() -> None:
    config = load_config(EXAMPLE, environ=SECRETS)
    assert "imap-secret" not in repr(config)
    assert "smtp-secret" not in repr(config)


def test_five_mistakes_are_all_reported_with_key_and_line() -> None:
    text = (
        "[tracker]\n"  # 1
        'address = "actas@consultora.test"\n'  # 2
        'timezone = "Europe/Madird"\n'  # 3
        'lenguage = "es"\n'  # 4
        "\n"  # 5
        "[imap]\n"  # 6
        'host = "imap.test"\n'  # 7
        'port = "993"\n'  # 8
        'username = "actas"\n'  # 9
        'password_env = "UNSET_SECRET"\n'  # 10
        'poll_interval = "2x"\n'  # 11
    )
    found = problems(text)
    assert len(found) == 5
    assert any(p.startswith("line 3: tracker.timezone: unknown time zone") for p in found)
    assert any(
        p.startswith("line 4: tracker.lenguage: unknown key") and "language" in p for p in found
    )
    assert any(p.startswith("line 8: imap.port: expected an integer") for p in found)
    assert any(
        p.startswith("line 10: imap.password_env: environment variable UNSET_SECRET is not set")
        for p in found
    )
    assert any(p.startswith("line 11: imap.poll_interval: not a duration") for p in found)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[tracker]\naddress = "not-an-address"\n', "tracker.address: not an e-mail address"),
        ("[tracker]\nname = 'x'\n", "tracker.address: is required"),
        (MINIMAL + 'language = "fr"\n', "tracker.language: must be one of es, en"),
        (
            MINIMAL + 'organizers = ["ana", "@ok.test"]\n',
            "'ana' is neither an address nor an @domain",
        ),
        (MINIMAL + '[database]\nurl = "mysql://x"\n', "database.url: must be a sqlite"),
        (MINIMAL + '[database]\nurl = "postgresql://x/y"\n', "psycopg 3 driver"),
        (MINIMAL + '[digest]\ntime = "25:00"\n', "digest.time: expected HH:MM"),
        (MINIMAL + '[digest]\nrecipients = ["boss"]\n', "'boss' is neither"),
        (MINIMAL + "[confirmations]\nmax_reminders = -1\n", "must be between 0 and 20"),
        (MINIMAL + '[confirmations]\nreminder_after = "0s"\n', "must be longer than zero"),
        (
            MINIMAL + "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'P'\nidle = 'yes'\n",
            "imap.idle: expected true or false",
        ),
        (
            MINIMAL + "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'P'\nport = true\n",
            "imap.port: expected an integer, got a boolean",
        ),
        (
            MINIMAL + "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'P'\nsecurity = 'ssl'\n",
            "imap.security: must be one of tls, starttls, none",
        ),
        (
            MINIMAL
            + "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'P'\nca_file = 'missing.pem'\n",
            "imap.ca_file: no such file",
        ),
        (
            MINIMAL + "[smtp]\nhost = 'h'\npassword_env = 'P'\n",
            "smtp.username: is required when password_env is set",
        ),
        (MINIMAL + "[smpt]\nhost = 'h'\n", "smpt: unknown section"),
        (MINIMAL + "[imap]\nport = 993\n", "imap.host: is required"),
    ],
)
def test_each_kind_of_mistake_is_named(snippet: str, expected: str) -> None:
    found = problems(snippet, environ={"P": "x"})
    assert any(expected in problem for problem in found), found


def test_toml_syntax_error_reports_its_line() -> None:
    found = problems('[tracker]\naddress = "a@b.test"\nname = \n')
    assert len(found) == 1
    assert found[0].startswith("line 3: (syntax): not valid TOML")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="1 problem"):
        load_config(tmp_path / "nope.toml")


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    path = tmp_path / "conf" / "mailtrack.toml"
    path.parent.mkdir()
    path.write_text(
        MINIMAL
        + 'data_dir = "store"\n[database]\nurl = "sqlite:///db/m.db"\n'
        + "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'P'\nca_file = '../ca.pem'\n"
    )
    config = load_config(path, environ={"P": "x"})
    assert config.tracker.data_dir == tmp_path / "conf" / "store"
    assert config.database.url == f"sqlite:///{tmp_path / 'conf' / 'db' / 'm.db'}"
    assert config.imap is not None
    assert config.imap.ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60s", timedelta(seconds=60)),
        ("2d", timedelta(days=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("1.5h", timedelta(minutes=90)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_durations_parse(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["2x", "10", "", "s", "1h x", "-5s", "1000000000d", "99999999999999s", "101y", "36600d"]
)
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_organizer_matching_by_address_and_domain() -> None:
    config = parse_config(
        MINIMAL + 'organizers = ["@consultora.test", "boss@cliente.test"]\n', environ={}
    )
    assert config.tracker.may_organize("Ana@Consultora.test")
    assert config.tracker.may_organize("boss@cliente.test")
    assert not config.tracker.may_organize("other@cliente.test")
    assert not config.tracker.may_organize("x@evilconsultora.test")


def test_every_key_the_loader_reads_is_documented_in_the_example() -> None:
    import inspect
    import re

    from mailtrack import config as module

    source = inspect.getsource(module._Loader)
    example = EXAMPLE.read_text()
    documented: dict[str, set[str]] = {}
    section = ""
    for line in example.splitlines():
        if match := re.match(r"^#?\s*\[\[?(\w+)(?:\.(\w+))?\]", line):
            section = match.group(2) or match.group(1)
        elif match := re.match(r"^#?\s*(\w+)\s*=", line):
            documented.setdefault(section, set()).add(match.group(1))
    # Methods that read a table handed to them, and the sections those tables are.
    handed = {"_imap": ["imap"], "_maildir": ["maildir"], "_identity": ["tracker", "mailbox"]}
    missing = []
    for method in re.split(r"\n    def ", source):
        table = re.search(r'self\.reader\(document, "(\w+)"\)', method)
        name = method.split("(", 1)[0].strip()
        sections = [table.group(1)] if table else handed.get(name, [])
        for section in sections:
            for key in re.findall(r'reader\.\w+\(\s*"(\w+)"', method):
                if key not in documented.get(section, set()):
                    missing.append(f"{section}.{key}")
    assert missing == []
