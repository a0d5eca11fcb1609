"""Extraction results as a readable terminal table (``mailtrack extract`` without --json)."""

from __future__ import annotations

from typing import Any

from mailtrack.nlp.extract import Extraction


def render_extraction(extraction: Extraction) -> Any:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    head = Text()
    head.append(f"{extraction.subject}\n", style="bold")
    head.append(
        f"{extraction.message_id or '(no Message-ID)'} · "
        f"{extraction.date.isoformat() if extraction.date else 'no date'} · "
        f"language {extraction.language} · organizer {extraction.organizer or '?'}\n"
    )
    head.append(
        "participants: " + ", ".join(p.email for p in extraction.participants) + "\n", style="dim"
    )
    if not extraction.is_minutes:
        head.append("Not minutes: nothing to confirm.", style="yellow")
        return head
    table = Table(show_lines=False)
    for column in ("#", "kind", "item", "owners", "due", "section"):
        table.add_column(column)
    for item in extraction.items:
        owners = ", ".join(item.owners) or (
            f"({item.external_owner})" if item.external_owner else ""
        )
        table.add_row(
            str(item.number),
            item.kind,
            item.text,
            owners,
            item.due.isoformat() if item.due else "",
            item.section or "",
            style="cyan" if item.kind == "decision" else None,
        )
    if not extraction.items:
        return Group(head, Text("Minutes, but no decisions or actions found.", style="yellow"))
    return Group(head, table)
