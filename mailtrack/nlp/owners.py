"""Who must do an action: owner mentions found by how minutes write them, resolved to people.

In the order tried (the first that finds someone wins):

1. a table's owner column ("Responsable", "Owner", "Lead");
2. an explicit mark: "Responsable: X", "Owner - X", "assigned to X", "a cargo de X",
   "AI: X", "Se encomienda a la Secretaría", "Se faculta al Presidente y a la
   Secretaria", "@a and @b", a trailing "(X)" or "[X]" or "- X", "@X", "→ X" (but not
   who moved, seconded or voted: "(4-0, Wagner abstaining)");
3. a label before the text: "X: revisar el contrato", "X – revisar", "ACTION: a and b to";
4. the subject of the sentence: "X se encarga de", "X will", "X to send", "X y Y
   revisarán", "Carla lo arregla", "Quedamos en que X revisa", "El coordinador de obras,
   señor X, presentará", also after a topic ("Uniform jackets: Lena will") or in a later
   clause ("En cuanto a los pasos, Pedro preparará"), a speaker's "I'll" in
   "Geoffrey: I'll...";
5. the group and the self: "todos", "everyone" (every participant); "yo", "me
   encargo", "I'll" (the sender, or in a pasted chat, "Ana Gil 09:34 me encargo",
   whoever wrote the line).

Offices ("la tesorera", "El Director", "la administración") resolve to whoever the
mail says holds them (:mod:`mailtrack.nlp.roles`). A mention that names nobody among
the participants is kept as written: the external owner ("el proveedor", "Legal",
"Marta, de Legal").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from mailtrack.nlp.dates import fold
from mailtrack.nlp.people import PeopleIndex
from mailtrack.nlp.segment import Candidate

# Lowercase words are handles ("ebrandt") or offices written with an accent ("la
# secretaría del consejo"); other accented words are verbs ("sugirió"), not names.
_NAME = (
    # a handle in lowercase ("jsmith", "ana"), never a word that joins names ("and", "the")
    r"(?:@?[A-ZÁÉÍÓÚÑÜ][\w'’áéíóúñü.-]*|@[\w.-]+|"
    r"(?!(?:and|the|with|for|los|las|del|con|por|para|que|will|shall)\b)"
    r"[a-z][a-z0-9]{2,}(?:[._-][a-z0-9]+)?|"
    r"administraci[oó]n|secretar[ií]a|direcci[oó]n|tesorer[ií]a|rector[ií]a|alcald[ií]a|"
    r"intervenci[oó]n|coordinaci[oó]n|personer[ií]a|yo|I|me)"
)
_NAMES = rf"{_NAME}(?:\s+{_NAME}){{0,3}}"
# "El presidente y el secretario": an article may stand after the "y".
_LIST = rf"{_NAMES}(?:\s*(?:,|/|&|\+|\by\b|\band\b|\be\b)\s*(?:(?:el|la|los|las|the)\s+)?{_NAMES})*"
_TITLE = (
    r"(?:(?:[Ee]l|[Ll]a|[Tt]he)\s+)?"
    r"(?:(?:Sr|Sra|Srta|Dr|Dra|Dña|Don|D|Mr|Mrs|Ms|Miss|Prof|Ing|Lic)\.?\s+)?"
)
# Bracketed or parenthesised names anywhere: "[Mati] [mié 11]", "(Paul, Yuki)", "– Beatriz –".
_ENCLOSED = re.compile(
    r"\[(?P<bracket>[^\[\]]{2,40})\]|\((?P<paren>[^()]{2,60})\)|\s[-–—]\s+(?P<dashed>[^-–—]{2,30}?)\s+[-–—]\s"
)

_EXPLICIT = [
    # A word needs its separator ("Owner: Ana", "Resp. - Luis"): "the owners by 6 March" is
    # not an owner called "by"; a phrase does not ("assigned to Ana", "a cargo de Luis").
    re.compile(
        rf"(?:\b(?:responsables?|responsabilidad|responsibility|resp\.?|owners?|encargad[oa]s?)\s*[:\-–=]|"
        rf"\b(?:asignad[oa]s? al?|assigned to|a cargo del?|led by|owner is)\s*[:\-–=]?)"
        rf"\s*(?P<who>{_TITLE}{_LIST}|[^.;,)\]]{{2,40}})",
        re.IGNORECASE,
    ),
    re.compile(rf"\bAI\s*[:\-–]\s*(?P<who>{_LIST})"),
    # Formal minutes entrust, at the start of an item: "Se encomienda a la Secretaría...",
    # "Se faculta al Presidente y a la Secretaria..." (later in a decision's text it is
    # another item the decision leads to, not the decision's owner).
    re.compile(
        # after a label of its own: "ACUERDO N° 043-2026-CDA: Encargar a la Tesorera..."
        r"^(?:[^:\n]{1,40}:\s+)?\W{0,3}(?i:se\s+(?:encomienda|encarga|faculta|autoriza|delega|mandata|comisiona|designa|"
        r"instruye|(?:le\s+|les\s+)?(?:pide|solicita))|"
        # the infinitive of a resolution: "Encargar a la Tesorera la contratación de..."
        r"(?:encargar|encomendar|facultar|autorizar|delegar|mandatar|comisionar|instruir|designar))"
        rf"\s+(?:a\s+l[oa]s?\s+|al\s+|a\s+)(?P<who>{_TITLE}{_NAMES}"
        rf"(?:\s*(?:,|\by\b|\be\b)\s*(?:a\s+l[oa]s?\s+|al\s+|a\s+)?{_TITLE}{_NAMES})*)",
    ),
    # "Council directed the City Administrator to bring back options", "asked Tom to draft"
    re.compile(
        r"\b(?i:directed|instructed|asked|requested|authori[sz]ed|tasked|appointed|invited)\s+"
        # a few doers at most: an unbounded list would be retried from every "asked" on
        rf"(?P<who>{_TITLE}{_NAMES}(?:\s*(?:,|\band\b|&)\s*(?:the\s+)?{_NAMES}){{0,3}})"
        r"\s+to\s+(?!the\b|a\b|an\b|be\b)[a-z]"
    ),
    # "Tarea → Ana" names the doer after the arrow; "Javi → llamar al técnico" before it.
    re.compile(rf"^\W{{0,3}}(?P<who>{_TITLE}{_LIST})\s*(?:→|->|=>)\s*(?=[a-záéíóúñ])"),
    re.compile(rf"(?:→|->|=>)\s*(?P<who>(?![a-záéíóúñ]+\b\s+[a-záéíóúñ]){_TITLE}{_LIST})"),
]
_TRAILING = re.compile(
    rf"(?:\((?P<paren>{_TITLE}{_LIST}|[^()]{{2,40}})\)|\[(?P<bracket>{_TITLE}{_LIST})\]|"
    rf"(?:\s[-–—]\s*(?P<dash>{_TITLE}{_LIST})|:\s*(?P<colon>{_TITLE}{_LIST}))"
    # "Calibración del CTD — Tobías, antes del 28/02", "Reportar a mantenimiento...: Édison,
    # mañana": the date after the owner
    r"(?:,\s*(?:para|antes|hasta|en|by|before|due|until|within|asap|mañana|hoy|tomorrow|today|"
    r"next|pr[oó]xim[oa]|this|este|esta)\b[^()\[\]–—]{0,40})?)"
    r"\s*[.;]?\s*$"
)
_HANDLE = re.compile(r"(?<![\w.])@(?P<who>[A-Za-z][\w.-]*[A-Za-z0-9])")
# "@wkhan and @pbarros", "@lucy + @maya", "@Laia Casals @Marta Puig" (a mention with the
# display name after it, as chat tools paste them).
_BETWEEN_MENTIONS = r"\s*(?:(?:,|&|\+|\band\b|\by\b|\be\b)\s*)?"
_MENTION = rf"@[A-Za-z][\w.-]*(?:\s+[A-ZÁÉÍÓÚÑ][\w'’-]+(?={_BETWEEN_MENTIONS}@))?"
_HANDLE_LIST = re.compile(
    rf"^\W{{0,3}}(?P<who>{_MENTION}(?:{_BETWEEN_MENTIONS}@[A-Za-z][\w.-]*"
    rf"(?:\s+[A-ZÁÉÍÓÚÑ][\w'’-]+)?)+)"
)
_TOPIC = re.compile(r"^[^:]{2,40}:\s+(?=\S)|^[^:–—-]{2,40}\s[-–—]\s+(?=\S)")
_CLAUSE = re.compile(
    r"(?:;|\.)\s+|,\s+(?:(?:so|and|but|then|y|pero|entonces|as[ií] que)\s+)?(?=[A-ZÁÉÍÓÚÑ])|"
    r"\):\s+(?=[A-ZÁÉÍÓÚÑ@])"  # "#1901 (docs: async examples): Daniel will update"
)
# A clause a conjunction opens without a comma: its subject counts only when it commits
# ("close issue 72 but Tim Cole will add comments", "and Hadrien will open an issue"; not
# "...and Derek reckons it's the valve").
_CONJUNCTION = re.compile(
    r"(?:^|\s)(?:but|pero|while|mientras|and|y|also|so|then|entonces)\s+(?=[A-ZÁÉÍÓÚÑ][a-záéíóúñ])"
)
# Words that commit the subject to doing something, near the end of a subject match.
_COMMITS = re.compile(
    r"^\s+to\s+[a-z]+\b|"  # "CDT and RWD to sort out", not "Priyanka wants to see"
    r"\b(?:will|shall|is going to|are going to|agreed to|volunteered|owns|"
    r"se encarga|se compromete|se ocupa|queda encargad|qued[oó] en|va a|van a)\b|'ll\b|"
    r"\b(?!para\b)[a-záéíóúñ]+(?:r[aá]n?|ar[aá]|er[aá]|ir[aá])\b",  # a future, not "para"
    re.IGNORECASE,
)
_LEADING_LABEL = re.compile(rf"^\s*(?P<who>{_TITLE}{_LIST})\s*(?::|\s[-–—]\s)\s*\S")
_LEAD_IN = re.compile(
    r"^(?:quedamos en que|se acord[oó] que|se acuerda que|acordamos que|se decidi[oó] que|"
    r"decidimos que|we agreed that|it was agreed that|it was decided that|agreed that|"
    r"consensus was that|also,?|tambi[eé]n|"
    # "ACTION 41.1:", "AI-3 -", "Tarea 2:": a numbered mark before the sentence
    r"(?:action(?:\s+item)?|acci[oó]n|ai|todo|to-do|tarea|task)\s*#?[\d.]*\s*[:\-–]|"
    # a meeting bot's command in a chat log: "#action jpsilva renews...", "#acuerdo se..."
    r"#(?:action|acci[oó]n|agreed|acuerdo|decision|decisi[oó]n)\b)\s*",
    re.IGNORECASE,
)
_SUBJECT_VERB = re.compile(
    # "Sergio (@sdelquin) creará ...": a handle or a role may stand between name and verb
    # and an office may name its field: "The Director of Services agreed to..."
    rf"^(?P<who>{_TITLE}{_LIST}(?:\s+(?:of|de|del)\s+(?:the\s+|la\s+)?[\w'’-]{{3,}})?)"
    rf"(?:\s*\([^()]{{1,40}}\))?\s+"
    r"(?:(?:lo|la|los|las|le|les|nos|os)\s+)?"  # "Carla lo arregla hoy"
    r"(?:se encarga|se encargar[aá]n?|se compromete|se comprometen|"
    r"will|'ll|to\s+[a-z]|shall|is going to|are going to|agreed to|agrees to|volunteered to|owns|"
    r"takes|se ocupa|se ocupar[aá]n?|queda encargad|quedan encargad|har[aá]n?\b|"
    r"qued[oó] en|quedaron en|qued[oó] de|"  # "Guada quedó en averiguar"
    r"[a-záéíóúñ]+(?:r[aá]n?|ar[aá]|er[aá]|ir[aá])\b|"
    r"[a-záéíóúñ]+(?:a|e)\b|[a-záéíóúñ]+[ae]n\b|[a-z]+s\b)",  # "Juanchi y Ceci arman"
)
# Spanish puts the doer after the verb: "Lo mira Carla", "la carga Lucía", "lo coordina
# Eva". Present or future only: "lo comentó Juan" says who spoke, not who will do it.
_CAPITAL = r"@?[A-ZÁÉÍÓÚÑ][\w'’.-]*"
_OBJECT_VERB_NAME = re.compile(
    r"\b(?:[Ll]o|[Ll]a|[Ll]os|[Ll]as|[Ll]e|[Ll]es)\s+"
    r"(?:[a-záéíóúñ]+(?:a|e|an|en|ará|erá|irá|arán|erán|irán))\s+"
    rf"(?P<who>(?:el\s+|la\s+)?{_CAPITAL}(?:\s+{_CAPITAL})?(?:\s+(?:y|e)\s+{_CAPITAL})?)"
)
# The doer of a passive: "será aportada por Paco", "serán repartidos por Inmaculada",
# "will be circulated by the Clerk".
_PASSIVE_AGENT = re.compile(
    r"\b(?:ser[aá]n?|ser[aá]n|will be|shall be|to be)\s+[a-záéíóúñ]+\s+(?:por|by)\s+"
    rf"(?P<who>(?:(?:el|la|the)\s+)?{_CAPITAL}(?:\s+{_CAPITAL})?(?:\s+(?:y|e|and)\s+{_CAPITAL})?)"
)
_IS_CONTRACTED = re.compile(r"^([A-ZÁÉÍÓÚÑ][a-záéíóúñ]{1,20})['’]s\s+(?=\w+ing\b|going\b)")
_TIME = r"\[?\d{1,2}:\d{2}(?:\s?[AaPp]\.?[Mm]\.?)?\]?"
_CHAT_WORD = r"(?!I['’\s])[A-ZÁÉÍÓÚÑ][\w'’.-]+"  # a capitalised word, not "I'll"
_CHAT_NAME = rf"{_CHAT_WORD}(?:,?\s+{_CHAT_WORD}){{0,3}}"
# A pasted chat: "Javiera Contreras 09:34 me encargo...", "[9:17 AM] Solheim, Ingrid I'll do".
_CHAT = re.compile(rf"^(?:(?P<who>{_CHAT_NAME})\s+{_TIME}|{_TIME}\s+(?P<who2>{_CHAT_NAME}))\s+")
# "Trish (me): update the sheet": the writer names herself; the name is the owner.
_SELF_NOTE = re.compile(rf"^(\W*{_NAMES})\s*\((?:me|yo|myself)\)")
# Who moved, seconded or voted is not who does it: "(4-0, Wagner abstaining)",
# "RESOLVED (Cr Pryor / Cr Fong)", "(moved Baptiste, seconded Eze)".
_VOTE = re.compile(
    r"\d+\s*[-–]\s*\d+|abstain|abstention|abstenci|\bmoved\b|second|carried|unanim|"
    r"\bvotos?\b|a favor|en contra|propone|secunda",
    re.IGNORECASE,
)
# "tres votos a favor (GMI y GMP)", "Passed 4-1 (Gallagher no)": who voted how, not who does.
_VOTE_BEFORE = re.compile(
    r"(?:(?<![\w-])\d{1,2}\s*[-–]\s*\d{1,2}|a favor|en contra|abstenci\w*|abstentions?|\bvot\w*|passed|"
    r"carried|failed|approved|aprobad[oa]s?|rechazad[oa]s?|unanim\w*)\W*$",
    re.IGNORECASE,
)
_MOTION_BEFORE = re.compile(
    r"(?:resolved|motion|mocion|moved|carried|acuerdo|propuesta|dictamen)\W*$", re.IGNORECASE
)
# "El coordinador de obras, señor Jhon Jairo Pérez, presentará...": the name in apposition.
_APPOSITION = re.compile(
    rf"^(?:[Ee]l|[Ll]a|[Tt]he)\s+[^,]{{3,60}},\s*(?P<who>{_TITLE}{_NAMES}),\s+\S"
)
_SELF = re.compile(
    r"\b(?:yo|me encargo|me ocupo|me comprometo|lo hago yo|lo preparo yo|lo env[ií]o yo|"
    r"me toca|i'll|i will|i'm going to|i am going to|i can take|i take|myself|i own)\b",
    re.IGNORECASE,
)
_EVERYONE = re.compile(
    r"\b(?:todos|todas|todo el equipo|todo el mundo|cada uno|cada una|everyone|everybody|"
    r"all of us|the whole team|whole team|all participants|all attendees|each of us|all)\b",
    re.IGNORECASE,
)
_EVERYONE_FIRST = re.compile(
    r"^(?:todos|todas|todo el equipo|cada uno|cada una|everyone|everybody|all of us|"
    r"the whole team|each of us|all)\b",
    re.IGNORECASE,
)
_NOT_NAMES = frozenset(
    fold(word)
    for word in (
        "se el la los las un una lo que y de del para con en al por the a an to we it this that "
        "they he she i you our all everyone todos nadie nobody tbd tbc n/a na pending pendiente "
        "done hecho ok si sí no and or also then next new old item items action actions acción "
        "acciones tarea tareas decision decisión owner responsable due fecha status estado "
        "team equipo everyone info fyi noted".split()
    )
)


@dataclass(frozen=True)
class Owners:
    emails: tuple[str, ...]
    external: str | None
    how: str  # which rule found them ("" when nobody)


NOBODY = Owners((), None, "")


def find_owners(candidate: Candidate, people: PeopleIndex) -> Owners:
    """The owners of a candidate action, resolved against ``people``."""
    text = _SELF_NOTE.sub(r"\1", candidate.text)
    writer = people.sender  # who "I", "yo", "me encargo" mean
    if candidate.speaker and candidate.marker == "speaker":
        # In a chat or transcript turn "I" is whoever says it: "Bruno: I can pull those".
        said = _resolve(candidate.speaker, people, "speaker")
        if said and len(said.emails) == 1:
            writer = said.emails[0]
    chat = _CHAT.match(text)
    if chat:
        said = _resolve(chat.group("who") or chat.group("who2"), people, "speaker")
        if said and len(said.emails) == 1:
            writer = said.emails[0]
            text = text[chat.end() :]

    def resolve(mention: str, how: str, short_prefix: bool = False) -> Owners | None:
        return _resolve(mention, people, how, short_prefix, me=writer)

    cell = candidate.cells.get("owner")
    if cell:
        return resolve(cell, "table") or Owners((), _external(cell), "table")
    if candidate.group:  # "Luis:" heading his tasks; a decision under it stays a decision
        found = resolve(candidate.group, "group")
        if found:
            return found
    for pattern in _EXPLICIT:
        for match in pattern.finditer(text):
            found = resolve(match.group("who"), "explicit")
            if found:
                return found
            external = _external(match.group("who"))
            if external:
                return Owners((), external, "explicit")
    handles = _HANDLE_LIST.match(text)
    if handles:  # "@wkhan and @pbarros to write..."
        found = resolve(re.sub(r"\s*\+?\s*(?=@)", ", ", handles.group("who")), "handle")
        if found:
            return found
    for match in _HANDLE.finditer(text):
        found = resolve(match.group("who"), "handle")
        if found:
            return found
    trailing = _TRAILING.search(text)
    if (
        trailing
        and (
            _VOTE.search(trailing.group(0))
            or _VOTE_BEFORE.search(text[: trailing.start()][-40:])
            # "Present: Ana, Luis" is a field; "Investigar los accidentes...: Luz Ángela" a task
            or (trailing.group("colon") and not _task_before_colon(text[: trailing.start()]))
        )
    ):
        trailing = None
    if trailing:
        who = (
            trailing.group("paren")
            or trailing.group("bracket")
            or trailing.group("dash")
            or trailing.group("colon")
            or ""
        )
        found = resolve(who, "trailing")
        if found:
            return found
    for enclosed in _ENCLOSED.finditer(text):
        who = enclosed.group("bracket") or enclosed.group("paren") or enclosed.group("dashed") or ""
        before = text[: enclosed.start()]
        if _VOTE.search(who) or _MOTION_BEFORE.search(before) or _VOTE_BEFORE.search(before[-40:]):
            continue
        found = resolve(who, "enclosed")
        if found:
            return found
    vocative = _VOCATIVE.match(text)
    if vocative:  # "Tomi, ¿podés actualizar el brandbook?": asked of Tomi
        found = resolve(vocative.group("who"), "subject")
        if found:
            return found
    # A chat or transcript turn is said by its speaker, not given to them: "we're freezing
    # merges" is the team's, "Carmen signs off" is Carmen's. The speaker owns it when they
    # say "I", else only when nothing in the line names anyone (see the end).
    turn = candidate.marker == "speaker" and candidate.section_kind != "actions"
    if candidate.speaker and (not turn or _SELF.search(text)):
        how = "speaker" if _SELF.search(text) else "label"
        found = resolve(candidate.speaker, how, short_prefix=candidate.marker == "label")
        if found:
            return found
    if candidate.marker == "label" and (candidate.label or "").startswith(
        ("action", "accion", "todo", "ai")
    ):
        # MeetBot and friends: "ACTION: nick verb ...", the doers come first.
        doers = _SUBJECT_VERB.match(text) or _LEADING_LABEL.match(text)
        if doers:
            found = resolve(doers.group("who"), "label")
            if found:
                return found
        first = text.split(maxsplit=1)[0] if text.split() else ""
        found = resolve(first, "label")
        if found:
            return found
    leading = _LEADING_LABEL.match(text)
    if leading:
        found = resolve(leading.group("who"), "label")
        if found:
            return found
    body = _LEAD_IN.sub("", text.strip(), count=1)
    apposition = _APPOSITION.match(body)
    if apposition:
        found = resolve(apposition.group("who"), "subject")
        if found:
            return found
    # The sentence's subject: at the start, after a topic ("Uniform jackets: Lena will"),
    # or in a later clause ("En cuanto a los pasos, Pedro preparará"; "...; el Director
    # se compromete a publicarlos").
    topic = _TOPIC.match(body)
    starts = [0, topic.end()] if topic else [0]
    # A subject stands near its clause's start: a bounded look at the first clauses keeps a
    # candidate of a megabyte (a pasted log with no line breaks) linear.
    starts += [clause.end() for clause in islice(_CLAUSE.finditer(body), MAX_CLAUSES)]
    strict = {joined.end() for joined in islice(_CONJUNCTION.finditer(body), MAX_CLAUSES)}
    # A clause that commits ("Elena will add", "Dev will pull") names the owner before one
    # that only reports ("Jordan worried about...; Elena will add an upgrade section").
    weak: Owners | None = None
    for start in sorted(set(starts) | strict):
        clause = _LEAD_IN.sub("", body[start : start + 300], count=1)
        # "Omar's calling the company": that "'s" is "is", not a possessive.
        subject = _SUBJECT_VERB.match(_IS_CONTRACTED.sub(r"\1 is ", clause, count=1))
        if subject:
            found = resolve(subject.group("who"), "subject")
            if found and _COMMITS.search(clause[subject.end("who") : subject.end() + 10]):
                return found
            if start in strict and start not in starts:
                continue
            weak = weak or found
            if found:
                continue  # "CDT and RWD to sort out": not the office "CDT" alone
        office = people.office_at_start(clause)
        if office:
            found = resolve(office, "subject")
            if found:
                return found
    if weak:
        return weak
    inverted = _OBJECT_VERB_NAME.search(body)
    if inverted:
        found = resolve(inverted.group("who"), "subject")
        if found:
            return found
    passive = _PASSIVE_AGENT.search(body)
    if passive:
        found = resolve(passive.group("who"), "subject")
        if found:
            return found
    if _EVERYONE_FIRST.match(body):
        return Owners(tuple(people.everyone), None, "everyone")
    if _SELF.search(text) and writer:
        return Owners((writer,), None, "self" if writer == people.sender else "speaker")
    if trailing:
        who = trailing.group("paren") or trailing.group("bracket") or ""
        external = _external(who)
        if external:
            return Owners((), external, "trailing")
    if turn and candidate.speaker:
        found = resolve(candidate.speaker, "turn")
        if found:
            return found
    return NOBODY


MAX_CLAUSES = 12
# Someone addressed and asked: "Tomi, ¿podés...?", "Ana, can you send...", "Luis, please...".
_VOCATIVE = re.compile(
    r"^\W{0,3}(?P<who>@?[A-ZÁÉÍÓÚÑ][\w'’.-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]+)?)\s*,\s*"
    r"(?:¿|(?i:can you|could you|would you|will you|you take|you do|please|pls|pod[eé]s|puedes|"
    r"podr[ií]as|t[uú] (?:te|me|nos|juntas|traes|haces|llevas|llamas|mandas|pasas|compras)|vos |"
    r"te encarg[aá]s|te animas|te anim[aá]s|me pas[aá]s|nos pas[aá]s|me mand[aá]s))"
)
_ME = frozenset({"yo", "me", "i", "myself", "mi", "moi"})
# Words that make a mention a group of people, never one participant.
_GROUP = re.compile(r"^(?:team|teams|group|staff|crew|comms|equipo|grupo)$")


def _split_names(text: str) -> list[str]:
    # "al Presidente y a la Secretaria": the preposition of an entrusting goes.
    text = re.sub(r"(?:^|(?<=\s))(?:a\s+l[oa]s?|al|a)\s+(?=[A-ZÁÉÍÓÚÑ])", "", text.strip())
    parts = re.split(r"\s*(?:,|/|&|;|\by\b|\band\b|\be\b|\+)\s*", text)
    return [part.strip(" .:;()[]*_") for part in parts if part.strip(" .:;()[]*_")]


def _resolve(
    text: str,
    people: PeopleIndex,
    how: str,
    short_prefix: bool = False,
    me: str | None = None,
) -> Owners | None:
    """Every name in ``text`` that resolves to exactly one participant; None if none does.

    "yo", "I", "me" are ``me`` (the writer of a chat line), else the sender."""
    me = me or people.sender
    if _EVERYONE.fullmatch(text.strip().lower()):
        return Owners(tuple(people.everyone), None, how)
    emails: list[str] = []
    for name in _split_names(text):
        shared = _shared_office(name, people)
        if shared:
            emails.extend(email for email in shared if email not in emails)
            continue
        if fold(name) in _ME and me:
            found = {me}
        elif fold(name) in _NOT_NAMES and not people.by_initials(name):
            continue
        else:
            found = people.resolve(name, short_prefix=short_prefix)
        inner = _BRACKETED_NAME.search(name) if len(found) != 1 else None
        if inner:  # "IRTA (Anna)": the person of an organisation
            found = people.resolve(inner.group(1))
        if len(found) != 1:
            # "Juan Pérez (Legal)" or "Ana García, project lead": try the leading words
            # ("yo preparamos" is the writer); "GW Transit comms team" is a team, not
            # the participant from GW Transit.
            words = name.split()
            while len(found) != 1 and len(words) > 1:
                if _GROUP.search(fold(words[-1])):
                    break
                words = words[:-1]
                if len(words) == 1 and fold(words[0]) in _ME and me:
                    found = {me}
                else:
                    # A line in capitals ("EL PRESIDENTE") has no initials in it.
                    found = people.resolve(" ".join(words), initials=not name.isupper())
        if len(found) == 1:
            email = next(iter(found))
            if email not in emails:
                emails.append(email)
    return Owners(tuple(emails), None, how) if emails else None


# "...presentada por: Luis Pérez", "moved and seconded: Kim, Bob": who proposed, not who does.
_AGENT_WORDS = frozenset({"by", "por", "of", "de", "del", "seconded", "moved", "from"})
_VOTED = re.compile(r"\b(?:se aprueba|aprobad|approved|motion|mocion|moved|seconded|votaci)")


def _task_before_colon(before: str) -> bool:
    """Whether what stands before "...: Édison, mañana" is a task: four words or more, no
    field of its own, ending in a lowercase word or a number ("Chairs: Mare" and "Prepared
    by: Marc" are fields)."""
    words = before.split()
    if ":" in before or len(words) < 4 or _VOTED.search(fold(before)):
        return False
    last = words[-1]
    return last.isdigit() or (last[:1].islower() and fold(last) not in _AGENT_WORDS)


_BRACKETED_NAME = re.compile(r"\(\s*([^()]{2,40}?)\s*\)?\s*$")


def names_participant(text: str, people: PeopleIndex) -> bool:
    """Whether ``text`` is only a name (or names) of participants: "Luis", "Yo", "Ana y Juan"."""
    return _resolve(text, people, "label") is not None


def _shared_office(name: str, people: PeopleIndex) -> tuple[str, ...]:
    """The participants an office several hold names ("Chairs", "Chairs will"), if any."""
    if not people.groups:
        return ()
    words = name.split()
    while words:
        shared = people.group(" ".join(words))
        if shared:
            return shared
        words = words[:-1]
    return ()


def _external(text: str) -> str | None:
    """An owner named but not a participant: kept as written, if it looks like a name or a role."""
    # "la Decana para suscribir el convenio": the name ends where the clause starts.
    cleaned = re.split(r"\s+(?:para|que|por|con|to|for|with|who)\s+", text.strip())[0]
    cleaned = cleaned.strip(".;:,[]*_ ")
    # Brackets go only when unbalanced: "Prevenalia (SPA)" keeps its own.
    while cleaned.endswith(")") and cleaned.count(")") > cleaned.count("("):
        cleaned = cleaned[:-1].rstrip()
    while cleaned.startswith("(") and cleaned.count("(") > cleaned.count(")"):
        cleaned = cleaned[1:].lstrip()
    if cleaned.startswith("(") and cleaned.endswith(")") and cleaned.count("(") == 1:
        cleaned = cleaned[1:-1].strip()
    if not cleaned or len(cleaned) > 40 or fold(cleaned) in _NOT_NAMES:
        return None
    if re.fullmatch(r"(?:tbd|tbc|n/?a|-+|—|pendiente|nadie|nobody|none|\?+)", fold(cleaned)):
        return None
    if re.match(r"^\d", cleaned) or re.search(r"\d{1,2}[/.-]\d{1,2}", cleaned):
        return None
    return cleaned


def strip_lead_in(text: str) -> str:
    """Text without an agreement lead-in: "Quedamos en que Ana revisa" -> "Ana revisa"."""
    return _LEAD_IN.sub("", text.strip(), count=1)
