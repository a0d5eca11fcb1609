"""The organizer's windows: the daily digest and the written record of a meeting."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pypdfium2
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from support.loop import TRACKER, Loop, make_loop, minutes_mail, reply_to

from mailtrack.cli import main
from mailtrack.db.models import DigestRun
from mailtrack.digest import build, compose_digest, render_text, send_digests
from mailtrack.export import build_record, render, render_pdf, verify_archive

JUAN, LUIS, ANA = "juan@cliente.test", "luis@cliente.test", "ana@consultora.test"


@pytest.fixture
def loop(tmp_path: Path) -> Loop:
    loop = make_loop(tmp_path, '\n[digest]\ntime = "08:00"\n')
    loop.clock.current = loop.clock.current.replace(year=2026, month=11, day=26, hour=9)
    loop.deliver(minutes_mail())
    (juan,) = loop.requests_to(JUAN)
    (luis,) = loop.requests_to(LUIS)
    loop.deliver(
        reply_to(juan, f"Juan Pérez <{JUAN}>", "Confirmo el 1. ¿El 2 no era para el domingo?")
    )
    loop.deliver(
        reply_to(
            luis, f"Luis <{LUIS}>", "Confirmo el 1. No confirmo el 2: no llego antes del 15/12."
        )
    )
    return loop


def digest_text(loop: Loop, day_offset: int = 1) -> str:
    now = loop.clock.now() + timedelta(days=day_offset)
    with loop.runtime.sessions() as session:
        digest = build(session, loop.runtime.config, ANA, now.date(), now)
    return render_text(digest, loop.runtime.config)


def test_digest_groups_by_meeting_and_person_with_reasons_and_replies(loop: Loop) -> None:
    text = digest_text(loop)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "2 puntos sin confirmar en 1 reunión (27/11/2026)."
    assert "== Acta reunión de seguimiento (26/11/2026) ==" in lines
    assert "Juan Pérez <juan@cliente.test>" in lines
    assert any(line.startswith("respuesta poco clara") for line in lines)
    assert any("¿El 2 no era para el domingo?" in line for line in lines)
    assert any(
        line.startswith("RECHAZADO") and "motivo: no llego antes del 15/12" in line
        for line in lines
    )
    assert "1. Se aprueba el presupuesto" not in text  # confirmed by both: nothing to chase


def test_overdue_items_are_flagged(loop: Loop) -> None:
    assert "(VENCIDA)" not in digest_text(loop)
    assert "(VENCIDA)" in digest_text(loop, day_offset=30)


def test_the_digest_is_sent_once_per_recipient_per_day(loop: Loop) -> None:
    loop.clock.advance(timedelta(days=1))  # 09:00 the next day, after digest.time
    day = loop.clock.now().date()
    before = len([m for m in loop.sent(ANA) if "sin confirmar" in str(m["Subject"])])
    loop.run()
    loop.run()  # a restart the same day
    assert send_digests(loop.runtime.sessions, loop.runtime.config, loop.clock.now()) == []
    with loop.runtime.sessions() as session:
        runs = select(func.count()).select_from(DigestRun).where(DigestRun.day == day)
        assert session.scalar(runs) == 1
    after = len([m for m in loop.sent(ANA) if "sin confirmar" in str(m["Subject"])])
    assert after == before + 1


def test_two_processes_at_once_still_send_one_digest(loop: Loop) -> None:
    loop.clock.advance(timedelta(days=1))
    results: list[list[str]] = []
    threads = [
        threading.Thread(
            target=lambda: results.append(
                send_digests(loop.runtime.sessions, loop.runtime.config, loop.clock.now())
            )
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(result) for result in results) == [0, 1]


def test_nothing_pending_means_no_digest(tmp_path: Path) -> None:
    loop = make_loop(tmp_path)
    loop.deliver(minutes_mail())
    for person in (JUAN, LUIS):
        (request,) = loop.requests_to(person)
        loop.deliver(reply_to(request, f"X <{person}>", "Confirmo."))
    loop.clock.advance(timedelta(days=1))
    assert send_digests(loop.runtime.sessions, loop.runtime.config, loop.clock.now()) == []


def test_hostile_subjects_render_inert(tmp_path: Path) -> None:
    loop = make_loop(tmp_path)
    loop.deliver(
        minutes_mail(Subject="<script>alert(1)</script> =?utf-8?q?Acta=0D=0ABcc:_x@evil.test?=")
    )
    loop.clock.advance(timedelta(days=1))
    with loop.runtime.sessions() as session:
        digest = build(session, loop.runtime.config, ANA, loop.clock.now().date(), loop.clock.now())
        composed = compose_digest(digest, loop.runtime.config, loop.clock.now())
        record = build_record(session, 1, loop.clock.now())
    raw = composed.raw.decode()
    assert "<script>" not in raw.split("Content-Type: text/html")[1]
    assert "&lt;script&gt;" in raw
    assert "\nBcc:" not in raw
    html = render(record, "html")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "http" not in html.replace("http-equiv", "")


def test_the_record_lists_every_confirmation_with_its_evidence(loop: Loop) -> None:
    with loop.runtime.sessions() as session:
        record = build_record(session, 1, loop.clock.now())
    markdown = render(record, "md")
    assert markdown.startswith("# Registro de acuerdos: Acta reunión de seguimiento")
    trails = {(item.number, trail.person): trail for item in record.items for trail in item.trails}
    assert trails[(1, JUAN)].state == "confirmed"
    assert trails[(1, JUAN)].reply_message_id and trails[(1, JUAN)].raw_sha256
    assert trails[(3, LUIS)].state == "rejected"
    assert "no llego antes del 15/12" in markdown
    assert "## Puntos" in markdown and "built-in method" not in markdown
    assert "**confirmado**" in markdown and "**rechazado**" in markdown  # the meeting's language
    html = render(record, "html")
    assert "<h2>Puntos</h2>" in html and "built-in method" not in html
    for trail in trails.values():
        if trail.raw_sha256:
            assert trail.raw_sha256 in markdown


def test_the_pdf_is_a_real_rendered_page(loop: Loop, tmp_path: Path) -> None:
    with loop.runtime.sessions() as session:
        record = build_record(session, 1, loop.clock.now())
    pdf = render_pdf(record)
    assert pdf.startswith(b"%PDF-")
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    text = page.get_textpage().get_text_range()
    assert "Registro de acuerdos" in text and "juan@cliente.test" in text
    image = page.render(scale=1).to_pil()
    assert image.size[0] > 500 and image.size[1] > 700
    gray = image.convert("L")
    ink = sum(
        1
        for x in range(0, gray.width, 2)
        for y in range(0, gray.height, 2)
        if gray.getpixel((x, y)) < 128
    )
    assert ink > 500  # text was drawn, not a blank page
    document.close()


def test_archive_verify_finds_a_changed_and_a_missing_file(loop: Loop) -> None:
    with loop.runtime.sessions() as session:
        assert verify_archive(session, loop.runtime.archive).ok
        files = sorted((loop.runtime.archive.root).rglob("*.eml"))
        files[0].write_bytes(files[0].read_bytes() + b"tampered")
        files[1].unlink()
        result = verify_archive(session, loop.runtime.archive)
    assert len(result.changed) == 1 and len(result.missing) == 1


def test_export_cli_writes_markdown_html_pdf_and_raw_mail(loop: Loop, tmp_path: Path) -> None:
    config = tmp_path / "mailtrack.toml"
    config.write_text(
        f'[tracker]\naddress = "{TRACKER}"\ndata_dir = "{loop.runtime.config.tracker.data_dir}"\n'
    )
    runner = CliRunner()
    markdown = runner.invoke(main, ["--config", str(config), "export", "1"])
    assert markdown.exit_code == 0, markdown.output
    assert "Registro de acuerdos" in markdown.output
    pdf = tmp_path / "record.pdf"
    result = runner.invoke(
        main,
        [
            "--config",
            str(config),
            "export",
            "1",
            "--format",
            "pdf",
            "-o",
            str(pdf),
            "--with-raw",
            str(tmp_path / "raw"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert len(list((tmp_path / "raw").glob("*.eml"))) >= 3
    missing = runner.invoke(main, ["--config", str(config), "export", "99"])
    assert missing.exit_code == 1 and "no meeting #99" in missing.stderr
