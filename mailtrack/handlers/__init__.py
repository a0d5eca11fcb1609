"""What happens to each kind of mail: the router decides, a handler per route acts.

A handler runs inside the transaction that marks its mail processed, so what
it writes (meetings, confirmations, outbox rows) commits together with that
mark, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from mailtrack.clock import Clock
from mailtrack.config import Config, TrackerConfig
from mailtrack.db.models import InboundMessage, Route
from mailtrack.handlers.router import Decision
from mailtrack.mail.parsed import ParsedMail


@dataclass
class HandlerContext:
    """Everything a handler may use for one mail."""

    session: Session
    row: InboundMessage
    parsed: ParsedMail
    decision: Decision
    config: Config
    clock: Clock
    # The tracker of the mailbox the mail came in through (None: the configured one).
    mailbox: TrackerConfig | None = None

    @property
    def tracker(self) -> TrackerConfig:
        """Who this mail was sent to: its From, Reply-To and VERP address for what it causes."""
        return self.mailbox or self.config.tracker


Handler = Callable[[HandlerContext], None]
Handlers = Mapping[Route, Handler]
