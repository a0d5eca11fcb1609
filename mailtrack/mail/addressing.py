"""The three keys that tie a reply to its request, and how to write and find them.

Each key breaks somewhere, so every request carries all three:

- a random token in the Reply-To plus address (``actas+TOKEN@consultora.es``);
  Microsoft 365 and Exchange often refuse plus-addressing, so also
- the same token in our own Message-ID (``<mt.TOKEN@consultora.es>``), which
  a reply's In-Reply-To/References bring back, and
- a short reference in the subject (``[MT-7K3Q9X]``) for replies that lose
  both (forwarded, retyped, sent from a phone that drops headers).

Bounces come back to a VERP envelope sender on the same scheme
(``actas+b.TOKEN@``), so a delivery report names the request it is about
even when it returns none of the original headers. Tokens carry 100 bits from
:mod:`secrets`; they are unguessable, so knowing one proves nothing about the
sender: the sender is checked separately.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

# No 0/o, 1/l: tokens survive being read aloud or retyped.
TOKEN_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a secret
TOKEN_LENGTH = 20  # 20 symbols of 5 bits: 100 bits
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_LENGTH = 6

_TOKEN = rf"[{TOKEN_ALPHABET}]{{{TOKEN_LENGTH}}}"
_PLUS = re.compile(rf"\+(b\.)?({_TOKEN})@", re.IGNORECASE)
_OUR_ID = re.compile(rf"<mt\.({_TOKEN})(?:\.r\d+)?@", re.IGNORECASE)
_REF = re.compile(r"\[MT-([0-9A-Z]{4,8})\]", re.IGNORECASE)


_ANY_TOKEN = re.compile(rf"(?<=\+b\.|\bmt\.)({_TOKEN})|(?<=\+)({_TOKEN})(?=@)", re.IGNORECASE)
SHOWN = 4  # characters of a token a log line keeps: enough to tell requests apart


def redact(text: str) -> str:
    """``text`` with every request token cut to its first characters, for log lines.

    A token is the key of a reply address (``actas+TOKEN@``), our Message-IDs
    (``<mt.TOKEN@``) and the VERP sender (``actas+b.TOKEN@``): whoever reads a
    log must not be able to answer in a request's thread with it.
    """
    return _ANY_TOKEN.sub(lambda match: match.group(0)[:SHOWN] + "…", text)


def new_token() -> str:
    """A fresh request token (100 random bits)."""
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def new_ref() -> str:
    """A fresh visible reference, like ``MT-7K3Q9X`` (uniqueness is the database's job)."""
    return "MT-" + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


def _split(address: str) -> tuple[str, str]:
    local, _, domain = address.rpartition("@")
    return local, domain


def reply_address(tracker: str, token: str) -> str:
    """The Reply-To address of a request: ``local+TOKEN@domain``."""
    local, domain = _split(tracker)
    return f"{local}+{token}@{domain}"


def bounce_address(tracker: str, token: str) -> str:
    """The envelope sender (VERP) of a request: ``local+b.TOKEN@domain``."""
    local, domain = _split(tracker)
    return f"{local}+b.{token}@{domain}"


def request_message_id(tracker: str, token: str, reminder: int = 0) -> str:
    """Our Message-ID for a request (``reminder`` 0) or its n-th reminder."""
    _, domain = _split(tracker)
    suffix = f".r{reminder}" if reminder else ""
    return f"<mt.{token}{suffix}@{domain}>"


def other_message_id(tracker: str) -> str:
    """A Message-ID for mail that answers nothing (receipts, digests, notices): no token in it."""
    _, domain = _split(tracker)
    return f"<mt.x.{secrets.token_hex(12)}@{domain}>"


@dataclass(frozen=True)
class FoundKeys:
    """Request keys found in a mail, each with where it was found."""

    tokens: tuple[tuple[str, str], ...]  # (token, where)
    bounce_tokens: tuple[str, ...]
    refs: tuple[str, ...]


def find_keys(
    recipients: list[str], references: list[str], subject: str, tracker: str
) -> FoundKeys:
    """Tokens in plus addresses of the tracker and in our Message-IDs; refs in the subject.

    Only plus addresses of the tracker's own local part and domain count:
    ``someone+TOKEN@elsewhere`` is not ours.
    """
    local, domain = _split(tracker.lower())
    tokens: list[tuple[str, str]] = []
    bounces: list[str] = []
    for address in (recipient.lower() for recipient in recipients):
        if not (address.startswith(local + "+") and address.endswith("@" + domain)):
            continue
        match = _PLUS.search(address)
        if match is None:
            continue
        if match.group(1):
            bounces.append(match.group(2))
        else:
            tokens.append((match.group(2), "plus address"))
    for reference in references:
        match = _OUR_ID.search(reference)
        if match and reference.lower().endswith("@" + domain + ">"):
            tokens.append((match.group(1).lower(), "In-Reply-To/References"))
    refs = tuple("MT-" + match.upper() for match in _REF.findall(subject))
    return FoundKeys(tuple(tokens), tuple(bounces), refs)
