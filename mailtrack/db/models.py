"""The domain as tables: mail in, meetings and items, requests and answers, mail out.

Read top to bottom it follows the flow: a mailbox checkpoint and the inbound
messages it archived; the people, meetings, revisions, participants and items
found in minutes; the confirmation requests sent for them, the current
confirmation state of each item for each person, and every response recorded
as evidence; the outbox of mail to send; the digest runs; the audit trail.

Conventions: UTC timestamps (``UTCDateTime``); addresses stored lowercased;
states are string enums; uniqueness that protects against duplicates after a
crash is a database constraint, not a check in code.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mailtrack.db.base import Base, UTCDateTime, enum_column, utcnow

# RFC 5322 caps a header line at 998 characters; Message-IDs and subjects fit.
HEADER = 998
ADDRESS = 320
# A worker's name: host, process id and a random suffix (mailtrack.cluster.leases.worker_name).
HOLDER = 200


class Route(enum.StrEnum):
    """What the router decided an inbound message is."""

    MINUTES = "minutes"
    REVISION = "revision"
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class MessageState(enum.StrEnum):
    """Where an inbound message is in its processing."""

    RECEIVED = "received"  # archived, not processed yet
    PROCESSED = "processed"
    FAILED = "failed"  # processing raised; will be retried
    PARKED = "parked"  # failed too often: waits for a human


class ItemKind(enum.StrEnum):
    ACTION = "action"
    DECISION = "decision"


class ParticipantRole(enum.StrEnum):
    ORGANIZER = "organizer"
    TO = "to"
    CC = "cc"


class AliasKind(enum.StrEnum):
    ADDRESS = "address"  # another mailbox of the same person (may answer for them)
    NAME = "name"  # a nickname used in minutes to name them


class RequestState(enum.StrEnum):
    PENDING = "pending"  # written to the outbox; waiting for an answer
    ANSWERED = "answered"  # every item has an answer
    UNDELIVERABLE = "undeliverable"  # bounced
    WITHDRAWN = "withdrawn"  # its items were removed by a later revision
    SUPERSEDED = "superseded"  # a later revision's request replaces it


class ConfirmationState(enum.StrEnum):
    """The contract states of ``status --json`` (plus ``withdrawn`` for removed items)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    UNCLEAR = "unclear"
    UNDELIVERABLE = "undeliverable"
    WITHDRAWN = "withdrawn"


class OutboxKind(enum.StrEnum):
    REQUEST = "request"
    REMINDER = "reminder"
    RECEIPT = "receipt"
    DIGEST = "digest"
    NOTICE = "notice"  # to the organizer at once: a bounce, a reply from the wrong sender


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # refused for good (5xx) or out of attempts


# --- mail in -------------------------------------------------------------------


