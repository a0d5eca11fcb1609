"""Minutes text cut into candidate items: list entries, table rows, labelled lines, sentences.

The segmenter knows layout, not meaning: it finds headings (Markdown ``#``,
underlined, ``Title:`` lines, capitals, bold, numbered titles), list items
(bullets, numbers, letters, checkboxes) with their continuation lines, table
rows (with the header row telling which cell is the task, the owner, the
date), labelled lines (``ACTION:``, ``Acuerdo:``, ``Resolution #1:``), and
splits prose into sentences (and "Quedamos en que A y que B" into A and B).
Each candidate keeps the section it stands in and how it was marked; the
classifier decides what it is. The same code cuts the training corpus and
incoming mail, so what is learned is what is met.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from mailtrack.nlp.dates import fold
from mailtrack.nlp.sections import heading_text, section_kind

MAX_LINES = 4000  # minutes longer than this are cut: no real minutes are
MAX_ITEM_CHARS = 1200


@dataclass
class Candidate:
    """A piece of minutes that may be an item."""

    text: str
    section: str | None
    section_kind: str
    marker: str  # bullet | number | check_open | check_done | table | label | prose | speaker
    label: str | None = None  # ACTION / AGREED / RESOLVED ... for labelled lines
    speaker: str | None = None  # "Geoffrey: I'll open a PR" -> Geoffrey
    cells: dict[str, str] = field(default_factory=dict)  # table: role -> cell text
    order: int = 0
    group: str | None = None  # who a heading or a parent entry names: "Luis:" over his tasks


_BULLET = re.compile(
    r"^(?P<indent>\s*)(?P<marker>(?:[-*•·–—+▪►➢✓✔→◦●○■▸▶➡⁃]|📌|👉|🔹|🔸|🔷|🔶)\ufe0f?|\d{1,3}[.)](?!\d)|\(?\d{1,3}\)|[a-zA-Z][.)](?=\s)|\((?:[a-zA-Z]|[ivx]{2,4})\)|"
    r"\[[ xX✓✔]?\]|☐|☑|☒|✅|⬜|🔲)\s+(?P<rest>.*\S)"
)
# Action-log codes at the start of a line: "CA-1  ...", "26/31  ...", "18.1 | ...", "A3: ...",
# "22-1  ..." (meeting 22, action 1).
_CODE = re.compile(
    r"^(?P<indent>\s*)(?P<marker>[A-Z]{1,4}-?\d{1,3}(?:\.\d{1,3})?|\d{1,4}[/.]\d{1,3}|"
    r"\d{1,3}-\d{1,3}(?=\s{2}|\t)):?\s{1,}(?P<rest>\S.*)$"
)
_DASH_COLUMNS = re.compile(r"^\s*-{2,}(?:\s+-{2,})+\s*$")
_CHECK = re.compile(r"^(?P<box>\[[ xX✓✔]?\]|☐|☑|☒|✅|⬜|🔲)\s*(?P<rest>.*)$")
_LABEL = re.compile(
    r"^\W{0,4}(?P<label>acciones|acción|accion|action(?:\s+items?)?|ai|todo|to-do|tarea|decisión|"
    r"decision|decisiones|acuerdos?|agreed|resolved|resolution|resolución|resolucion|decided|"
    r"se acuerda|se resuelve|compromiso|consensus|consenso|conclusion|conclusión|acordado|"
    r"idea|info|help|link|note|nota|proposed resolution|propuesta)"
    # numbering of the label itself: "Action #3", "ACUERDO PRIMERO", "Acuerdo 2", "AI (mo)",
    # "DECISION 70.2" (meeting 70, second decision)
    r"\s*(?:#\s*\d+|\d+(?:\.\d+)*[º°]?|primero|segundo|tercero|cuarto|quinto|sexto|s[eé]ptimo|octavo|noveno|"
    r"d[eé]cimo|[uú]nico|\((?P<who>[^()]{1,30})\))?"
    r"\s*\**\s*(?:[:\-–→]|\.-|=>)\s*\**\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_SPEAKER = re.compile(
    r"^\W{0,3}(?P<name>[A-ZÁÉÍÓÚÑ][\w'.-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w'.-]+){0,2})\W{0,3}:\s+(?P<rest>\S.*)$"
)
# Chat and IRC lines: "[10:02] Ana: texto", "[17:00] <sokonkwo> text",
# "12/3/26, 10:02 - Ana: texto" (WhatsApp), "Ana García 10:02 AM: text".
_CHAT = re.compile(
    r"^\[?(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4},?\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?\s?m\.?)?\]?"
    r"\s*(?:-\s*)?(?:<(?P<nick>[^<>\s]{1,40})>|(?P<name>[^:<>\[\]]{1,40}):)\s+(?P<rest>\S.*)$",
    re.IGNORECASE,
)
# Matrix and similar: "@teodora:server.example (18:02): text"; meeting transcripts:
# "Owen Trevelyan (00:03:40): I'll file the request".
_CHAT_AFTER = re.compile(
    r"^(?P<name>@?[\w.:-]{2,60}(?:\s[\w.'’-]{1,30}){0,3})\s+\(\d{1,2}:\d{2}(?::\d{2})?\):\s+"
    r"(?P<rest>\S.*)$"
)
# Discord and Slack copy the author on a line of its own: "frostbyte — Today at 20:02".
_CHAT_AUTHOR = re.compile(
    r"^(?P<name>\S[^—\n]{0,40}?)\s+(?:—|-)\s+(?:today|yesterday|hoy|ayer|\d{1,2}/\d{1,2}/\d{2,4})"
    r"(?:\s+(?:at|a las))?\s+\d{1,2}:\d{2}(?:\s*[ap]m)?\s*$",
    re.IGNORECASE,
)
# Slack and Teams copies: "Hannah Liu  9:02 AM" alone on its line, the message below;
# Telegram's "Nicolás Paz, [11.03.26 22:14]" likewise. Taken as an author line only when
# a mail has two of them (a chat, not an agenda time).
_CHAT_AUTHOR_TIME = re.compile(
    r"^(?P<name>@?[A-ZÁÉÍÓÚÑ][\w'.-]*(?:\s[A-ZÁÉÍÓÚÑ][\w'.-]*){0,3}),?\s+\[?"
    r"(?:\d{1,2}[./-]\d{1,2}[./-]\d{2,4},?\s+)?\d{1,2}:\d{2}"
    r"(?:\s*[ap]\.?\s?m\.?)?\]?\s*$",
    re.IGNORECASE,
)
# Telegram exports: "Nicolás Paz, [11.03.26 22:18] listo, tocamos el sábado".
_CHAT_TELEGRAM = re.compile(
    r"^(?P<name>[^,\[\]:]{1,40}),\s+\[\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\]"
    r"\s+(?P<rest>\S.*)$"
)
# MeetBot commands, in English or as Spanish-speaking channels write them.
_MEETBOT = (
    "#action", "#agreed", "#info", "#idea", "#help", "#link",
    "#accion", "#acción", "#acuerdo", "#decision", "#decisión",
)  # fmt: skip
_ARROW_LINE = re.compile(
    r"^\W{0,3}[A-ZÁÉÍÓÚÑ@][\w'’.@-]*(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]*)?\s*(?:→|->|=>)\s*\S"
)
_UNDERLINE = re.compile(r"^\s*[=\-~^*_]{3,}\s*$")
_MD_HEADING = re.compile(r"^\s*#{1,6}\s+\S")
_BOLD_LINE = re.compile(r"^\s*(?:\*\*|__)[^*_]+(?:\*\*|__)\s*:?\s*$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
_MEETBOT_TAIL = re.compile(r"\s*\((?:[\w.@-]+),\s*\d{1,2}:\d{2}(?::\d{2})?\)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'«¿¡(]?[A-ZÁÉÍÓÚÑ0-9])")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:sr|sra|srta|dr|dra|d|dña|ing|lic|mr|mrs|ms|st|no|nº|p\.ej|e\.g|i\.e|etc|vs|aprox|approx|ref|art|núm|num|tel|arq|qf|cllr|cr|prof|profa|lda|ldo|abg|abog|farm|enf|mtro|mtra|psic|fr|rev|hon|jr|mgtr|cp|rs|avda|avd|pza|urb|dpto|depto|telf|tlf)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)
_ANNOUNCES = re.compile(
    r"(?:where we landed|what we (?:agreed|decided)|(?:we|they) agreed|the (?:outcome|decisions?)|"
    r"lo que (?:acordamos|decidimos|quedamos|se acordo|se decidio)|"
    r"(?:esto|estos|aqui) (?:es|son|va|van)"
    r" (?:lo|los) (?:acordado|acuerdos)|quedamos (?:en|asi)|acordamos lo siguiente|"
    r"(?:we|se) (?:agreed|acordo|decidio) (?:on )?(?:the following|lo siguiente))[\s.:!]*$"
)
_THAT_SPLIT = re.compile(
    r"\s+(?:y|e)\s+(?:en\s+)?que\s+|\s+and\s+that\s+|"
    # a new subject after a comma: "..., and Pieter said", "..., y Juan se compromete"
    r",\s+(?:and|y|e)\s+(?=[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+\s)"
)
# After an agreement lead-in, "A and the B" are two agreements.
_LEAD_IN = re.compile(
    r"^(?:we agreed|it was agreed|it was decided|consensus was|quedamos en|se acord[oó]|"
    r"acordamos|se decidi[oó]|decidimos)\b",
    re.IGNORECASE,
)
# A list entry that only gives a field of the entry above it: "Resp.: Adriana", "Due: 3/4".
_CHILD_FIELD = re.compile(
    r"^\**(?P<name>[^\W\d][\w .]{1,20}?)\**\s*[:–]\s*\**(?P<value>\S.{0,80})$"
)
_AND_THE = re.compile(r"\s+(?:and|y)\s+(?=(?:the|el|la|los|las)\s)", re.IGNORECASE)

_ROLE_WORDS = {
    "owner": r"responsables?|responsib\w*|resp\.?|owners?|quien|who|assigned(?: to)?|asignad[oa]|"
    r"encargad[oa]|a cargo|lead|action by|by whom|accountable|persona|person|por|dri|assignees?|poc",
    "due": r"fecha(?: limite)?|due(?: date)?|plazo|deadline|cuando|when|by|limite|date|vence|"
    r"vencimiento|target|timeline|time ?frame|eta|entrega",
    "status": r"estado|status|state|situacion",
    "kind": r"tipo|type|kind|categoria|category",
    "number": r"#|n[ºo°]|num|id|ref",
    "text": r"tareas?|tasks?|items?|acci(?:on|ones)|actions?|descripci[oó]n|description|acuerdos?|"
    r"decisi(?:on|ones)|decisions?|temas?|topics?|asuntos?|que|what|detalle|details?|puntos?|"
    r"actividad(?:es)?|activity|compromisos?",
}


_ROLES = tuple((role, re.compile(rf"(?:{words})(?:\s.*)?")) for role, words in _ROLE_WORDS.items())


def _role_of(header: str) -> str | None:
    folded = fold(header).strip(" *:_")
    for role, pattern in _ROLES:
        if pattern.fullmatch(folded):
            return role
    return None


def _split_cells(line: str) -> list[str]:
    stripped = line.strip()
    if "|" in stripped:
        cells = [cell.strip() for cell in stripped.strip("|").split("|")]
    else:
        cells = [cell.strip() for cell in stripped.split("\t")]
    return cells


def _is_table_row(line: str) -> bool:
    if _TABLE_SEPARATOR.match(line):
        return True
    cells = _split_cells(line) if ("|" in line or "\t" in line) else []
    return len([cell for cell in cells if cell]) >= 2


_TITLE_WORDS = re.compile(r"\b(?:minutes|acta)\b")

# The owner and date of the entry above, on a line of their own: "Owner - Luis. Due next
# meeting", "|  | Action by: SM  Date: 25 Aug", "Responsable: Ana · Plazo: 15/12".
_FIELD_NAME = re.compile(
    r"(?:^|(?<=[\s.;,·]))(?P<name>action by|owners?|responsables?|responsible|resp\.|resp|"
    r"assigned to|asignad[oa] a|encargad[oa]|due(?: date)?|date|"
    r"fecha(?: l[ií]mite)?|plazo|deadline|by when|cu[aá]ndo)(?P<sep>\s*:\s*|\s+[-–—]\s+|\s+)",
    re.IGNORECASE,
)


def _field_line(line: str) -> dict[str, str] | None:
    """The owner (and date) a line gives and nothing else; None for any other line."""
    if len(line) > 160:
        return None
    text = re.sub(r"\s{2,}", " ", line.replace("|", " ")).strip(" *_>")
    found = list(_FIELD_NAME.finditer(text))
    if not found or found[0].start() != 0 or not found[0].group("sep").strip():
        return None
    fields: dict[str, str] = {}
    for here, after in zip(found, [*found[1:], None], strict=True):
        role = _role_of(here.group("name"))
        value = text[here.end() : after.start() if after else len(text)].strip(" .;,·")
        if role not in ("owner", "due") or role in fields or len(value) > 60:
            return None
        fields[role] = value
    if "owner" not in fields or fields["owner"].count(",") >= 2:
        return None  # "Who: Marcus, Jenna, Rafael, me" lists who came
    # "Action by: -  Date: -": a row that gives nobody and no date.
    return {role: value for role, value in fields.items() if any(c.isalnum() for c in value)}


# A name alone on its line, a participant's: "Luis:", "**Freddy**", "### Ana García".
_NAME_HEADING = re.compile(r"^[^\W\d][\w'’.@-]*(?:\s+[^\W\d][\w'’.@-]*){0,3}$")


_SALUTATION = re.compile(
    r"^(?:estimad[oa]s?|querid[oa]s?|apreciad[oa]s?|hola|buen[oa]s?|dear|hi|hello|hey|"
    r"greetings|good|senor[ae]s|srs|sres)\b"
)


def _person_heading(
    line: str, next_line: str, person: Callable[[str], bool], alone: bool = True
) -> str | None:
    """The participant a line names when it only names them, over their tasks; a bare
    name ("Kim Tran") only ``alone`` (after a blank line) and over a list."""
    stripped = line.strip()
    marked = (
        stripped.endswith((":", "："))
        or _BOLD_LINE.match(stripped)
        or _MD_HEADING.match(stripped)
        or (alone and _BULLET.match(next_line) and not stripped.endswith("."))
    )
    if not marked or len(stripped) > 48 or not next_line.strip():
        return None
    name = heading_text(plain(stripped))
    if _SALUTATION.match(fold(name)):
        return None  # "Estimados Matías y Constanza:" greets them
    if not _NAME_HEADING.match(name) or section_kind(name) != "other":
        return None
    return name if person(name) else None


# "Asistentes: Ana, Luis", "Apologies: Fr. Liam Doherty", "Next meeting: 20 May".
_FIELD = re.compile(r"^\W{0,3}(?P<name>[^\W\d][\w ]{1,30}?)\W{0,3}:\s*\S")
_FIELD_KINDS = frozenset({"attendance", "agenda", "next_meeting"})


def field_kind(stripped: str) -> str | None:
    """The section kind of a one-line field ("Apologies: Fr. Liam Doherty"), if it is one."""
    found = _FIELD.match(stripped)
    kind = section_kind(found.group("name")) if found else None
    return kind if kind in _FIELD_KINDS else None


def _has_children(bullet: re.Match[str], next_line: str) -> bool:
    """A list entry with entries indented under it is their parent ("* Agenda bashing, All"
    over "    * Approved."): it names their section, not that of every line after it."""
    child = _BULLET.match(next_line)
    return bool(child and len(child.group("indent")) > len(bullet.group("indent")))


def _is_heading(line: str, next_line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > 90:
        return False
    if field_kind(stripped):
        return False
    if _MD_HEADING.match(stripped) or _BOLD_LINE.match(stripped):
        return True
    if _LABEL.match(stripped.lstrip(">").strip().strip("*_")):
        return False  # "Action #2: add tests" is an item that names its kind
    if _UNDERLINE.match(next_line) and not _UNDERLINE.match(stripped):
        return True
    bullet = _BULLET.match(stripped)
    if bullet and not _number_of(bullet.group("marker")) and not stripped.endswith(":"):
        # A bullet heads a list only as a bare name: "- Acuerdos", "* Old action items".
        # "- Update the docs" and "* open floor (jlopez, 19:40:02)" are entries.
        named = heading_text(bullet.group("rest")).split()
        if len(named) > 3 or (len(named) > 1 and fold(named[1]) in _DETERMINERS):
            return False
    words = stripped.split()
    text = heading_text(stripped)
    if not text:
        return False
    if stripped.endswith((":", "：")) and len(words) <= 8:
        return True
    kind = section_kind(stripped)
    if (
        len(words) <= 5
        and not stripped.endswith((".", ";", ",", "?", "!"))
        and kind not in ("other", "none")
        # "Outcomes", "Conclusiones" head a section; "Acta reunión 12/3" titles the whole
        and not (kind == "mixed" and _TITLE_WORDS.search(fold(text)))
    ):
        return True
    letters = [char for char in text if char.isalpha()]
    if len(letters) >= 4 and all(char.isupper() for char in letters) and len(words) <= 8:
        return True
    numbered = re.match(
        r"^\s*(?:\d+(?:\.\d+)*[.)]?|[IVX]+[.)]|item\s+\d+\s*[-–:]|punto\s+\d+\s*[-–:])\s+\S",
        stripped,
        re.IGNORECASE,
    )
    if numbered and len(words) <= 7 and not stripped.endswith((".", ";", ",")):
        return section_kind(stripped) not in ("other", "none") or bool(
            re.match(r"^\s*(?:item|punto)\s+\d+", stripped, re.IGNORECASE)
        )
    return False


# Markdown emphasis and code spans ("**Sergio** contactará", "`@handle`"): minutes kept
# in Markdown are full of them, and a name in bold is still a name.
_MARKUP = re.compile(r"[*_`\[]")
_STRONG = re.compile(r"\*\*|__")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")


_MD_LINK = re.compile(r"\[([^\]\n]{1,200})\]\([^()\s]{0,300}\)")


def plain(text: str) -> str:
    """``text`` without Markdown emphasis, code-span marks or link targets
    ("[Resolution #2](#resolution2): close issue 2" is "Resolution #2: close issue 2")."""
    if not _MARKUP.search(text):
        return text  # most lines have no Markdown, and each is asked several times
    text = _MD_LINK.sub(r"\1", text)
    text = _STRONG.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    return _CODE_SPAN.sub(r"\1", text)


# Spanish actas number their points in words: "TERCERO.- Se faculta al Presidente...".
_ORDINAL_LEAD = re.compile(
    r"^(?:primer[oa]|segund[oa]|tercer[oa]|cuart[oa]|quint[oa]|sext[oa]|s[eé]ptim[oa]|"
    r"octav[oa]|noven[oa]|d[eé]cim[oa]|und[eé]cim[oa]|duod[eé]cim[oa]|[uú]nic[oa])"
    r"\s*(?:\.-|\.|:|-|–)\s*",
    re.IGNORECASE,
)


def _clean(text: str) -> str:
    text = _MEETBOT_TAIL.sub("", text)
    text = re.sub(r"\s+", " ", plain(text)).strip()
    text = _ORDINAL_LEAD.sub("", text.strip("*_`").strip())
    return text[:MAX_ITEM_CHARS]


_BOXES = ("[", "☐", "☑", "☒", "✅", "⬜", "🔲")
# Sentences that annotate the one before ("Responsable: X.", "Fecha: 10 de abril.") stay with it.
_ANNOTATION = re.compile(
    r"^(?:responsables?|resp\.?|owners?|fecha|plazo|due|deadline|by|para el|para|antes del?|"
    r"estado|status|passed|approved|aprobad[oa]|carried|it passes|votes?|votaci[oó]n)\b",
    re.IGNORECASE,
)
MIN_SENTENCE_WORDS = 5


def item_pieces(text: str) -> list[str]:
    """A list entry cut into full sentences; short or annotating ones stay with the one before."""
    pieces: list[str] = []
    for sentence in sentences(text):
        if pieces and (
            len(sentence.split()) < MIN_SENTENCE_WORDS or _ANNOTATION.match(sentence.strip("*_ "))
        ):
            pieces[-1] = f"{pieces[-1]} {sentence}"
        else:
            pieces.append(sentence)
    return pieces or [text]


# The number of a point or an agreement ahead of its text: "A1.", "II.", "3.2.".
_ENUMERATOR = re.compile(r"\W{0,2}(?:[A-Z]{1,3}-?\d{1,3}|[IVXL]{1,5}|\d{1,3}(?:\.\d{1,3})*)\.")


def sentences(paragraph: str) -> list[str]:
    """Split prose into sentences, not at "Sr." or "J. Tremblay" or "12.000"."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(paragraph):
        before = paragraph[start : match.start()]
        if _ABBREVIATIONS.search(before):
            continue
        if not _ENUMERATOR.fullmatch(before.strip()):
            pieces.append(before)  # "A1. Se aprueba...", "II. Se somete...": the number goes
        start = match.end()
    pieces.append(paragraph[start:])
    result: list[str] = []
    for piece in pieces:
        for part in _THAT_SPLIT.split(piece):
            if _LEAD_IN.match(part.strip()):
                result.extend(_AND_THE.split(part))
            else:
                result.append(part)
    return [piece.strip() for piece in result if piece.strip()]


