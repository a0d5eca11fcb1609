"""What a heading announces: decisions, actions, both, or something that holds no items.

Minutes name their sections in many ways ("Acuerdos", "Próximos pasos",
"Action items", "AIs", "Resolved", "Puntos acordados"...). A heading is
folded (lowercase, no accents, no numbering or decoration) and looked up in
ordered keyword tables; the first table with a match decides. Review of
earlier actions comes before actions ("Revisión de tareas anteriores" holds
old tasks, not new ones), agenda and attendance before everything.
"""

from __future__ import annotations

import re
from functools import lru_cache

from mailtrack.nlp.dates import fold

# Order matters: the first kind whose pattern matches the heading wins.
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "review",
        re.compile(
            r"anterior|previous|prior|pendientes de la|last (?:meeting|week|time)|old business|"
            r"seguimiento de (?:acuerdos|tareas|acciones)|"
            r"revision de (?:tareas|acuerdos|acciones|pendientes)"
            r"|review of (?:action|previous|open)|status of (?:action|previous|open)|carried over|"
            r"(?:action items?|ais?|tareas|acciones) (?:from|de la) (?:last|ultima|anterior)|"
            r"estado de (?:tareas|acciones|pendientes)|open items review|follow[- ]?up on|"
            r"\b(?:action items?|ais?|actions|tareas|acciones|pendientes) "
            r"(?:review|revision|status)\b"
        ),
    ),
    ("agenda", re.compile(r"\b(?:orden del dia|agenda|temas a tratar|puntos a tratar|temario)\b")),
    (
        "attendance",
        re.compile(
            r"\b(?:asistentes|asistencia|participantes|presentes|ausentes|excusan|excusados|"
            r"attendees|attendance|present|absent|regrets|apologies|participants|invitados|guests)\b"
        ),
    ),
    (
        "mixed",
        re.compile(
            r"(?:acuerdos|decisiones|decisions|resolutions)\s*(?:y|and|&|/|,)\s*"
            r"(?:tareas|acciones|actions|action items|compromisos|next steps|proximos pasos)|"
            r"(?:tareas|acciones|actions)\s*(?:y|and|&|/|,)\s*(?:acuerdos|decisiones|decisions)|"
            r"\b(?:outcomes?|takeaways|conclusiones|conclusions?|summary of decisions|resultados|"
            r"key points|puntos clave|minutes|acta)\b"
        ),
    ),
    (
        "decisions",
        re.compile(
            r"\b(?:acuerdos?|acordado|acordamos|definimos|decidimos|resolvimos|se decidio|se acordo|"
            r"where we landed|what we decided|we decided|we agreed|settled|"
            r"decisiones|decision|decisiones tomadas|resoluciones|"
            r"resolucion|resuelto|se acuerda|se resuelve|puntos acordados|aprobado|aprobaciones|"
            r"decisions?|decided|agreed|agreements?|resolved|resolutions?|consensus|approved|"
            r"approvals|motions?)\b"
        ),
    ),
    (
        "actions",
        re.compile(
            r"\b(?:tareas|tarea|acciones|accion|action items?|actions?|ais|a\.i\.s?|"
            r"proximos pasos|siguientes pasos|pasos a seguir|next steps|compromisos|pendientes|"
            r"to-?dos?|por hacer|follow-?ups?|seguimiento|encargos|asignaciones|assignments|"
            r"responsables|who does what|quien hace que|homework|deberes|owners?|open items)\b"
        ),
    ),
    (
        "discussion",
        re.compile(
            r"\b(?:discusion|debate|comentarios|notas|novedades|estado|situacion|status|update|"
            r"updates|reports?|informes?|reportes?|discussion|notes|comments|background|contexto|context|"
            r"puntos tratados|temas tratados|resumen|summary|highlights|observaciones|ruegos y "
            r"preguntas|varios|aob|any other business|open floor|questions|preguntas|ideas|"
            r"propuestas|proposals|que tal fue|what went well|what went wrong|lo bueno|lo malo|"
            r"charlamos|hablamos|comentamos|conversamos|se hablo|discussed|talked about|"
            r"retro|demos?)\b"
        ),
    ),
    (
        "next_meeting",
        re.compile(r"\b(?:proxima reunion|siguiente reunion|next meeting|next call)\b"),
    ),
)

_DECORATION = re.compile(r"^[\s#*_=\-–—:|>.\d)(\[\]a-z]{0,3}\s*|[\s#*_=\-–—:|.]+$")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.)]?|[ivxlc]+[.)]|[a-z][.)])\s+")


def heading_text(line: str) -> str:
    """A heading without its Markdown marks, numbering, bold stars and trailing colon."""
    text = line.strip().strip("#*_=`").strip()
    text = _NUMBERING.sub("", text)
    return text.rstrip(":：").strip("*_ ").strip()


@lru_cache(maxsize=4096)
def section_kind(heading: str | None) -> str:
    """The kind of section a heading announces; "none" before any heading, "other" if unknown."""
    if heading is None:
        return "none"
    folded = fold(heading_text(heading))
    for kind, pattern in _KINDS:
        found = pattern.search(folded)
        if not found:
            continue
        if kind == "attendance" and not _names_attendance(folded[: found.start()]):
            continue
        if kind == "agenda" and _MINUTES_BODY.search(folded) and not _PLANNED.search(folded):
            return "mixed"  # "Agenda and Notes", "Orden del día y desarrollo": the minutes
        return kind
    return "other"


_MINUTES_BODY = re.compile(
    r"\b(?:notes|minutes|notas|acta|desarrollo|discussion|discusion|outcomes?|resultados|"
    r"summary|resumen|acuerdos|decisions)\b"
)
_PLANNED = re.compile(
    r"\b(?:proposed|draft|propuesta de|borrador del?) (?:agenda|orden del dia)\b|"
    r"\b(?:agenda|orden del dia) (?:for|para|de) (?:the |la )?(?:next|proxima|siguiente)\b"
)
_FILLER = frozenset({"la", "las", "los", "el", "the", "and", "y"})
_TOPIC = frozenset({"de", "of", "para", "for", "sobre", "about", "con", "with", "a", "to", "al"})
_LIST_OF = re.compile(r"^\W*(?:lista|list|relacion|registro|record|register) (?:de|of)\b")


def _names_attendance(before: str) -> bool:
    """Whether the words before an attendance word still make the heading the attendance:
    "Asistentes", "Members present", "Welcome and apologies", "Las personas presentes"
    are; "Número de asistentes" and "Gestión de altas de asistentes" are a topic."""
    words = re.findall(r"[a-z]+", _LIST_OF.sub("", before))
    if _TOPIC.intersection(words):
        return False  # "Número de asistentes", "Regalos para los invitados"
    return len([word for word in words if word not in _FILLER]) <= 2
