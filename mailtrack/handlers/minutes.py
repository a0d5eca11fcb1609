"""Minutes and corrected minutes: extract the items, record the meeting, ask people to confirm."""

from __future__ import annotations

import logging

from mailtrack.confirmations import request_confirmations, withdraw
from mailtrack.db.models import AuditEvent, Meeting
from mailtrack.handlers import HandlerContext
from mailtrack.meetings import add_revision, create_meeting, item_fingerprint
from mailtrack.nlp.extract import Extraction, Extractor
from mailtrack.outbound.messages import Sending

log = logging.getLogger(__name__)


def _extract(context: HandlerContext, extractor: Extractor, gate: bool = True) -> Extraction:
    today = context.clock.now().astimezone(context.tracker.timezone).date()
    return extractor.extract(context.parsed, today, gate=gate)


def _note(
    context: HandlerContext, kind: str, detail: dict[str, object], meeting: Meeting | None = None
) -> None:
    context.session.add(
        AuditEvent(
            at=context.clock.now(),
            kind=kind,
            meeting_id=meeting.id if meeting else None,
            inbound_message_id=context.row.id,
            message_id=context.row.message_id,
            detail=detail,
        )
    )


def handle_minutes(context: HandlerContext, extractor: Extractor) -> None:
    """New minutes: a meeting, its items, and one request per person who must confirm."""
    extraction = _extract(context, extractor)
    if not extraction.is_minutes or not extraction.items:
        reason = "not minutes" if not extraction.is_minutes else "minutes without items"
        _note(context, "minutes.nothing_to_confirm", {"reason": reason})
        log.info(
            "inbound #%d %s: %s, nothing to confirm", context.row.id, context.row.message_id, reason
        )
        return
    now = context.clock.now()
    meeting = create_meeting(
        context.session,
        context.tracker.address,
        context.row,
        context.parsed,
        extraction,
        now,
        other_trackers=context.config.tracker_addresses,
    )
    sending = Sending(context.tracker, now)
    requests = request_confirmations(
        context.session, meeting, list(meeting.items), 1, context.config.confirmations, sending
    )
    _note(
        context,
        "meeting.created",
        {"items": len(meeting.items), "requests": len(requests), "language": extraction.language},
        meeting,
    )
    log.info(
        "inbound #%d %s: meeting #%d with %d item(s), %d request(s)",
        context.row.id, context.row.message_id, meeting.id, len(meeting.items), len(requests),
    )  # fmt: skip


def handle_revision(context: HandlerContext, extractor: Extractor) -> None:
    """Corrected minutes: unchanged items keep their confirmations, changed ones are asked again."""
    meeting = context.decision.meeting
    assert meeting is not None  # the router found it
    # Corrected minutes arrive as a reply ("RE: Acta..."), which the mail classifier
    # rightly doubts; they count when they read as minutes, or when at least one of
    # their items is an item of the meeting, unchanged. A short "gracias" in the
    # thread never replaces the minutes (a revision withdraws what it leaves out).
    extraction = _extract(context, extractor, gate=False)
    current = {item.fingerprint for item in meeting.items if item.revision_removed is None}
    keeps_one = any(item_fingerprint(item) in current for item in extraction.items)
    if not extraction.items or not (extraction.is_minutes or keeps_one):
        _note(context, "revision.not_minutes", {"meeting": meeting.id}, meeting)
        return
    now = context.clock.now()
    change = add_revision(
        context.session,
        meeting,
        context.row,
        context.parsed,
        extraction,
        now,
        other_trackers=context.config.tracker_addresses,
    )
    withdrawn = withdraw(context.session, change.removed, now)
    sending = Sending(context.config.tracker_for(meeting.tracker), now)
    requests = request_confirmations(
        context.session,
        meeting,
        change.added,
        change.revision,
        context.config.confirmations,
        sending,
        withdrawn,
    )
    _note(
        context,
        "meeting.revised",
        {
            "revision": change.revision,
            "added": len(change.added),
            "kept": len(change.kept),
            "removed": len(change.removed),
            "requests": len(requests),
        },
        meeting,
    )