_LIST_SECTIONS = frozenset({"agenda", "attendance"})


def _number_of(marker: str) -> int | None:
    digits = re.match(r"\(?(\d{1,3})", marker)
    return int(digits.group(1)) if digits else None


class _Builder:
    def __init__(self) -> None:
        self.candidates: list[Candidate] = []
        self.heading: str | None = None
        self.kind = "none"
        self.paragraph: list[str] = []
        self.table_roles: list[str | None] | None = None
        # Open list items by indent: a bullet with children ("* Action item review" over
        # "  * Johan: ... Done.") names the section of its children, "- Luis:" their owner.
        self.parents: list[tuple[int, str, str | None]] = []
        # An agenda or an attendance list ends with its block: what follows a blank line
        # is the body of the minutes unless it goes on with the same list.
        self.block_closed = False
        self.list_number = 0
        # A participant's name heading the lines below it ("Luis:", "**Freddy**", a <dt>):
        # their tasks. It ends at the next heading, name, or blank line after its lines.
        self.group: str | None = None
        # the shape of the group's first line: "bullet", "number", or "" for prose
        self.group_shape: str | None = None
        self.heading_at = -1  # the line of the last heading
        # every name heading, in order, with the topic it stands under: a topic starts at
        # each heading and at each line of prose outside a name's lines ("Proyecto Web")
        self.named: list[tuple[int, str]] = []
        self.topic = 0

    def emit(self, candidate: Candidate) -> None:
        candidate.text = _clean(candidate.text)
        if len(candidate.text) >= 3 and any(char.isalpha() for char in candidate.text):
            candidate.order = len(self.candidates)
            candidate.group = candidate.group or self.group
            if not candidate.group and not candidate.speaker:
                self.topic += 1  # "Proyecto Web", "1. Proyecto App": a topic of their own
            self.candidates.append(candidate)

    def set_heading(self, text: str) -> None:
        self.flush()
        self.topic += 1
        self.heading = heading_text(text)
        self.kind = section_kind(text)
        self.table_roles = None
        self.parents = []
        self.block_closed = False
        self.list_number = 0
        self.group = None

    def close_block(self) -> None:
        """A blank line: an agenda or attendance list that has lines has ended its block."""
        self.flush()
        if self.group and self.candidates and self.candidates[-1].group == self.group:
            self.group = None
        if self.kind in _LIST_SECTIONS and (
            self.candidates and self.candidates[-1].section == self.heading
        ):
            self.block_closed = True

    def leave_list_section(self, line: str) -> None:
        """After an agenda or attendance block, a line that does not go on with its list
        starts the body: "Orden del día: 1. ... 5. Ruegos y preguntas." and, after a blank
        line, "1. Queda aprobado el acta anterior" or "Se aprueba..." are not agenda."""
        if self.kind not in _LIST_SECTIONS:
            return
        bullet = _BULLET.match(line)
        if bullet:
            number = _number_of(bullet.group("marker"))
            if number is None:
                return  # more points of the same list
            if number > self.list_number:
                self.list_number = number
                return
        elif not self.block_closed:
            return
        # Prose after the list's block, or its numbering starting again.
        self.heading = None
        self.kind = "none"
        self.parents = []
        self.list_number = 0

    def nested_kind(self, indent: int) -> str:
        """The section kind of a list item at ``indent``: its parent item's, when it names one."""
        while self.parents and self.parents[-1][0] >= indent:
            self.parents.pop()
        for _, kind, _ in reversed(self.parents):
            if kind not in ("other", "none"):
                return kind
        return self.kind

    def nested_group(self) -> str | None:
        """Whom the open parent entries name ("- Luis:" over his tasks), if any."""
        for _, _, group in reversed(self.parents):
            if group:
                return group
        return self.group

    def attach_fields(self, fields: dict[str, str]) -> bool:
        """Give the entry just above the owner and date of a line that only has those."""
        last = self.candidates[-1] if self.candidates else None
        if last is None or "owner" in last.cells:
            return False
        field = _FIELD.match(last.text)
        if field and len(field.group("name").split()) <= 2:
            return False  # "When: Tuesday 10am" is a field of its own, not a task
        last.cells = {**fields, **last.cells}
        return True

    def flush(self) -> None:
        if not self.paragraph:
            return
        text = " ".join(line.strip() for line in self.paragraph)
        self.paragraph = []
        parts = sentences(text)
        for sentence in parts:
            self.line_candidate(sentence, in_paragraph=True)
        # "Here's where we landed." / "Esto es lo que acordamos:" closing a paragraph
        # announces what follows, like a heading would.
        last = parts[-1] if parts else ""
        if len(last.split()) <= 12 and _ANNOUNCES.search(fold(last)):
            self.heading = last.rstrip(".:")
            self.kind = "mixed"

    def line_candidate(self, text: str, in_paragraph: bool = False) -> None:
        text = plain(text)  # "**Ana:** ..." is a speaker turn, "**ACTION:**" a label
        label = _LABEL.match(text.strip().lstrip(">").strip().strip("*_"))
        if label:
            # "ACUERDO: Se mantiene la cuantía. El Interventor emitirá informe." is two items.
            for piece in item_pieces(label.group("rest")):
                self.emit(
                    Candidate(
                        piece,
                        self.heading,
                        self.kind,
                        "label",
                        label=fold(label.group("label")),
                        speaker=label.group("who"),
                    )
                )
            return
        speaker = _SPEAKER.match(text.strip())
        if speaker and not in_paragraph:
            # A turn often says several things: "No more bottle drives. Instead we're doing
            # a 50/50. I'll get the licence." is a decision and an action, one sentence each.
            for piece in item_pieces(speaker.group("rest")):
                self.emit(
                    Candidate(
                        piece,
                        self.heading,
                        self.kind,
                        "speaker",
                        speaker=speaker.group("name").strip("*_"),
                    )
                )
            return
        self.emit(Candidate(text, self.heading, self.kind, "prose"))

    def list_item(self, marker: str, rest: str) -> None:
        """One list entry; an entry holding several full sentences gives one candidate each."""
        rest = _MD_LINK.sub(r"\1", rest)
        box = marker if marker.startswith(_BOXES) else None
        inner = _CHECK.match(rest)
        if box is None and inner is not None:
            box, rest = inner.group("box"), inner.group("rest")
        if box is not None:
            done = any(char in box for char in "xX✓✔☑☒✅")
            kind = "check_done" if done else "check_open"
        elif marker[0].isdigit() or marker[0] == "(" or (len(marker) == 2 and marker[1] in ".)"):
            kind = "number"
        else:
            kind = "bullet"
        for piece in item_pieces(rest):
            label = _LABEL.match(piece.strip("*_ "))
            if label and box is None:
                self.emit(
                    Candidate(
                        label.group("rest"),
                        self.heading,
                        self.kind,
                        "label",
                        label=fold(label.group("label")),
                        speaker=label.group("who"),
                    )
                )
                continue
            speaker = _SPEAKER.match(piece)
            self.emit(
                Candidate(
                    piece,
                    self.heading,
                    self.kind,
                    kind,
                    speaker=speaker.group("name") if speaker else None,
                )
            )

    def table_row(self, line: str) -> None:
        if _TABLE_SEPARATOR.match(line):
            return
        cells = _split_cells(line)
        roles = [_role_of(cell) for cell in cells]
        if self.table_roles is None and sum(role is not None for role in roles) >= 2:
            self.table_roles = roles  # a header row
            return
        named: dict[str, str] = {}
        if self.table_roles is not None:
            for role, cell in zip(self.table_roles, cells, strict=False):
                if role and cell:
                    named[role] = cell
        text = named.get("text") or max(
            (
                cell
                for cell, role in zip(cells, self.table_roles or [None] * len(cells), strict=False)
                if role in (None, "text")
            ),
            key=len,
            default="",
        )
        self.emit(Candidate(text, self.heading, self.kind, "table", cells=named))


