"""The text the item classifier reads: a candidate's words behind tokens for its layout.

The trained text classifier sees bags of words and word pairs. What layout
says (the section kind, the list marker, a ticked checkbox, an owner or a date
found, a MeetBot label) is written as upper-case marker tokens in front of
the words, so the same fast linear model learns from both. Training and
extraction call the same function.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mailtrack.nlp.dates import fold
from mailtrack.nlp.owners import Owners
from mailtrack.nlp.segment import Candidate

# Labels that say what a line is ("ACTION:", "AGREED:") or that it is not an item ("IDEA:").
_ACTION_LABELS = ("accion", "acciones", "action", "ai", "todo", "to-do", "tarea", "compromiso")
_DECISION_LABELS = (
    "decision", "decisiones", "acuerdo", "acuerdos", "agreed", "resolved", "resolution",
    "resolucion", "decided", "se acuerda", "se resuelve", "consensus", "consenso",
    "conclusion", "acordado",
)  # fmt: skip


# Cue words, folded (lowercase, no accents). They name what the words mean so the
# linear model can generalise from a few hundred examples to phrasings it never saw.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "DECIDE",
        re.compile(
            r"\bse (?:aprueba|aprueban|aprobo|acuerda|acordo|decide|decidio|resuelve|resolvio|"
            r"mantiene|descarta|rechaza|fija|establece|autoriza|informa favorablemente|amplia|"
            r"amplian|aplaza|"
            r"pospone|posterga|adopta|continua|elige|elimina|suspende|cancela|sustituye)\b|"
            r"\bquedan? (?:aprobad|fijad|establecid|acordad)|\baprobad[oa]s?\b|\bacordad[oa]s?\b|"
            r"\b(?:approved|agreed|decided|resolved|adopted|ratified|accepted|rejected|deferred|"
            r"postponed|dropped|cancelled|canceled)\b|\b(?:will be|is set|are set|moves to|move to|"
            r"stays?|remains?|going forward|from now on|no longer|will not|won't|not doing)\b|"
            r"\ba partir de (?:ahora|hoy)|\bde ahora en adelante|\bya no\b|"
            r"\bno se (?:hara|renovara)|"
            # the group deciding in its own voice: "hemos decidido", "acordamos", "vamos con"
            r"\b(?:decidimos|acordamos|aprobamos|descartamos|optamos por|hemos (?:decidido|"
            r"acordado|quedado en)|quedamos en|nos quedamos con|vamos con|se opta por|"
            r"se toma la decision|we(?:'ve| have)? (?:decided|agreed)|we(?:'re| are) going with|"
            r"we'll go with|decision:)"
        ),
    ),
    (
        "DO",
        re.compile(
            r"\b\w+(?:ara|era|ira|aran|eran|iran|aremos|eremos|iremos)\b|\bva(?:n|mos)? a\b|"
            r"\bse (?:encarga|encargara|compromete|ocupa|ocupara|faculta|encomienda|instruye|"
            r"comisiona|delega|encarga a|mandata)\b|\b(?:council directed|directed the|"
            r"(?:was|were) asked to|(?:was|were) tasked)\b|\b(?:debe|deben|tiene que|"
            r"tienen que|hay que|habra que|deberemos|debemos|tenemos que|queda pendiente|"
            r"es responsabilidad de)\b|\bresponsables?\s*:|\b(?:will|shall|to do|needs? to|should|must|"
            r"has to|have to|is going to|are going to|owns|volunteered|takes?)\b|"
            r"^(?:\w+)(?:ar|er|ir)\b|^(?:send|prepare|review|update|draft|share|schedule|create|"
            r"check|confirm|contact|book|set up|write|call|circulate|provide|organi[sz]e|ask|"
            r"follow up|fix|finish|investigate|present|submit|order|arrange)\b"
        ),
    ),
    (
        "DONE",
        re.compile(
            r"\bya (?:ha|han|se|esta|estan|hemos)\b|\bse ha\b|\bhan sido\b|\b(?:was|were|has been|"
            r"have been|already|done|completed?|closed|finished|delivered|shipped|merged|"
            r"resolved)\b|"
            r"\b(?:hecho|hecha|cerrado|cerrada|terminado|terminada|completado|completada|entregado|"
            r"enviado|enviada|realizado|realizada)\b|\b(?:presento|comento|explico|informo|"
            r"conto|dijo|senalo|recordo|reported|presented|noted|said|mentioned|raised|showed|"
            r"explained|reminded|updated us)\b"
        ),
    ),
    ("ASK", re.compile(r"\?|¿")),
    # "Dr. Pruitt to deliver...", "The Treasurer to send...", "@jkim-dev to mark...": the
    # shorthand minutes use for a duty.
    ("TO", re.compile(r"^(?:[\w.@'()&-]+\s+){1,6}to\s+(?!be\b|the\b|a\b|an\b|date\b)[a-z]+")),
    (
        "SAYS",
        re.compile(
            r"\b(?:toma la palabra|expone|informa|comenta|considera|opina|cree|explica|senala|"
            r"recuerda|pregunta|plantea|manifiesta|indica|i think|i believe|i feel|in my view|imo|"
            r"it was noted|noted that|walked us through|gave an update|reports? that|"
            r"thinks|believes|feels|asked whether|wondered|says|said that|mentions|reminds|"
            r"points out|notes that|dice que|cuenta que|explains|asks|shares|voices|emphasi[sz]es|"
            r"re-?iterates|announces|gives (?:an )?updates?|i agree|agrees with|perhaps|"
            r"it seems|in my opinion|en mi opinion|a mi juicio|me parece)\b"
        ),
    ),
    (
        "MAYBE",
        re.compile(
            r"\b(?:propuso|propone|sugirio|sugiere|idea|podria|podriamos|quizas|quiza|tal vez|"
            r"maybe|could|might|suggested|proposed|proposal|propuesta|se plantea|se propone|"
            r"lo vemos|revisit|to be discussed|a debatir|sin acuerdo|no consensus|not settled|"
            r"stays open|queda abierto|pendiente de decidir|no se decidio|no lo cerramos|"
            r"para la proxima|"
            # said to be undecided: "we liked the idea but nothing was decided", "the motion
            # failed 2-3", "no se decidió nada"
            r"nothing (?:was )?decided|not (?:yet )?(?:decided|agreed)|no decision|undecided|"
            r"no se (?:decidio|acordo) nada|no (?:lo )?decidimos|nada decidido|no hubo acuerdo|"
            r"(?:motion|it) failed|failed for lack|no takers|update only|"
            r"se somete(?:n)? a votacion)\b"
        ),
    ),
)


# Read before folding: the accent is what tells "cerrará" (will close) from "para" (for).
_FUTURE = re.compile(
    r"\b\w{2,}(?:ará|erá|irá|arán|erán|irán|aremos|eremos|iremos)\b|"
    r"\b(?:va|van|vamos)\s+a\s+\w+(?:ar|er|ir)\b|"
    r"\b(?:will|shall|is going to|are going to)\s+(?!be\b|not\b|have been\b)\w+|\b\w+'ll\b"
)
# A sentence that opens with the formula of a decision ("Se decidió...", "Acordamos que...",
# "It was agreed that...", "The Board approved..."), after a connector at most.
_OPENS_DECISION = re.compile(
    r"^(?:\W*(?:por (?:lo )?tanto|asi mismo|asimismo|finalmente|ademas|tambien|por ultimo|"
    r"then|finally|also|so)\W+)?\W*(?:"
    r"se (?:decidio|decide|acordo|acuerda|aprobo|aprueba|aprueban|resolvio|resuelve|opta|"
    r"toma la decision)|queda(?:n)? (?:aprobad|acordad)|(?:hemos |han )?(?:decidido|acordado)|"
    r"decidimos|acordamos|aprobamos|la decision (?:final )?es|definimos|"
    r"it (?:was|has been) (?:agreed|decided|resolved)|(?:we|the \w+) (?:agreed|decided|approved|"
    r"resolved)|agreed|resolved|decided|motion carried)\b"
)

# Someone taking a task on: "Alecu se llevó la tarea de...", "yo me llevé como pendiente...".
_TAKES_ON = re.compile(
    r"\b(?:se (?:llevo|lleva|llevan|llevaron) (?:la tarea|el pendiente|como pendiente)|"
    r"(?:me|nos) (?:lleve|llevo|llevamos) (?:como )?(?:pendiente|la tarea)|"
    r"queda(?:n)? a cargo|se (?:encarga|encargara|encargaran|compromete|comprometio|ofrecio)|"
    r"me (?:encargo|comprometo|ofrezco)|es responsabilidad de|(?:took|takes) (?:the|an|on the) "
    r"action|took (?:it )?on|volunteered|is responsible for|will take care of)\b"
)


def cues(text: str) -> list[str]:
    folded = fold(text)
    found = [f"MTCUE{name}" for name, pattern in _CUES if pattern.search(folded)]
    if _FUTURE.search(text.lower()):
        found.append("MTCUEFUTURE")
    if _OPENS_DECISION.match(folded):
        found.append("MTCUEOPENDECIDE")
    if _TAKES_ON.search(folded):
        found.append("MTCUETAKESON")
    return found


def label_kind(label: str | None) -> str:
    if label is None:
        return "NONE"
    if label.startswith(_ACTION_LABELS):
        return "ACTION"
    if label.startswith(_DECISION_LABELS):
        return "DECISION"
    return "OTHER"


_ITEM_SECTIONS = frozenset({"actions", "decisions", "mixed"})


def document_context(candidates: Sequence[Candidate]) -> frozenset[str]:
    """What the whole minutes say about how their items are written down.

    Minutes that mark their items ("ACTION:", "RESOLVED:") or gather them under an
    "Acuerdos"/"Action items" heading leave the rest (discussion, a scribe's
    transcript of who said what) as not items; minutes with neither write items
    anywhere. Real scribe notes are mostly speaker turns, of which few are items.
    """
    context = set()
    if any(label_kind(c.label) in ("ACTION", "DECISION") for c in candidates):
        context.add("labeled")
    inside = sum(1 for c in candidates if c.section_kind in _ITEM_SECTIONS)
    if inside:
        # Minutes that gather their items under item headings hold a good share of their
        # lines there; one "Tareas de los becarios" among pages of notes does not say the
        # rest holds no items. In the training corpus, where item sections hold under a
        # fifth of the lines, four in five items stand outside them.
        context.add("sections" if inside >= 0.2 * len(candidates) else "fewsections")
    speakers = sum(1 for c in candidates if c.speaker)
    if speakers >= 5 and speakers * 2 >= len(candidates):
        context.add("transcript")
    return frozenset(context)


def _context_marks(candidate: Candidate, context: frozenset[str]) -> list[str]:
    """Conjunction tokens: a linear model cannot combine two markers by itself."""
    marks = []
    if "labeled" in context:
        labeled = label_kind(candidate.label) in ("ACTION", "DECISION")
        marks.append("MTCTXLABELED" + ("IN" if labeled else "OUT"))
    for sections in ("sections", "fewsections"):
        if sections in context:
            inside = candidate.section_kind in _ITEM_SECTIONS
            marks.append(f"MTCTX{sections.upper()}" + ("IN" if inside else "OUT"))
    if "transcript" in context:
        marks.append("MTCTXTRANSCRIPT")
    return marks or ["MTCTXPLAIN"]


_ACCEPT = re.compile(
    r"^\W*(?:yes|yep|yeah|sure|ok|okay|will do|on it|deal|sounds good|agreed|can do|i can|"
    r"i'?ll do it|i'?ll take it|me too|\+1|sip|dale|vale|listo|de una|hecho|de acuerdo|"
    r"perfecto|me encargo|lo hago|lo miro|lo pido|claro|okey)\b|"
    # folded, "sí" is "si" ("if") and "va" opens "va a llover": alone or before a comma only
    r"^\W*(?:si|va)(?=\W*$|\s*[,.!])"
)


def neighbour_marks(candidates: Sequence[Candidate]) -> list[list[str]]:
    """For each line, what the lines around it say: a request the next line accepts is an
    action; a short reply that accepts is not an item itself; and where in the mail it
    stands. Each line is read once."""
    accepts = [
        len(candidate.text.split()) <= 10 and bool(_ACCEPT.match(fold(candidate.text)))
        for candidate in candidates
    ]
    marks: list[list[str]] = []
    for index, accepted in enumerate(accepts):
        mine = []
        if index + 1 < len(accepts) and accepts[index + 1]:
            mine.append("MTNEXTACCEPT")
        if index > 0 and candidates[index - 1].text.rstrip().endswith("?"):
            mine.append("MTPREVASK")
        if accepted:
            mine.append("MTISACCEPT")
        # Where the line stands, in fifths of the mail: greetings and context open it,
        # the summary of what was agreed often closes it.
        mine.append(f"MTPOS{index * 5 // len(candidates)}")
        marks.append(mine)
    return marks


def classifier_text(
    candidate: Candidate,
    owners: Owners,
    has_date: bool,
    language: str,
    context: frozenset[str] = frozenset(),
    neighbours: Sequence[str] = (),
) -> str:
    """Marker tokens, then the candidate's own words."""
    section = candidate.section_kind.upper().replace("_", "")
    marker = candidate.marker.upper().replace("_", "")
    found = cues(candidate.text)
    marks = [
        *neighbours,
        *_context_marks(candidate, context),
        f"MTSEC{section}",
        f"MTMARK{marker}",
        # A ticked box under "Action items" is a task done, under "Decisions" one taken:
        # the pair says what neither says alone.
        f"MTMS{marker}X{section}",
        f"MTLABEL{label_kind(candidate.label)}",
        "MTOWNER" if owners.emails else ("MTEXTERNAL" if owners.external else "MTNOOWNER"),
        f"MTOWNERBY{owners.how.upper()}" if owners.how else "MTOWNERBYNONE",
        "MTDATE" if has_date else "MTNODATE",
        "MTSPEAKER" if candidate.speaker else "MTNOSPEAKER",
        "MTTABLE" + ("STATUS" if "status" in candidate.cells else "")
        if candidate.cells
        else "MTNOTABLE",
        f"MTLANG{language.upper()}",
        *found,
        # Someone named and a verb in the future: "Sergio creará la cuenta", "Kim will book".
        *(["MTOWNFUTURE"] if "MTCUEFUTURE" in found and (owners.emails or owners.external) else []),
        # "se aprueba" under "Orden del día" is an agenda point, under nothing an agreement.
        *(f"MTCS{cue[5:]}X{section}" for cue in found),
    ]
    return " ".join(marks) + " " + candidate.text
