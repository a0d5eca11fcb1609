"""Roles people hold in a meeting, and how minutes declare them.

Formal minutes rarely repeat a name: "La tesorera girará los recibos", "El
administrador lo consultará con el electricista", "The Chair will write to the
council". A reader knows who that is from what the same mail declared: "La
tesorera, D.ª Pilar Aznar, explica...", "actúa como secretaria la señora
Yolanda Cardona", "Preside D. Miguel Ángel Sancho", an address such as
``administracion@fincas.example`` or a display name "Gloria Zapata - Rectoría".

A role is reduced to its head word's group ("tesorera", "tesorero" and
"tesorería" are one role), so "la presidenta" finds whoever was declared
"presidente". Several people holding one role make it ambiguous, which
resolves to nobody, as with names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mailtrack.nlp.dates import fold, strip_accents

# Each line is one role: the folded forms that name it (masculine, feminine, the office).
_GROUPS = """
presidente presidenta presidencia president chair chairman chairwoman chairperson
vicepresidente vicepresidenta vicepresidencia vicepresident vice-chair
secretario secretaria secretary
tesorero tesorera tesoreria treasurer
administrador administradora administracion administrator
gerente gerenta gerencia manager
director directora direccion
rector rectora rectoria principal
decano decana decanato dean
vicedecano vicedecana vicedecanato
subdirector subdirectora subdireccion
jefe jefa jefatura
alcalde alcaldesa alcaldia mayor
interventor interventora intervencion
coordinador coordinadora coordinacion coordinator
personero personera personeria
vocal
clerk
concejal concejala
delegado delegada
"""
ROLE_OF: dict[str, str] = {
    form: line.split()[0] for line in _GROUPS.strip().splitlines() for form in line.split()
}
# Role words that are also Spanish adjectives: a role only alone or as "the Mayor of ...".
_ADJECTIVES = frozenset({"mayor", "principal"})
_ROLE_WORD = "|".join(sorted(ROLE_OF, key=len, reverse=True))

# A role as written: its word in any case ("El Interventor", "la tesorera", a second
# one after a hyphen: "Secretario-Administrador") and a lowercase qualifier ("de
# obras", "del consejo", "académico"), never a capitalised word: that is a name.
_ROLE = (
    # and an English office its kind before it: "City Clerk", "Meetings Administrator"
    rf"(?P<role>(?:[A-Z][a-z]{{2,}}[^\S\n]+)?(?i:{_ROLE_WORD})(?:-(?i:{_ROLE_WORD}))?"
    # an office's field may be capitalised: "Director of Services", "Concejala de Educación"
    # and name two: "Concejala de Festejos y Cultura", "delegada del comité de seguridad"
    r"(?:[^\S\n]+(?:de la|del|de|of the|of|y|and)\s+[A-Za-záéíóúñ][a-záéíóúñ]{2,}|[^\S\n]+[a-z]{4,})"
    r"{0,2})"
)
_ARTICLE = r"(?i:(?:el|la|the|our)\s+)"
_TITLE = (
    r"(?i:(?:d|da|dna|don|dona|sr|sra|srta|senor|senora|dr|dra|ing|lic|arq|prof|mr|mrs|ms)"
    r"\.?\s*a?\.?\s+)?"
)
_NAME = r"(?P<name>[A-Z][a-z'-]{1,30}(?: (?:de |del )?[A-Z][a-z'-]{1,30}){0,3})"

_DECLARED = (
    # "La tesorera, D.ª Pilar Aznar, explica" / "El coordinador de obras, señor Jhon Jairo Pérez"
    re.compile(rf"\b{_ARTICLE}{_ROLE}\s*,\s*{_TITLE}{_NAME}"),
    # "actúa como secretaria la señora Yolanda Cardona" / "acting as secretary: Ann Lee"
    re.compile(
        r"\b(?i:actua|actuo|actuando|act|acts|acted|acting|ejerce|ejercio)\s+(?i:como|as|de)\s+"
        rf"{_ARTICLE}?{_ROLE}\s*[,:]?\s*{_ARTICLE}?{_TITLE}{_NAME}"
    ),
    # "Ana Gil, tesorera," / "Ann Lee, treasurer." / "Dª Beatriz Sainz, Concejala de Festejos (PP)"
    re.compile(rf"{_NAME}\s*,\s*{_ARTICLE}?{_ROLE}\s*[,.;\n()]"),
    # an attendance list in columns or with leaders: "Sra. Ximena Valdebenito Rojas
    # Presidenta", "Dirección facultativa .... Beatriz Soler (arquitecta)"
    # (at a line's start: a pattern that opens with the role words, tried everywhere, is slow)
    re.compile(rf"^[ \t*•-]*{_TITLE}{_NAME}[ \t]{{3,}}{_ROLE}[ \t]*$", re.MULTILINE),
    re.compile(rf"^[ \t*•-]*{_ROLE}[ \t]*\.{{2,}}[ \t]*{_TITLE}{_NAME}", re.MULTILINE),
)
_PRESIDES = re.compile(
    rf"\b(?i:preside|presidio|presidida por|presidido por|chaired by)\s+{_TITLE}{_NAME}"
)


def role_of(phrase: str) -> str | None:
    """The role a phrase names by its head word, or None: "la Tesorera" -> "tesorero"."""
    words = re.split(r"[\s\-]+", fold(phrase).strip(" .,:;()"))
    words = [word for word in words if word not in ("el", "la", "los", "las", "the", "our")]
    if not words:
        return None
    if words[0] in _ADJECTIVES and words[1:2] not in ([], ["of"]):
        return None  # "la mayor parte del equipo", "el principal problema": no office
    return ROLE_OF.get(words[0])


def declared(text: str) -> Iterator[tuple[str, str]]:
    """(role as written, name) pairs the text declares (accents aside: the capitals
    that mark a name stay, the role is lowercase as minutes write it mid-sentence)."""
    folded = strip_accents(text[:20_000])
    for pattern in _DECLARED:
        for match in pattern.finditer(folded):
            yield match.group("role").lower(), match.group("name")
    for match in _PRESIDES.finditer(folded):
        yield "presidente", match.group("name")


def roles_of_address(email: str, display: str) -> list[str]:
    """Roles an address or display name states: "administracion@...", "Gloria Zapata - Rectoría"."""
    found: list[str] = []
    local = fold(email.partition("@")[0])
    for piece in re.split(r"[._\-+]", local):
        if piece in ROLE_OF:
            found.append(piece)
    _, dash, after = display.rpartition(" - ")
    for part in (after if dash else "", *re.findall(r"\(([^()]{3,40})\)", display)):
        role = role_of(part)
        if role:
            found.append(fold(part).strip())
    return list(dict.fromkeys(found))