def without_front_matter(text: str) -> str:
    """``text`` from after a static-site page's YAML header, if it has one."""
    if not text.startswith("---"):
        return text
    lines = text.split("\n")
    return "\n".join(lines[front_matter_end(lines) :])


def front_matter_end(lines: list[str]) -> int:
    """Where minutes kept as a static-site page (Jekyll, Hugo) start after their YAML header."""
    if not lines or lines[0].strip() != "---":
        return 0
    for index, line in enumerate(lines[1:200], start=1):
        if line.strip() in ("---", "..."):
            return index + 1
    return 0


def segment(text: str, person: Callable[[str], bool] | None = None) -> list[Candidate]:
    """Candidate items of minutes ``text``, in order; ``person`` tells whether a name
    alone on its line ("Luis:") is a participant's, heading their tasks."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:MAX_LINES]
    builder = _Builder()
    index = front_matter_end(lines)
    timed_authors = sum(1 for line in lines if _CHAT_AUTHOR_TIME.match(line.strip())) >= 2

    def author_line(stripped: str) -> re.Match[str] | None:
        found = _CHAT_AUTHOR.match(stripped)
        if found is None and timed_authors:
            found = _CHAT_AUTHOR_TIME.match(stripped)
        return found

    while index < len(lines):
        line = lines[index].rstrip()
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        stripped = line.strip()
        if not stripped or _UNDERLINE.match(stripped):
            if stripped:
                builder.flush()
            else:
                builder.close_block()
            index += 1
            continue
        if builder.group is not None and not line.startswith((" ", "\t")):
            # A name heads a list or lines of prose: a line of the other kind after them
            # ("Priya to book the tent" after Marcus's bullets) is no longer theirs.
            # ... and so is "2. Proyecto App" after Luis's "-" bullets: another list.
            entry = _BULLET.match(line)
            shape = ("number" if _number_of(entry.group("marker")) else "bullet") if entry else ""
            if builder.group_shape is None:
                builder.group_shape = shape
            elif builder.group_shape and shape != builder.group_shape:
                builder.flush()
                builder.group = None
        fields = _field_line(stripped)
        if (
            fields is not None
            and index > 0
            and lines[index - 1].strip()
            and builder.heading_at != index - 1
        ):
            # "22-2 Submit a revised schedule" over "Owner - Luis. Due next meeting": the
            # owner and date of the entry above, not an entry (nor a heading) of its own.
            builder.flush()
            if builder.attach_fields(fields):
                index += 1
                continue
        if _is_table_row(stripped):
            builder.flush()
            builder.table_row(stripped)
            index += 1
            continue
        if _DASH_COLUMNS.match(next_line) and len(stripped.split()) >= 2:
            builder.flush()
            index = _fixed_width_table(lines, index, builder)
            continue
        if _aligned_header(stripped) and index + 1 < len(lines):
            builder.flush()
            index = _aligned_table(lines, index, builder)
            continue
        chat_line = _CHAT.match(stripped)
        if chat_line and chat_line.group("rest").lower().startswith(("#topic ", "#subtopic ")):
            # A MeetBot topic heads the lines up to the next one, whatever it is called:
            # "#topic asistencia" then "#topic install fest" is not still the attendance.
            builder.flush()
            builder.set_heading(chat_line.group("rest").partition(" ")[2])
            index += 1
            continue
        if person is not None and not chat_line and builder.kind not in _LIST_SECTIONS:
            bullet = _BULLET.match(line)
            named = _person_heading(
                bullet.group("rest") if bullet else stripped,
                next_line,
                person,
                alone=not bullet
                and (index == 0 or not lines[index - 1].strip() or builder.heading_at == index - 1),
            )
            if named:
                builder.flush()
                builder.named.append((builder.topic, named))
                if bullet:  # "- Luis:" with his tasks as its children
                    indent = len(bullet.group("indent"))
                    builder.nested_kind(indent)
                    builder.parents.append((indent, "other", named))
                else:
                    builder.group = named
                    builder.group_shape = None
                    builder.parents = []
                    builder.heading_at = index
                index += 1
                continue
        heading = _is_heading(stripped, next_line) and not chat_line
        parent = _BULLET.match(line) if heading else None
        if parent and _has_children(parent, next_line):
            # A bullet over its own entries heads only them, never every line after it.
            # "* Action item review" or "* Summer schedule" names their section or topic
            # and is no entry itself; "- Luis preparará para el lunes:" is one, over its
            # details.
            rest = parent.group("rest")
            words = heading_text(rest).split()
            kind = section_kind(rest) if len(words) <= 6 else "other"
            if kind not in ("other", "none") or (
                len(words) <= 4 and not rest.rstrip().endswith((":", "："))
            ):
                builder.flush()
                indent = len(parent.group("indent"))
                builder.nested_kind(indent)
                builder.parents.append((indent, kind, None))
                index += 1
                continue
            heading = False
        if heading:
            builder.set_heading(stripped)
            index += 2 if _UNDERLINE.match(next_line) else 1
            builder.heading_at = index - 1
            continue
        builder.leave_list_section(line)
        one_field = field_kind(stripped)
        if one_field:
            # "Present: Ana, Luis", "Apologies: Fr. Liam": a one-line field, not a heading
            # of what follows.
            builder.flush()
            builder.emit(Candidate(stripped, builder.heading, one_field, "prose"))
            index += 1
            continue
        if stripped in ("-", "*", "•") and next_line.strip():
            # A marker alone on its line with the text below (Notion and some exports).
            lines[index + 1] = f"{line.rstrip()} {next_line.strip()}"
            index += 1
            continue
        bullet = _BULLET.match(line)
        if bullet:
            builder.flush()
            indent = len(bullet.group("indent"))
            rest = bullet.group("rest")
            index += 1
            # Continuation lines: indented deeper than the marker, or wrapped text; one
            # that only gives the entry's owner and date ("    Owner: Kim") goes to its cells.
            entry_fields: dict[str, str] = {}
            while index < len(lines):
                follow = lines[index]
                if not follow.strip() or _BULLET.match(follow) or _is_table_row(follow.strip()):
                    break
                follow_indent = len(follow) - len(follow.lstrip())
                fields = _field_line(follow.strip()) if follow_indent > indent else None
                if fields is not None and not entry_fields:
                    entry_fields = fields
                    index += 1
                    continue
                if follow_indent > indent or (
                    not rest.rstrip().endswith((".", ":", "!", "?"))
                    and follow.strip()[:1].islower()
                ):
                    rest += " " + follow.strip()
                    index += 1
                    continue
                break
            field_line = _CHILD_FIELD.match(rest)
            role = _role_of(field_line.group("name")) if field_line else None
            last = builder.candidates[-1] if builder.candidates else None
            if (
                field_line
                and role in ("owner", "due")
                and last is not None
                and builder.parents
                and builder.parents[-1][0] < indent
                and role not in last.cells
            ):
                # "- Repetir el muestreo" over "  - Resp.: Adriana" and "  - Fecha: 16/10":
                # the item's owner and date, written as its children.
                last.cells = {**last.cells, role: field_line.group("value")}
                continue
            outer, outer_group = builder.kind, builder.group
            builder.kind = builder.nested_kind(indent)
            builder.group = builder.nested_group()
            emitted = len(builder.candidates)
            builder.list_item(bullet.group("marker"), rest)
            builder.kind, builder.group = outer, outer_group
            for candidate in builder.candidates[emitted:]:
                candidate.cells = {**entry_fields, **candidate.cells}
            builder.parents.append(
                (indent, section_kind(rest) if len(rest.split()) <= 6 else "other", None)
            )
            continue
        code = _CODE.match(line)
        if code and not _BULLET.match(line):
            builder.flush()
            indent = len(code.group("indent"))
            rest = code.group("rest")
            index += 1
            # An action-log entry runs to the blank line or the next code, wrapped or not.
            while index < len(lines):
                follow = lines[index]
                if (
                    not follow.strip()
                    or _CODE.match(follow)
                    or _BULLET.match(follow)
                    or _field_line(follow.strip()) is not None
                ):
                    break
                rest += " " + follow.strip()
                index += 1
            del indent
            builder.list_item("-", rest)
            continue
        if _LABEL.match(stripped.lstrip(">").strip().strip("*_")):
            builder.flush()
            rest, index = _run_on(lines, index)
            builder.line_candidate(rest)
            continue
        author = author_line(stripped)
        if author:
            # Every line up to the next author line is a message of this author.
            builder.flush()
            index += 1
            while (
                index < len(lines)
                and lines[index].strip()
                and not author_line(lines[index].strip())
            ):
                builder.emit(
                    Candidate(
                        lines[index].strip(),
                        builder.heading,
                        builder.kind,
                        "speaker",
                        speaker=author.group("name"),
                    )
                )
                index += 1
            continue
        chat = chat_line or _CHAT_AFTER.match(stripped) or _CHAT_TELEGRAM.match(stripped)
        if chat:
            builder.flush()
            groups = chat.groupdict()
            speaker = (
                (groups.get("nick") or groups.get("name") or "").strip().split(":")[0].lstrip("@")
            )
            rest = chat.group("rest")
            label = _LABEL.match(rest.lstrip("#!").strip())
            if rest.startswith(_MEETBOT):
                # MeetBot commands in a raw IRC log: "#action nick to ...", "#agreed ...".
                command, _, rest = rest.partition(" ")
                builder.emit(
                    Candidate(
                        rest,
                        builder.heading,
                        builder.kind,
                        "label",
                        label=fold(command[1:]),
                        speaker=None,
                    )
                )
            elif label:
                builder.line_candidate(rest)
            else:
                builder.emit(
                    Candidate(rest, builder.heading, builder.kind, "speaker", speaker=speaker)
                )
            index += 1
            continue
        last = builder.candidates[-1] if builder.candidates else None
        if stripped.startswith(("…", "...")) and last is not None and last.marker == "speaker":
            # A scribe's "… and then" line goes on with the same speaker's turn.
            builder.flush()
            builder.emit(
                Candidate(stripped.lstrip(".… "), builder.heading, builder.kind, "speaker",
                          speaker=last.speaker)
            )  # fmt: skip
            index += 1
            continue
        if _ARROW_LINE.match(stripped):
            # "Javi → llamar al técnico", one per line: an entry each, not a paragraph.
            builder.flush()
            builder.line_candidate(stripped)
            index += 1
            continue
        if _SPEAKER.match(plain(stripped)) and not builder.paragraph:
            builder.flush()
            rest, index = _run_on(lines, index, paragraph=False)
            builder.line_candidate(rest)
            continue
        builder.paragraph.append(stripped.lstrip(">").strip())
        index += 1
    builder.flush()
    _turns_of_repeated_names(builder.candidates, builder.named)
    return _dedupe(builder.candidates)


def _turns_of_repeated_names(candidates: list[Candidate], named: list[tuple[int, str]]) -> None:
    """Names that take turns under one topic are speakers in a transcript ("**Alex**:" over
    what Alex said, "**Hudson**:", then "**Alex**:" again), not each person's list of
    tasks: every name heading's lines are then its speaker's turns, under every topic of
    the transcript. The same names heading tasks under each topic ("## Estructura" /
    "Luis:", "2. Proyecto App" / "Luis:"), or one name heading its list again after a
    blank line, are task lists."""
    order: dict[int, list[str]] = {}
    for topic, name in named:
        names = order.setdefault(topic, [])
        if not names or names[-1] != name:
            names.append(name)
    if all(len(set(names)) == len(names) for names in order.values()):
        return
    speakers = {name for _, name in named}
    for candidate in candidates:
        if candidate.group in speakers:
            candidate.speaker = candidate.speaker or candidate.group
            candidate.marker = "speaker"
            candidate.group = None


# A line this long that the next line goes on from was wrapped by the mail client.
_WRAP_WIDTH = 60


def _starts_entry(line: str, code: bool = True) -> bool:
    """A line that opens an entry of its own rather than going on with the one above; an
    action-log code ("26/31 ...") only with ``code``: after a line cut mid-sentence,
    "14.900 euros" is the sentence going on."""
    stripped = line.strip()
    return bool(
        _BULLET.match(line)
        or (code and _CODE.match(line))
        or _is_table_row(stripped)
        or _LABEL.match(stripped.lstrip(">").strip().strip("*_"))
        or _SPEAKER.match(plain(stripped))
        or _CHAT.match(stripped)
        or _CHAT_AUTHOR.match(stripped)
        or _MD_HEADING.match(stripped)
        or _BOLD_LINE.match(stripped)
        or _UNDERLINE.match(stripped)
        or _field_line(stripped) is not None
    )


def _run_on(lines: list[str], index: int, paragraph: bool = True) -> tuple[str, int]:
    """A labelled line or a speaker's turn with the lines it runs on to; the next index.

    "ACUERDO CUARTO.- Tras estudiar las ofertas, se acuerda" wrapped at 72 columns goes
    on with "ejecutar la rampa de acceso..." on the next line: the agreement is the
    whole paragraph, not its first line. A following line belongs to it when it is
    indented, when the line above was cut mid-sentence before a lowercase word, or
    when the line above fills the width a client wraps at (with ``paragraph``: a label
    in an acta heads its paragraph; a speaker's turn ends with its sentence); never when
    it opens an entry of its own (a label, a bullet, a speaker, a heading).
    """
    rest = lines[index].strip()
    above = lines[index].rstrip()
    index += 1
    while index < len(lines):
        follow = lines[index]
        stripped = follow.strip()
        unfinished = not above.endswith((".", ":", "!", "?", ";"))
        if not stripped or _starts_entry(follow, code=not unfinished):
            break
        if not (
            follow.startswith((" ", "\t"))
            or (unfinished and stripped[:1].islower())
            or (
                len(above) >= _WRAP_WIDTH
                and (unfinished if not paragraph else not above.endswith(":"))
            )
        ):
            break
        if _is_heading(stripped, lines[index + 1] if index + 1 < len(lines) else ""):
            break
        rest += " " + stripped
        above = follow.rstrip()
        index += 1
    return rest, index


def _fixed_width_table(lines: list[str], index: int, builder: _Builder) -> int:
    """A plain-text table whose header is underlined by dash groups; returns the next index."""
    header, rule = lines[index], lines[index + 1]
    starts = [match.start() for match in re.finditer(r"-{2,}", rule)]

    def cut(line: str) -> list[str]:
        bounds = [*starts[1:], max(len(line), starts[-1]) + 1]
        return [line[start:end].strip() for start, end in zip(starts, bounds, strict=False)]

    builder.table_roles = [_role_of(cell) for cell in cut(header)]
    index += 2
    rows: list[list[str]] = []
    while index < len(lines) and lines[index].strip() and not _DASH_COLUMNS.match(lines[index]):
        cells = cut(lines[index])
        if rows and not cells[0] and any(cells[1:]):
            # A wrapped row: its first column is empty; join each cell to the row above.
            rows[-1] = [
                f"{above} {below}".strip() for above, below in zip(rows[-1], cells, strict=False)
            ]
        else:
            rows.append(cells)
        index += 1
    for cells in rows:
        builder.table_row(" | ".join(cell or " " for cell in cells))
    builder.table_roles = None
    return index


_DETERMINERS = frozenset(
    "the a an our my this these that el la los las un una unos unas nuestro nuestra "
    "nuestros nuestras mi mis este esta estos estas".split()
)
_GAP = re.compile(r"\s{2,}")


def _aligned_header(line: str) -> bool:
    """A plain-text table header: two or more column names separated by runs of spaces."""
    stripped = line.strip()
    if not _GAP.search(stripped):
        return False
    cells = _GAP.split(stripped)
    roles = [_role_of(cell) for cell in cells]
    return len(cells) >= 2 and sum(role is not None for role in roles) >= 2 and "text" in roles


def _aligned_table(lines: list[str], index: int, builder: _Builder) -> int:
    """Rows aligned under a header without a rule line; columns start where its names start."""
    header = lines[index]
    starts = [match.start() for match in re.finditer(r"(?:^|(?<=\s\s))\S", header)]
    builder.table_roles = [
        _role_of(header[a:b].strip())
        for a, b in zip(starts, [*starts[1:], len(header) + 1], strict=False)
    ]
    index += 1
    while index < len(lines) and lines[index].strip() and not _UNDERLINE.match(lines[index]):
        line = lines[index]
        cells = _GAP.split(line.strip())
        if len(cells) != len(starts):
            # Not one cell per column (an empty cell, or a single space between two):
            # cut where the header's columns start.
            bounds = [*starts[1:], max(len(line), starts[-1]) + 1]
            cells = [line[a:b].strip() for a, b in zip(starts, bounds, strict=False)]
        builder.table_row(" | ".join(cell or " " for cell in cells))
        index += 1
    builder.table_roles = None
    return index


def _dedupe(candidates: list[Candidate]) -> list[Candidate]:
    """The same line said twice (MeetBot lists every action again by person) counts once."""
    seen: set[str] = set()
    kept: list[Candidate] = []
    for candidate in candidates:
        key = re.sub(r"\W+", " ", fold(candidate.text)).strip()
        if key in seen:
            continue
        seen.add(key)
        kept.append(candidate)
    for order, candidate in enumerate(kept):
        candidate.order = order
    return kept
