"""Regenerate the examples in this folder from the demo's data.

    .venv/bin/python docs/examples/generate.py

Runs ``mailtrack demo`` in a temporary folder, then writes the organizer's
digest (HTML and text, as the mail would carry them) and the written record of
the demo's Spanish meeting (Markdown, and the first page of its PDF as a PNG).
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pypdfium2

from mailtrack.assembly import open_runtime
from mailtrack.demo.loop import _config_with_dirs, run_demo
from mailtrack.digest import build, compose_digest
from mailtrack.export import build_record, render, render_pdf

HERE = Path(__file__).resolve().parent


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        run_demo(lambda _line: None, keep=root)
        config = _config_with_dirs(root)
        runtime = open_runtime(config)
        now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # the demo's next morning
        with runtime.sessions() as session:
            digest = build(session, config, "ana.garcia@consultora.test", now.date(), now)
            message = message_from_bytes(compose_digest(digest, config, now).raw, policy=default)
            record = build_record(session, 1, now)
        runtime.dispose()
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    (HERE / "digest.html").write_text(html)
    (HERE / "digest.txt").write_text(f"Subject: {message['Subject']}\n\n{text}")
    (HERE / "record.md").write_text(render(record, "md"))
    pdf = render_pdf(record)
    page = pypdfium2.PdfDocument(pdf)[0]
    page.render(scale=1.5).to_pil().save(HERE / "record-page1.png")
    print("wrote digest.html, digest.txt, record.md, record-page1.png")


if __name__ == "__main__":
    main()
