"""Routing: which kind of mail this is, decided by an ordered table of rules.

Each rule is a name, the route it leads to, and a test that returns the
reason it matches (or None). The first rule that matches decides, and its
reason is recorded with the mail. The order is the policy and reads top to
bottom: duplicates and our own mail first (never answer ourselves), machine
mail before anything that could answer it (an out-of-office reply quotes our
token in its References, yet must never be treated as a reply), replies to our
requests, then minutes and their revisions from allowed organizers, and
finally everything else, ignored with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailtrack.config import TrackerConfig
from mailtrack.db.models import (
    ConfirmationRequest,
    InboundMessage,
    Meeting,
    MeetingRevision,
    MessageState,
    Route,
)
from mailtrack.mail.addressing import FoundKeys, find_keys
from mailtrack.mail.guards import MachineMail, detect_auto_reply, detect_bounce, own_mail_reason
from mailtrack.mail.parsed import ParsedMail

RECIPIENT_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass
class Mail:
    """What the rules look at: the parsed mail, its row, and what earlier rules found."""

    parsed: ParsedMail
    row: InboundMessage
    session: Session
    tracker: TrackerConfig
    machine: MachineMail | None = None
    keys: FoundKeys | None = None
    request: ConfirmationRequest | None = None
    meeting: Meeting | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.parsed.sender.email if self.parsed.sender else ""

    def tracker_in_to_or_cc(self) -> bool:
        return any(a.email == self.tracker.address for a in self.parsed.addresses("To", "Cc"))


@dataclass(frozen=True)
class Rule:
    name: str
    route: Route
    test: Callable[[Mail], str | None]


@dataclass(frozen=True)
class Decision:
    """The outcome of routing one mail."""

    route: Route
    rule: str
    reason: str
    machine: MachineMail | None = None
    request: ConfirmationRequest | None = None
    meeting: Meeting | None = None


# --- the tests, in the order of the table ------------------------------------------


def duplicate(mail: Mail) -> str | None:
    """The same mail already handled: same Message-ID, same sender, same subject.

    A copy can arrive twice with different bytes (To and Cc to two plus
    addresses of the tracker are two deliveries); it must count once.
    """
    message_id = mail.parsed.message_id
    if not message_id:
        return None
    # Select by Message-ID alone (indexed) and filter here: given "state = ..." as
    # well, SQLite picks the state index and scans every processed mail.
    rows = mail.session.execute(
        select(
            InboundMessage.id,
            InboundMessage.from_address,
            InboundMessage.subject,
            InboundMessage.state,
            InboundMessage.route,
        ).where(InboundMessage.message_id == message_id)
    ).all()
    earlier = next(
        (
            row.id
            for row in rows
            if row.id != mail.row.id
            and row.from_address == mail.row.from_address
            and row.subject == mail.row.subject
            and row.state == MessageState.PROCESSED
            and row.route != Route.DUPLICATE
        ),
        None,
    )
    return f"same Message-ID, sender and subject as inbound #{earlier}" if earlier else None


def our_own(mail: Mail) -> str | None:
    return own_mail_reason(mail.parsed, mail.tracker.address)


def bounce(mail: Mail) -> str | None:
    found = detect_bounce(mail.parsed, mail.tracker.address)
    if found is None:
        return None
    mail.machine = found
    if found.kind != "bounce":
        return None
    failed = ", ".join(found.failed_recipients) or "recipient not stated"
    return f"{found.reason} ({failed})"


def machine(mail: Mail) -> str | None:
    if mail.machine is not None:  # a delivery report that is not a failure
        return mail.machine.reason
    found = detect_auto_reply(mail.parsed, mail.tracker.language)
    if found is None:
        return None
    mail.machine = found
    away = f", away until {found.away_until.isoformat()}" if found.away_until else ""
    return found.reason + away


def _keys(mail: Mail) -> FoundKeys:
    if mail.keys is None:
        recipients = [a.email for a in mail.parsed.addresses(*RECIPIENT_HEADERS)]
        mail.keys = find_keys(
            recipients, mail.parsed.references, mail.parsed.subject, mail.tracker.address
        )
    return mail.keys


def reply(mail: Mail) -> str | None:
    """A reply to one of our requests, found by token (plus address, References) or subject ref."""
    keys = _keys(mail)
    for token, where in keys.tokens:
        request = mail.session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.token == token)
        ).one_or_none()
        if request is not None:
            mail.request = request
            return f"request #{request.id} found by token in {where}"
    for ref in keys.refs:
        request = mail.session.scalars(
            select(ConfirmationRequest).where(ConfirmationRequest.ref == ref)
        ).one_or_none()
        if request is not None:
            mail.request = request
            return f"request #{request.id} found by subject reference {ref}"
    return None


NO_SUCH_REQUEST = "carries a request token that matches no request"


def unknown_token(mail: Mail) -> str | None:
    keys = _keys(mail)
    if keys.tokens or keys.bounce_tokens:
        return NO_SUCH_REQUEST
    return None


def revision(mail: Mail) -> str | None:
    """Corrected minutes: in the thread of a meeting, from that meeting's organizer."""
    references = mail.parsed.references
    if not references or not mail.tracker_in_to_or_cc():
        return None
    meeting = mail.session.scalars(
        select(Meeting)
        .where(Meeting.tracker == mail.tracker.address)
        .where(
            Meeting.thread_key.in_(references)
            | Meeting.id.in_(
                select(MeetingRevision.meeting_id).where(MeetingRevision.message_id.in_(references))
            )
        )
        .order_by(Meeting.id.desc())
    ).first()
    if meeting is None:
        return None
    if meeting.organizer.email != mail.sender:
        mail.notes.append(f"in the thread of meeting #{meeting.id} but not from its organizer")
        return None
    mail.meeting = meeting
    return f"in the thread of meeting #{meeting.id}, from its organizer"


def minutes(mail: Mail) -> str | None:
    if not mail.tracker.may_organize(mail.sender):
        return None
    if not mail.tracker_in_to_or_cc():
        mail.notes.append("from an allowed organizer, but the tracker is not in To or Cc")
        return None
    return f"from allowed organizer {mail.sender}, tracker in To/Cc"


def anything_else(mail: Mail) -> str:
    if mail.notes:
        return "; ".join(mail.notes)
    if not mail.sender:
        return "no readable From address"
    return f"{mail.sender} is not an allowed organizer and the mail answers no request"


RULES: tuple[Rule, ...] = (
    Rule("duplicate", Route.DUPLICATE, duplicate),
    Rule("our-own-mail", Route.IGNORED, our_own),
    Rule("bounce", Route.BOUNCE, bounce),
    Rule("machine-mail", Route.AUTO_REPLY, machine),
    Rule("reply", Route.REPLY, reply),
    Rule("unknown-token", Route.IGNORED, unknown_token),
    Rule("revision", Route.REVISION, revision),
    Rule("minutes", Route.MINUTES, minutes),
    Rule("anything-else", Route.IGNORED, anything_else),
)


def route(
    session: Session,
    row: InboundMessage,
    parsed: ParsedMail,
    tracker: TrackerConfig,
    rules: tuple[Rule, ...] = RULES,
) -> Decision:
    """Apply ``rules`` in order; the first that matches decides."""
    mail = Mail(parsed, row, session, tracker)
    for rule in rules:
        reason = rule.test(mail)
        if reason is not None:
            return Decision(rule.route, rule.name, reason, mail.machine, mail.request, mail.meeting)
    raise AssertionError("the last rule always matches")  # pragma: no cover
