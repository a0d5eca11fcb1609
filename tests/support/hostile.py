"""Fifty hostile mails, written by this project: broken MIME, bad charsets, odd sizes.

Each entry is (name, raw bytes). Every one must be archived and then routed
or parked with a reason; none may stop the service.
"""

from __future__ import annotations

import base64

HEAD = (
    b"From: Ana <ana@consultora.test>\r\nTo: Juan <juan@cliente.test>\r\n"
    b"Cc: Actas <actas@tracker.test>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0100\r\n"
)


def _mail(n: int, extra: bytes, body: bytes, subject: bytes = b"Acta") -> bytes:
    return (
        HEAD
        + b"Subject: "
        + subject
        + b"\r\n"
        + b"Message-ID: <hostile-%d@test.example>\r\n" % n
        + extra
        + b"\r\n"
        + body
    )


def hostile_mails(big_attachment_mb: int = 20) -> list[tuple[str, bytes]]:
    mails: list[tuple[str, bytes]] = []

    def add(name: str, raw: bytes) -> None:
        mails.append((name, raw))

    n = len
    add("zero-bytes", b"")
    add("only-whitespace", b"\r\n\r\n   \r\n")
    add("no-headers", b"\r\nAcuerdos: nada\r\n")
    add("binary-garbage", bytes(range(256)) * 8)
    add("missing-message-id", HEAD + b"Subject: Acta\r\n\r\nAcuerdos:\r\n- Juan revisa.\r\n")
    add(
        "duplicate-message-id",
        HEAD + b"Subject: Acta\r\nMessage-ID: <a@x>\r\nMessage-ID: <b@x>\r\n\r\nCuerpo\r\n",
    )
    add(
        "malformed-message-id",
        _mail(0, b"", b"x", b"Acta").replace(b"<hostile-0@test.example>", b"no brackets at all"),
    )
    add(
        "boundary-missing",
        _mail(
            n(mails),
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n",
            b"--x\r\nhello\r\n--x--\r\n",
        ),
    )
    add(
        "boundary-never-closed",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n',
            b"--b1\r\nContent-Type: text/plain\r\n\r\nAcuerdos\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>x",
        ),
    )
    add(
        "boundary-wrong-in-body",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="right"\r\n',
            b"--wrong\r\nContent-Type: text/plain\r\n\r\nhola\r\n--wrong--\r\n",
        ),
    )
    add(
        "empty-multipart",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="e"\r\n',
            b"--e--\r\n",
        ),
    )
    add(
        "undeclared-8bit-utf8",
        _mail(n(mails), b"", "Acuerdos: Ñandú revisará el año fiscal\r\n".encode()),
    )
    add(
        "undeclared-8bit-latin1",
        _mail(n(mails), b"", "Acuerdos: Ñandú revisará el año\r\n".encode("latin-1")),
    )
    add(
        "declared-utf8-but-latin1",
        _mail(
            n(mails),
            b'Content-Type: text/plain; charset="utf-8"\r\n',
            "Reunión año".encode("latin-1"),
        ),
    )
    add(
        "declared-latin1-but-utf8",
        _mail(
            n(mails), b'Content-Type: text/plain; charset="iso-8859-1"\r\n', "Reunión año".encode()
        ),
    )
    add(
        "unknown-charset",
        _mail(n(mails), b'Content-Type: text/plain; charset="x-klingon"\r\n', b"Acuerdos qapla'"),
    )
    add(
        "charset-utf-7",
        _mail(n(mails), b'Content-Type: text/plain; charset="utf-7"\r\n', b"A +ZeVnLIqe-"),
    )
    add("8bit-subject-utf8", _mail(n(mails), b"", b"x", "Acta reunión ñ".encode()))
    add("8bit-subject-latin1", _mail(n(mails), b"", b"x", "Acta reunión ñ".encode("latin-1")))
    add(
        "8bit-from-name",
        HEAD.replace(b"Ana <", "Ána Ñúñez <".encode())
        + b"Subject: x\r\nMessage-ID: <h8@x>\r\n\r\nx",
    )
    add("broken-encoded-word", _mail(n(mails), b"", b"x", b"=?utf-8?q?Acta=ZZ=?= =?bogus?b?!!!?="))
    add("encoded-word-unknown-charset", _mail(n(mails), b"", b"x", b"=?x-unknown?q?Acta?="))
    add(
        "broken-base64",
        _mail(
            n(mails),
            b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n",
            b"!!!not base64 at all@@@\r\n",
        ),
    )
    add(
        "truncated-base64",
        _mail(
            n(mails),
            b"Content-Transfer-Encoding: base64\r\n",
            base64.b64encode(b"Acuerdos completos")[:-3],
        ),
    )
    add(
        "broken-quoted-printable",
        _mail(
            n(mails), b"Content-Transfer-Encoding: quoted-printable\r\n", b"Acuerdo =X1 =\r\n=C3"
        ),
    )
    add(
        "unknown-transfer-encoding",
        _mail(n(mails), b"Content-Transfer-Encoding: x-gzip64\r\n", b"H4sIAAAA"),
    )
    add(
        "crlf-injection-subject",
        _mail(n(mails), b"", b"x", b"=?utf-8?q?Acta=0D=0ABcc:_victim@evil.test?="),
    )
    add("nul-bytes", _mail(n(mails), b"", b"Acuerdos\x00\x00 con nulos\x00"))
    add(
        "header-without-colon",
        HEAD + b"Subject: x\r\nMessage-ID: <hc@x>\r\nThis is not a header\r\n\r\nBody",
    )
    add("very-long-header-line", _mail(n(mails), b"X-Long: " + b"a" * 100_000 + b"\r\n", b"x"))
    add(
        "ten-thousand-recipients",
        HEAD.replace(
            b"To: Juan <juan@cliente.test>",
            b"To: " + b", ".join(b"u%d@x.test" % i for i in range(10_000)),
        )
        + b"Subject: x\r\nMessage-ID: <many@x>\r\n\r\nx",
    )
    add("bare-lf-line-endings", _mail(n(mails), b"", b"a\nb\n").replace(b"\r\n", b"\n"))
    add("bare-cr-line-endings", _mail(n(mails), b"", b"a\rb\r").replace(b"\r\n", b"\r"))
    add(
        "bad-date",
        _mail(n(mails), b"", b"x").replace(
            b"Thu, 26 Nov 2026 10:00:00 +0100", b"the day after tomorrow"
        ),
    )
    add("date-far-future", _mail(n(mails), b"", b"x").replace(b"26 Nov 2026", b"26 Nov 9999"))
    add("no-from", _mail(n(mails), b"", b"x").replace(b"From: Ana <ana@consultora.test>\r\n", b""))
    add(
        "from-without-address",
        _mail(n(mails), b"", b"x").replace(b"From: Ana <ana@consultora.test>", b"From: Ana"),
    )
    add(
        "from-with-two-addresses",
        _mail(n(mails), b"", b"x").replace(
            b"From: Ana <ana@consultora.test>", b"From: a@x.test, b@y.test"
        ),
    )
    add(
        "display-name-trick",
        _mail(n(mails), b"", b"x").replace(
            b"From: Ana <ana@consultora.test>", b'From: "ana@consultora.test" <eve@evil.test>'
        ),
    )
    add(
        "html-script-and-styles",
        _mail(
            n(mails),
            b"Content-Type: text/html\r\n",
            b"<script>alert(1)</script><style>p{}</style><h2>Acuerdos</h2><ul><li>Juan revisa</li></ul>"
            b"<img src=http://tracker.evil/x.png><iframe src=x></iframe>",
        ),
    )
    add(
        "html-unclosed-everything",
        _mail(n(mails), b"Content-Type: text/html\r\n", b"<div><p><b><i><ul><li>" * 500),
    )
    add(
        "html-deep-nesting",
        _mail(
            n(mails),
            b"Content-Type: text/html\r\n",
            b"<div>" * 20_000 + b"deep" + b"</div>" * 20_000,
        ),
    )
    add("html-entity-bomb", _mail(n(mails), b"Content-Type: text/html\r\n", b"&amp;lt;" * 50_000))
    nested = b"Content-Type: text/plain\r\n\r\nfondo\r\n"
    for level in range(100):
        nested = (
            (b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (level, level))
            + nested
            + b"\r\n--n%d--\r\n" % level
        )
    add(
        "nested-100-levels",
        HEAD + b"Subject: nested\r\nMessage-ID: <nested@x>\r\nMIME-Version: 1.0\r\n" + nested,
    )
    add("message-rfc822-empty", _mail(n(mails), b"Content-Type: message/rfc822\r\n", b""))
    add(
        "attachment-named-eml-with-confirmo",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="q"\r\n',
            b"--q\r\nContent-Type: text/plain\r\n\r\nVer adjunto\r\n--q\r\nContent-Type: message/rfc822\r\n"
            b"Content-Disposition: attachment\r\n\r\nSubject: old\r\n\r\nConfirmo\r\n--q--\r\n",
        ),
    )
    add(
        "tnef-winmail",
        _mail(
            n(mails),
            b'Content-Type: application/ms-tnef; name="winmail.dat"\r\nContent-Transfer-Encoding: base64\r\n',
            base64.b64encode(b"\x78\x9f\x3e\x22" * 100),
        ),
    )
    add("huge-text-body", _mail(n(mails), b"", b"Acuerdos: " + b"bla " * 1_000_000))
    add(
        "many-small-parts",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n',
            b"".join(b"--m\r\nContent-Type: text/plain\r\n\r\np%d\r\n" % i for i in range(2000))
            + b"--m--\r\n",
        ),
    )
    attachment = base64.encodebytes(b"\0" * (big_attachment_mb * 1024 * 1024))
    add(
        "attachment-20mb",
        _mail(
            n(mails),
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="big"\r\n',
            b"--big\r\nContent-Type: text/plain\r\n\r\nActa adjunta\r\n--big\r\n"
            b'Content-Type: application/octet-stream; name="acta.bin"\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="acta.bin"\r\n\r\n'
            + attachment
            + b"--big--\r\n",
        ),
    )
    assert len(mails) == 50, len(mails)
    return mails
