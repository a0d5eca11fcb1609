"""A migrated SQLite runtime in a temp folder, with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from mailtrack.assembly import Runtime, open_runtime
from mailtrack.clock import FrozenClock
from mailtrack.config import Config, parse_config
from mailtrack.db.migrate import upgrade
from mailtrack.db.session import make_engine

BASE_CONFIG = """
[tracker]
address = "{address}"
organizers = ["@consultora.test"]
timezone = "Europe/Madrid"
data_dir = "{data}"
[database]
url = "{url}"
"""


def make_config(
    tmp_path: Path,
    extra: str = "",
    url: str | None = None,
    password: str = "secret",
    address: str = "actas@tracker.test",
) -> Config:
    data = tmp_path / "data"
    database = url or f"sqlite:///{data / 'mailtrack.db'}"
    text = BASE_CONFIG.format(data=data, url=database, address=address) + extra
    return parse_config(text, path=tmp_path / "mailtrack.toml", environ={"PW": password})


def make_runtime(
    tmp_path: Path,
    extra: str = "",
    url: str | None = None,
    password: str = "secret",
    address: str = "actas@tracker.test",
) -> Runtime:
    config = make_config(tmp_path, extra, url, password, address)
    engine = make_engine(config.database.url)
    upgrade(engine)
    engine.dispose()
    return open_runtime(config, FrozenClock(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)))
