"""Realistic mail traffic for reliability tests and benchmarks: minutes, and replies to requests.

Minutes vary in language (Spanish, English), layout (numbered and bulleted
lists, "Responsable:" labels, an HTML table, multipart text + HTML) and
people (a pool of names; first names unique within a meeting so owners
resolve). Every minutes mail holds one decision, so each participant but the
organizer gets exactly one request: a test knows how many requests and how
many items per request to expect without running the extractor itself.

Replies are built from the request mail as received, the way mail clients
write them: To the request's Reply-To (``tracker+TOKEN@``), In-Reply-To and
References to its Message-ID, "Re:" and the ``[MT-XXXX]`` subject, the
request quoted below the answer (Gmail) or under a "De:/From:" block
(Outlook). Each carries a distinctive sentence that must never reach a log.
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from email.utils import format_datetime

FIRST_ES = (
    "Juan Luis María Carmen Pedro Lucía Javier Elena Pablo Marta Sergio Nuria Raúl Irene "
    "Diego Alba Andrés Rocío Jorge Paula Íñigo Begoña Álvaro Inés"
).split()
FIRST_EN = (
    "John Mary Peter Susan George Emma Oliver Grace Henry Chloe Thomas Alice Jack Lily "
    "Oscar Ruby Harry Amelia Leo Isla"
).split()
SURNAMES = (
    "Pérez García Ortega López Martín Sánchez Romero Navarro Torres Domínguez Gil Vázquez "
    "Smith Brown Taylor Wilson Evans Walker Wright Robinson Thompson Hughes"
).split()
TOPICS_ES = (
    "seguimiento del proyecto", "migración de la base de datos", "comité de dirección",
    "lanzamiento de la versión 3", "revisión del presupuesto", "plan de formación",
)  # fmt: skip
TOPICS_EN = (
    "project follow-up", "database migration", "steering committee",
    "release 3 launch", "budget review", "training plan",
)  # fmt: skip
DECISIONS_ES = (
    "Se aprueba el presupuesto de la fase {n} por {k}.000 €.",
    "Se acuerda retrasar la entrega de la fase {n} una semana.",
    "Se decide contratar el soporte ampliado durante {k} meses.",
)
DECISIONS_EN = (
    "We agreed to approve the phase {n} budget of {k},000 EUR.",
    "The team decided to move the phase {n} delivery by one week.",
    "It was agreed to extend the support contract for {k} months.",
)
ACTIONS_ES = (
    "{who}: reiniciar el servidor de staging el sábado.",
    "{who} enviará la oferta revisada antes del 15/12.",
    "{who} se encarga de revisar el contrato antes del viernes.",
    "{who} preparará el informe de riesgos para el lunes.",
)
ACTIONS_EN = (
    "{who} to send the revised offer by Friday.",
    "{who} will review the contract by Dec 3.",
    "{who} to prepare the risk report by Monday.",
    "{who} will restart the staging server on Saturday.",
)
CONFIRM_ES = ("Confirmo.", "Confirmo todo, gracias.", "De acuerdo, confirmo.", "Conforme.")
CONFIRM_EN = ("Confirmed.", "I confirm.", "Agreed, confirmed.", "Confirmed, thanks.")


def nonce() -> str:
    """A random word that no log line can contain by chance (letters only: a reply with
    digits in it reads as naming item numbers, which makes it unclear)."""
    return "".join(secrets.choice("bcdfghjklmnpqrstvwxz") for _ in range(14))


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    email: str

    @property
    def display(self) -> str:
        return f"{self.first} {self.last} <{self.email}>"


def people(count: int, tag: str, rng: random.Random, domain: str = "cliente.test") -> list[Person]:
    """``count`` distinct people with Spanish and English names and unique addresses."""
    found = []
    for n in range(count):
        first = rng.choice(FIRST_ES if n % 3 else FIRST_EN)
        last = rng.choice(SURNAMES)
        local = f"{first}.{last}".lower().translate(str.maketrans("áéíóúñç", "aeiounc"))
        found.append(Person(first, last, f"{local}.{n}-{tag}@{domain}"))
    return found


@dataclass
class Minutes:
    """One generated minutes mail and what it must lead to."""

    message_id: str
    raw: bytes
    language: str
    organizer: Person
    participants: list[Person]
    secret_sentence: str

    @property
    def confirmers(self) -> list[Person]:
        """Who gets a request: every participant but the organizer (there is a decision)."""
        return self.participants


def _table_html(rows: list[tuple[str, str]], heading: str) -> str:
    cells = "".join(f"<tr><td>{n}</td><td>{text}</td></tr>" for n, text in rows)
    return f"<h3>{heading}</h3><table border=1><tr><th>#</th><th>Item</th></tr>{cells}</table>"


def minutes_mail(
    n: int,
    rng: random.Random,
    tracker: str,
    organizer: Person,
    pool: list[Person],
    *,
    language: str | None = None,
    layout: str | None = None,
    size: int | None = None,
    start: datetime | None = None,
) -> Minutes:
    """Minutes number ``n``: a decision and one action per participant, in a varied layout."""
    language = language or rng.choice(("es", "en"))
    layout = layout or rng.choice(("bullets", "numbered", "labels", "html"))
    wanted = size or rng.randint(2, 4)
    chosen: list[Person] = []
    firsts: set[str] = {organizer.first}
    for person in rng.sample(pool, len(pool)):
        if person.first not in firsts and person.email != organizer.email:
            chosen.append(person)
            firsts.add(person.first)
        if len(chosen) == wanted:
            break
    es = language == "es"
    secret = f"Frase privada {nonce()} que nunca sale en un log."
    decision = rng.choice(DECISIONS_ES if es else DECISIONS_EN).format(
        n=n % 9 + 1, k=rng.randint(2, 40)
    )
    actions = [
        rng.choice(ACTIONS_ES if es else ACTIONS_EN).format(who=p.first) for p in chosen
    ]  # fmt: skip
    topic = rng.choice(TOPICS_ES if es else TOPICS_EN)
    greeting = "Hola a todos:" if es else "Hi all,"
    intro = f"Acta de la reunión de {topic}." if es else f"Minutes of the {topic} meeting."
    decisions_head, actions_head = ("Acuerdos", "Tareas") if es else ("Decisions", "Action items")
    closing = ["Un saludo,", organizer.first] if es else ["Best regards,", organizer.first]
    lines = [greeting, "", intro, secret, ""]
    html: str | None = None
    if layout == "numbered":
        lines += [f"{decisions_head}:", f"1. {decision}", "", f"{actions_head}:"]
        lines += [f"{i}. {a}" for i, a in enumerate(actions, start=2)]
    elif layout == "labels":
        owner_label = "Responsable" if es else "Owner"
        lines += [f"{decisions_head}:", f"- {decision}", "", f"{actions_head}:"]
        for person, action in zip(chosen, actions, strict=True):
            what = action.split(":", 1)[1].strip() if ":" in action else action
            lines += [f"- {what} {owner_label}: {person.first} {person.last}."]
    else:
        lines += [f"{decisions_head}:", f"- {decision}", "", f"{actions_head}:"]
        lines += [f"- {a}" for a in actions]
    lines += ["", *closing]
    text = "\n".join(lines) + "\n"
    if layout == "html":
        html = (
            f"<html><body><p>{greeting}</p><p>{intro}<br>{secret}</p>"
            + _table_html([("1", decision)], decisions_head)
            + f"<h3>{actions_head}</h3><ul>"
            + "".join(f"<li>{a}</li>" for a in actions)
            + f"</ul><p>{'<br>'.join(closing)}</p></body></html>"
        )
    message = EmailMessage()
    message["From"] = organizer.display
    message["To"] = ", ".join(p.display for p in chosen)
    message["Cc"] = f"Actas <{tracker}>"
    subject = f"Acta reunión {topic} #{n}" if es else f"Minutes: {topic} #{n}"
    message["Subject"] = subject
    when = (start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)) + timedelta(minutes=n)
    message["Date"] = format_datetime(when)
    message_id = f"<minutes-{n}-{secrets.token_hex(4)}@consultora.test>"
    message["Message-ID"] = message_id
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    # CPython folds a long To of non-ASCII names into encoded words that swallow the
    # addresses ("=?utf-8?q?...=3Candres=2E...=40clien?="): such a header names fewer
    # people than were meant. Lines up to RFC 5322's 998 characters need no folding.
    raw = message.as_bytes(policy=message.policy.clone(max_line_length=998))
    return Minutes(message_id, raw, language, organizer, chosen, secret)


def parse(raw: bytes) -> Message:
    return message_from_bytes(raw, policy=default)


_REQUEST_ID = re.compile(r"^<mt\.[^.@]{8,}@")


def is_request(message: Message) -> bool:
    """A first confirmation request (not a reminder, receipt or notice): ``<mt.TOKEN@...>``."""
    return bool(_REQUEST_ID.match(str(message["Message-ID"] or ""))) and bool(message["Reply-To"])


@dataclass
class Reply:
    raw: bytes
    rcpt: str  # the request's Reply-To address (tracker+TOKEN@...)
    secret_sentence: str
    intent: str  # "all" | "reject-first"


@dataclass
class ReplyWriter:
    """Writes the answers of people to requests, in their language and mail client's style."""

    rng: random.Random
    reject_share: float = 0.0
    now: datetime | None = None
    _counter: int = field(default=0)

    def reply(self, request: Message, sender: str) -> Reply:
        self._counter += 1
        # The request's subject is in the meeting's language; people answer in the same one.
        es = "Please confirm" not in str(request["Subject"])
        secret = f"Respuesta privada {nonce()} para el registro."
        if self.rng.random() < self.reject_share:
            intent = "reject-first"
            answer = (
                "Confirmo todo salvo el 1 porque la fecha no es viable."
                if es
                else "I don't confirm item 1: the date does not work. I confirm the rest."
            )
        else:
            intent = "all"
            answer = self.rng.choice(CONFIRM_ES if es else CONFIRM_EN)
        rcpt = request["Reply-To"].addresses[0].addr_spec
        reply = EmailMessage()
        reply["From"] = sender
        reply["To"] = str(request["Reply-To"])
        reply["Subject"] = ("Re: " if self._counter % 2 else "RE: ") + str(request["Subject"])
        reply["Date"] = format_datetime(self.now or datetime.now(UTC))
        reply["Message-ID"] = f"<reply-{self._counter}-{secrets.token_hex(5)}@cliente.test>"
        reply["In-Reply-To"] = str(request["Message-ID"])
        reply["References"] = str(request["Message-ID"])
        original = _plain(request)
        if self._counter % 2:
            quoted = "".join(f"> {line}\n" for line in original.splitlines())
            attribution = (
                f"El lun, 23 nov 2026 a las 11:02, {request['From']} escribió:"
                if es
                else f"On Mon, Nov 23, 2026 at 11:02 AM {request['From']} wrote:"
            )
            body = f"{answer}\n\n{secret}\n\n{attribution}\n{quoted}"
        else:
            head = (
                f"De: {request['From']}\nEnviado: lunes, 23 de noviembre de 2026 11:02\n"
                f"Para: {sender}\nAsunto: {request['Subject']}"
                if es
                else f"From: {request['From']}\nSent: Monday, November 23, 2026 11:02 AM\n"
                f"To: {sender}\nSubject: {request['Subject']}"
            )
            body = f"{answer}\n\n{secret}\n\n________________________________\n{head}\n\n{original}"
        reply.set_content(body)
        return Reply(bytes(reply), rcpt, secret, intent)


def _plain(message: Message) -> str:
    part = message.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content()) if part is not None else ""
