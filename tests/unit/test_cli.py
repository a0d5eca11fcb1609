"""The command line as a user meets it: exit codes, one-line errors, --debug tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailtrack.cli import main

BAD_CONFIG = """\
[tracker]
address = "actas@consultora.test"
timezone = "Mars/Olympus"
lenguage = "es"

[imap]
host = "imap.test"
port = "993"
username = "actas"
password_env = "MT_TEST_UNSET"
poll_interval = "2x"
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mailtrack.toml"
    path.write_text(text)
    return str(path)


def test_help_lists_the_commands_that_exist(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("check-config", "db"):
        assert command in result.output


def test_check_config_prints_all_five_problems(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--config", write(tmp_path, BAD_CONFIG), "check-config"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert "5 problems" in lines[0]
    assert len(lines) == 6
    assert "Traceback" not in result.stderr


def test_check_config_ok_summarises_without_secrets(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT_TEST_SECRET", "hunter2")
    config = write(
        tmp_path,
        '[tracker]\naddress = "actas@consultora.test"\n'
        "[imap]\nhost = 'h'\nusername = 'u'\npassword_env = 'MT_TEST_SECRET'\n",
    )
    result = runner.invoke(main, ["--config", config, "check-config"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "hunter2" not in result.output


def test_config_from_environment_variable(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILTRACK_CONFIG", write(tmp_path, BAD_CONFIG))
    result = runner.invoke(main, ["check-config"])
    assert result.exit_code == 2
    assert "5 problems" in result.stderr


def test_other_commands_report_a_bad_config_in_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--config", write(tmp_path, BAD_CONFIG), "db", "upgrade"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "and 4 more" in result.stderr


def test_missing_config_says_how_to_make_one(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAILTRACK_CONFIG", raising=False)
    result = runner.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "no configuration file" in result.stderr
    assert "config.example.toml" in result.stderr


def test_db_upgrade_builds_the_schema_and_is_idempotent(runner: CliRunner, tmp_path: Path) -> None:
    config = write(tmp_path, '[tracker]\naddress = "actas@consultora.test"\n')
    first = runner.invoke(main, ["--config", config, "db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "(empty) -> " in first.output
    assert (tmp_path / "data" / "mailtrack.db").exists()
    second = runner.invoke(main, ["--config", config, "db", "upgrade"])
    assert second.exit_code == 0
    assert "already at" in second.output
    current = runner.invoke(main, ["--config", config, "db", "current"])
    assert current.exit_code == 0
    head = current.output.split()[-1]
    assert current.output.startswith(f"database {head},")


def test_unreachable_database_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    config = write(
        tmp_path,
        '[tracker]\naddress = "actas@consultora.test"\n[database]\n'
        'url = "postgresql+psycopg://nobody:pw@127.0.0.1:1/none?connect_timeout=2"\n',
    )
    result = runner.invoke(main, ["--config", config, "db", "upgrade"])
    assert result.exit_code == 1
    assert result.stderr.startswith("mailtrack: cannot reach the database")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "pw" not in result.stderr.replace("postgresql", "")


def test_debug_shows_the_traceback(runner: CliRunner, tmp_path: Path) -> None:
    config = write(tmp_path, BAD_CONFIG)
    result = runner.invoke(main, ["--debug", "--config", config, "db", "upgrade"])
    assert result.exit_code != 0
    assert result.exception is not None
    assert type(result.exception).__name__ == "ConfigError"
