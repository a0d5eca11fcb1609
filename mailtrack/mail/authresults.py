"""Authentication-Results (RFC 8601): what our own receiving server said about a mail.

A reply's From is only a claim; DKIM, SPF and DMARC are how the receiving
server checks it. mailtrack does not verify signatures itself: it reads the
``Authentication-Results`` header that the server in front of the tracker
mailbox adds, and believes only headers carrying that server's authserv-id
(``[security] trusted_authserv_id``). Anyone can write the header into a
forged mail, so a header with another id, or none, is ignored; and since the
server adds its header above any the sender wrote, a failure in any trusted
header counts (a forged "pass" with our id cannot hide a real "fail").

DKIM may give several results (one per signature): it fails here only when
none passes in the same header, because lists and relays break one signature
and keep another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([a-z0-9_-]+)(?:/\d+)?\s*=\s*([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True)
class AuthResult:
    """One method's result in a header: ``dmarc=fail`` from ``mx.example.org``."""

    authserv_id: str
    method: str
    result: str


def _strip_comments(value: str) -> str:
    previous = None
    while previous != value:  # comments nest: remove the innermost until none is left
        previous, value = value, _COMMENT.sub(" ", value)
    return value


def parse(value: str) -> list[AuthResult]:
    """The results in one header value; ``[]`` for ``none`` or an unreadable header."""
    parts = _strip_comments(value).split(";")
    head = parts[0].split()
    if not head:
        return []
    authserv_id = head[0].strip().lower()
    found: list[AuthResult] = []
    for part in parts[1:]:
        match = _RESULT.match(part)
        if match:
            found.append(AuthResult(authserv_id, match.group(1).lower(), match.group(2).lower()))
    return found


def failures(headers: Iterable[str], trusted: Iterable[str], methods: Iterable[str]) -> list[str]:
    """``["dmarc=fail (mx.example.org)"]``: the watched methods a trusted server saw fail.

    Empty when nothing is trusted, no trusted header is present, or all passed.
    """
    trusted_ids = {entry.lower() for entry in trusted}
    watched = {method.lower() for method in methods}
    if not trusted_ids or not watched:
        return []
    per_header = [
        [r for r in parse(header) if r.authserv_id in trusted_ids and r.method in watched]
        for header in headers
    ]
    failed: list[str] = []
    for method in sorted(watched):
        for results in per_header:
            mine = [result for result in results if result.method == method]
            # A passing DKIM signature excuses a broken one only in the same header,
            # the one our server wrote: a forged header with our id and "dkim=pass"
            # is another header and cannot.
            if method == "dkim" and any(result.result == "pass" for result in mine):
                continue
            fail = next((result for result in mine if result.result == "fail"), None)
            if fail is not None:
                failed.append(f"{method}=fail ({fail.authserv_id})")
                break
    return failed