class MailboxCheckpoint(Base):
    """How far a mail source has been archived: the IMAP UIDVALIDITY and last UID seen."""

    __tablename__ = "mailbox_checkpoint"
    __table_args__ = (UniqueConstraint("mailbox", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(512))
    folder: Mapped[str] = mapped_column(String(512))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class InboundMessage(Base):
    """One mail as received: where its raw bytes are archived, how it was routed and handled.

    ``sha256`` is unique: the same bytes seen twice (a rescan after a
    UIDVALIDITY change, a retry after a crash) are the same message.
    """

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("mailbox", "source_ref"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    raw_path: Mapped[str] = mapped_column(String(512))
    size: Mapped[int] = mapped_column(BigInteger)
    mailbox: Mapped[str] = mapped_column(String(512))
    source_ref: Mapped[str] = mapped_column(String(512))
    message_id: Mapped[str | None] = mapped_column(String(HEADER), index=True)
    from_address: Mapped[str | None] = mapped_column(String(ADDRESS))
    subject: Mapped[str | None] = mapped_column(String(HEADER))
    header_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    route: Mapped[Route | None] = mapped_column(enum_column(Route))
    route_reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[MessageState] = mapped_column(
        enum_column(MessageState), default=MessageState.RECEIVED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # While a worker handles the mail, the time its claim runs out (another worker may
    # then retry it); for a failed mail, the time of the next try.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker that claimed it last (see mailtrack.processing): only that one may record it.
    claimed_by: Mapped[str | None] = mapped_column(String(HOLDER))


# --- people and meetings ---------------------------------------------------------


class Person(Base):
    """Someone who appears in minutes: identified by a normalised (lowercase) address."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(ADDRESS), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(HEADER))
    # Every display name seen for this address, most recent last.
    names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    aliases: Mapped[list[PersonAlias]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class PersonAlias(Base):
    """Another address of a person (who may answer for them), or a nickname for them."""

    __tablename__ = "person_alias"
    __table_args__ = (UniqueConstraint("kind", "alias"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AliasKind] = mapped_column(enum_column(AliasKind))
    alias: Mapped[str] = mapped_column(String(ADDRESS))

    person: Mapped[Person] = relationship(back_populates="aliases")


class Meeting(Base):
    """A meeting, identified by the thread of its minutes; corrected minutes add revisions."""

    __tablename__ = "meeting"
    __table_args__ = (UniqueConstraint("tracker", "thread_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracker: Mapped[str] = mapped_column(String(ADDRESS))
    # The Message-ID of the first minutes: later revisions reference it.
    thread_key: Mapped[str] = mapped_column(String(HEADER))
    subject: Mapped[str] = mapped_column(String(HEADER))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    # The zone of the minutes' Date header (e.g. "+01:00"), to show local dates.
    utc_offset: Mapped[str | None] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organizer: Mapped[Person] = relationship()
    revisions: Mapped[list[MeetingRevision]] = relationship(
        back_populates="meeting", order_by="MeetingRevision.number"
    )
    participants: Mapped[list[Participant]] = relationship(back_populates="meeting")
    items: Mapped[list[Item]] = relationship(back_populates="meeting", order_by="Item.number")


class MeetingRevision(Base):
    """One version of the minutes of a meeting, and the mail it came in."""

    __tablename__ = "meeting_revision"
    __table_args__ = (UniqueConstraint("meeting_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id"), index=True
    )
    message_id: Mapped[str] = mapped_column(String(HEADER), index=True)
    subject: Mapped[str] = mapped_column(String(HEADER))
    date: Mapped[datetime] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="revisions")


class Participant(Base):
    """A person on the minutes (From, To or Cc), never the tracker itself."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole))
    # The display name used in this meeting's mail (people sign differently).
    name: Mapped[str | None] = mapped_column(String(HEADER))

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    person: Mapped[Person] = relationship()


class Item(Base):
    """A decision or an action of a meeting.

    An item lives across revisions while its text stays the same
    (``fingerprint``): it keeps its confirmations. A changed item is a new row;
    the old one gets ``revision_removed``.
    """

    __tablename__ = "item"
    __table_args__ = (Index(None, "meeting_id", "revision_removed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    text: Mapped[str] = mapped_column(Text)
    external_owner: Mapped[str | None] = mapped_column(String(HEADER))
    due: Mapped[date | None] = mapped_column(Date)
    section: Mapped[str | None] = mapped_column(String(HEADER))
    fingerprint: Mapped[str] = mapped_column(String(64))
    revision_added: Mapped[int] = mapped_column(Integer, default=1)
    revision_removed: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    owners: Mapped[list[Person]] = relationship(secondary="item_owner", order_by="Person.email")


class ItemOwner(Base):
    """An owner of an action who is among the participants."""

    __tablename__ = "item_owner"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("item.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), primary_key=True, index=True)


# --- confirmations ---------------------------------------------------------------


class ConfirmationRequest(Base):
    """The one mail asking one person to confirm their items of one meeting revision.

    ``token`` is the unguessable secret carried in the Reply-To plus address
    and in our Message-ID; ``ref`` is the short reference shown in the
    subject. The unique (meeting, revision, person) is what makes a second
    request for the same thing impossible, even after a crash.
    """

    __tablename__ = "confirmation_request"
    __table_args__ = (UniqueConstraint("meeting_id", "revision", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    message_id: Mapped[str] = mapped_column(String(HEADER), unique=True)
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState), default=RequestState.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminder_count: Mapped[int] = mapped_column(Integer, default=0)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    away_until: Mapped[date | None] = mapped_column(Date)

    meeting: Mapped[Meeting] = relationship()
    person: Mapped[Person] = relationship()
    entries: Mapped[list[RequestItem]] = relationship(
        back_populates="request", order_by="RequestItem.position"
    )


class RequestItem(Base):
    """An item as numbered in one person's request: "confirmo 1 y 3" refers to ``position``."""

    __tablename__ = "request_item"
    __table_args__ = (UniqueConstraint("request_id", "item_id"),)

    request_id: Mapped[int] = mapped_column(
        ForeignKey("confirmation_request.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)

    request: Mapped[ConfirmationRequest] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()


class Confirmation(Base):
    """The current state of one item for one person who must confirm it.

    The history behind it is in :class:`Response`; this row is what status and
    digest queries read, so its index covers (state, person, item).
    """

    __tablename__ = "confirmation"
    __table_args__ = (
        UniqueConstraint("item_id", "person_id"),
        Index(None, "state", "person_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    state: Mapped[ConfirmationState] = mapped_column(
        enum_column(ConfirmationState), default=ConfirmationState.PENDING
    )
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("confirmation_request.id"), index=True
    )
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    item: Mapped[Item] = relationship()
    person: Mapped[Person] = relationship()
    response: Mapped[Response | None] = relationship()


class Response(Base):
    """One answer about one item, as recorded from one reply: the evidence."""

    __tablename__ = "response"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("confirmation_request.id"), index=True
    )
    inbound_message_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_message.id"), index=True
    )
    state: Mapped[ConfirmationState] = mapped_column(enum_column(ConfirmationState))
    reason: Mapped[str | None] = mapped_column(Text)
    reply_message_id: Mapped[str | None] = mapped_column(String(HEADER))
    sender: Mapped[str | None] = mapped_column(String(ADDRESS))
    verified_sender: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_text: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- mail out --------------------------------------------------------------------


class OutboxMessage(Base):
    """A mail to send, written in the transaction that decided to send it.

    The rendered bytes and the Message-ID are fixed when the row is written,
    so a resend after a crash is the very same mail.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(enum_column(OutboxKind))
    message_id: Mapped[str] = mapped_column(String(HEADER), unique=True)
    envelope_from: Mapped[str] = mapped_column(String(ADDRESS))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(HEADER))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("confirmation_request.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The worker delivering it now; ``next_attempt_at`` is then when that claim runs out.
    claimed_by: Mapped[str | None] = mapped_column(String(HOLDER))


class DigestRun(Base):
    """A digest decided for one recipient on one day: the unique pair makes it once a day."""

    __tablename__ = "digest_run"
    __table_args__ = (UniqueConstraint("recipient", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(ADDRESS))
    day: Mapped[date] = mapped_column(Date)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """Something that happened, kept forever: append-only (the database refuses changes)."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(64))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    inbound_message_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_message.id"))
    message_id: Mapped[str | None] = mapped_column(String(HEADER))
    detail: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class MailQuota(Base):
    """How many mails of one kind went to one address on one day: receipts and notices are capped.

    A misbehaving auto-responder that answers every mail must not hold
    mailtrack in a loop: past the cap, nothing more is sent that day.
    """

    __tablename__ = "mail_quota"
    __table_args__ = (UniqueConstraint("address", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(ADDRESS))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    count: Mapped[int] = mapped_column(Integer, default=0)


# --- coordination between workers ------------------------------------------------


class MailboxLease(Base):
    """Which worker reads a mailbox now: one at a time, for as long as it keeps renewing.

    ``mailbox`` is the source's name (``imap://user@host:port``). A holder renews
    ``expires_at`` while it lives; once that time has passed, any other worker may
    take the lease over, which bumps ``generation``. Archiving a batch renews the
    lease in the same transaction and fails when the lease is someone else's, so
    two workers can never both advance one mailbox's checkpoint.
    """

    __tablename__ = "mailbox_lease"

    mailbox: Mapped[str] = mapped_column(String(512), primary_key=True)
    holder: Mapped[str] = mapped_column(String(HOLDER))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkerPresence(Base):
    """A running ``mailtrack run`` process, seen recently: workers share mailboxes among the live ones."""

    __tablename__ = "worker"

    holder: Mapped[str] = mapped_column(String(HOLDER), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
