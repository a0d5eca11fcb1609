"""Dates written in minutes and replies, resolved against the mail's own date.

"el viernes", "antes del 15/12", "fin de mes", "by Friday", "EOW", "Dec 3",
"2026-12-10", "mañana", "en dos semanas": each is found as a span of the text
and resolved to a calendar date relative to the day the mail was written (in
the sender's time zone). Spans, not whole lines: a general date searcher
reads "viernes 11" as the 1st of November and takes times and bare numbers
for dates. Vague spans ("la semana que viene", "next week", "ASAP") resolve to
nothing on purpose.

Rules (see models/corpus/README.md): a weekday is the next such day strictly
after the mail's day; a date without a year is in the mail's year unless it
has passed, then the next; numeric dates are day-first in Spanish and
month-first in English; "fin de semana"/"EOW" is the Friday of the mail's week.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

_FOLD = str.maketrans("áéíóúüñÁÉÍÓÚÜÑàèìòùÀÈÌÒÙâêîôûçªº", "aeiouunAEIOUUNaeiouAEIOUaeioucao")

WEEKDAYS = {
    "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5, "domingo": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
    "fri": 4, "sat": 5, "sun": 6,
}  # fmt: skip
MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "ene": 1, "feb": 2, "mar": 3, "abr": 4, "jun": 6, "jul": 7, "ago": 8,
    "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dic": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12, "jan": 1,
    "apr": 4, "aug": 8, "dec": 12,
}  # fmt: skip
NUMBERS = {
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "quince": 15, "veinte": 20,
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20,
}  # fmt: skip

_WEEKDAY = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
# Spanish day abbreviations count only before a day number: "mié 11", "vie 13"
# ("mar" alone is the sea).
SHORT_WEEKDAYS = {"lun": 0, "mar": 1, "mie": 2, "jue": 3, "vie": 4, "sab": 5, "dom": 6}
_SHORT_WEEKDAY = "|".join(SHORT_WEEKDAYS)
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER = r"\d{1,2}|" + "|".join(sorted(NUMBERS, key=len, reverse=True))
_ORD = r"(?:st|nd|rd|th|º|°)?"
_YEAR = r"(?:,?\s*(?:de(?:l)?\s+)?(?P<year>\d{4}))?"
# "lunes 8 de diciembre", "Monday, December 8": the weekday is part of the date.
_LEADING_WEEKDAY = rf"(?:\b(?:{_WEEKDAY})\b\.?,?\s+(?:el\s+|the\s+)?)?"

# Each pattern is tried on accent-folded, lowercased text (same length as the original).
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")),
    (
        "numeric",
        re.compile(
            r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/-])(?P<b>\d{1,2})"
            r"(?:(?P=sep)(?P<y>\d{4}|\d{2}))?(?![\d/]|-\d)"
            # "12-13 May" is a range of days in May, not the 13th of December
            rf"(?!\s*(?:de\s+|of\s+)?(?:{_MONTH})\b)"
            # "6-8pm", "9-14h", "17-19 h": a range of hours, not a day and month
            r"(?!\s*(?:[ap]\.?\s?m\b|h\b|hs?\b|hrs?\b|horas\b|o'?clock))"
        ),
    ),
    ("dotted", re.compile(r"(?<![\d.])(?P<a>\d{1,2})\.(?P<b>\d{1,2})\.(?P<y>\d{4})\b")),
    (
        "day_month",
        re.compile(
            _LEADING_WEEKDAY
            + rf"\b(?P<d>\d{{1,2}}){_ORD}(?:\s*(?:de\s+|of\s+)?|-)(?P<month>{_MONTH})\b\.?"
            + _YEAR
        ),
    ),
    (
        "month_day",
        re.compile(
            _LEADING_WEEKDAY
            + rf"\b(?P<month>{_MONTH})\b\.?\s+(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}(?!\d)"
            + r"(?!\s*(?:am|pm|h)\b)"
            + _YEAR
        ),
    ),
    (
        "weekday_day",
        re.compile(
            rf"\b(?P<weekday>{_WEEKDAY}|{_SHORT_WEEKDAY})\b\.?,?\s+(?:the\s+|dia\s+)?"
            rf"(?P<d>\d{{1,2}}){_ORD}(?![\d:/]|\.\d)"
        ),
    ),
    ("after_tomorrow", re.compile(r"\bpasado\s+manana\b|\bday\s+after\s+tomorrow\b")),
    ("tomorrow", re.compile(r"(?<!la )(?<!esta )(?<!una )\bmanana\b|\btomorrow\b|\btmrw\b")),
    ("today", re.compile(r"\bhoy\b|\btoday\b|\beod\b|\bend\s+of\s+(?:the\s+)?(?:day|today)\b")),
    (
        "end_of_month",
        re.compile(
            r"\b(?:a\s+)?(?:fin(?:al)?(?:es)?\s+de(?:l)?\s+mes)\b|\bend\s+of\s+(?:the\s+)?month\b|\beom\b"
        ),
    ),
    (
        "end_of_week",
        re.compile(
            r"\b(?:fin(?:al)?(?:es)?\s+de\s+(?:esta\s+|la\s+)?semana)\b|\beow\b"
            r"|\bend\s+of\s+(?:the\s+|this\s+)?week\b"
        ),
    ),
    (
        "in_days",
        re.compile(
            rf"\b(?:en|dentro\s+de|in|within)\s+(?:(?:the\s+)?next\s+)?(?P<n>{_NUMBER})\s+"
            r"(?P<unit>dias|dia|semanas|semana|days|day|weeks|week)\b"
        ),
    ),
    ("weekday", re.compile(rf"\b(?P<weekday>{_WEEKDAY})\b(?!-)")),
    (
        "day_only",
        re.compile(
            r"\b(?:(?:antes\s+del?|para\s+el|hasta\s+el|el)\s+(?:dia\s+)?|(?:by|before|on|until)\s+the\s+)"
            rf"(?P<d>\d{{1,2}}){_ORD}(?![\d:/,%]|\.\d|\s*(?:h|hs|horas|am|pm|de\s+(?:{_MONTH})|of)\b)"
        ),
    ),
]

# A text none of the patterns can match has no digit and none of these words:
# one search instead of fourteen for most item texts.
_MAYBE_DATE = re.compile(
    rf"\d|\b(?:{_WEEKDAY}|{_MONTH}|{_SHORT_WEEKDAY}|manana|tomorrow|tmrw|hoy|today|eod|eom|eow"
    r"|mes|month|semanas?|weeks?|dias?|days?)\b"
)

# Words that make the numbers near them something other than a date.
_ABBREVIATED = re.compile(r"^(?:sat|sun|mon|wed|fri|thu|thur|thurs|tue|tues)$")
_DUE_CUE = re.compile(
    r"\b(?:antes\s+del?|para\s+(?:el\s+)?|hasta\s+(?:el\s+)?|a\s+mas\s+tardar(?:\s+el)?|plazo:?"
    r"|fecha(?:\s+limite)?:?|vence(?:\s+el)?|by|before|due(?:\s+date)?:?|no\s+later\s+than"
    r"|deadline:?|until)\s*(?:the\s+)?$"
)


@dataclass(frozen=True)
class DateMention:
    """A date found in text: where it is, what was written, the day it means."""

    start: int
    end: int
    text: str
    value: date
    cued: bool  # preceded by "antes del", "para el", "by", "due"...: likely a deadline


_FOLD_CACHE = 20_000
_FOLDED: dict[str, str] = {}


def fold(text: str) -> str:
    """Lowercase and strip Spanish accents without changing the length (offsets stay valid)."""
    lowered = text.lower()
    # Most text is plain ASCII, which the table does not touch. The rest is folded again
    # and again (cues, dates, owners read the same line), and translating costs more than
    # all else folding does: a bounded cache keeps the answers.
    if lowered.isascii():
        return lowered
    folded = _FOLDED.get(lowered)
    if folded is None:
        if len(_FOLDED) >= _FOLD_CACHE:
            _FOLDED.clear()
        folded = _FOLDED[lowered] = lowered.translate(_FOLD)
    return folded


def clear_fold_cache() -> None:
    """Forget the folded lines (benchmarks measure mails as if never seen)."""
    _FOLDED.clear()


def strip_accents(text: str) -> str:
    """Accents removed, capitals kept ("Dª Álvarez" -> "Da Alvarez"); the length is kept."""
    return text.translate(_FOLD)


def _next_weekday(reference: date, weekday: int) -> date:
    ahead = (weekday - reference.weekday()) % 7 or 7
    return reference + timedelta(days=ahead)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _with_year_rule(reference: date, month: int, day: int, year: int | None) -> date | None:
    if year is not None:
        return _safe_date(year + 2000 if year < 100 else year, month, day)
    found = _safe_date(reference.year, month, day)
    if found is not None and found < reference:
        found = _safe_date(reference.year + 1, month, day)
    return found


def _day_on_or_after(reference: date, day: int) -> date | None:
    for offset in range(0, 3):
        month = (reference.month - 1 + offset) % 12 + 1
        year = reference.year + (reference.month - 1 + offset) // 12
        found = _safe_date(year, month, day)
        if found is not None and found >= reference:
            return found
    return None


def _resolve(kind: str, match: re.Match[str], reference: date, language: str) -> date | None:
    groups = match.groupdict()
    if kind == "iso":
        return _safe_date(int(groups["y"]), int(groups["m"]), int(groups["d"]))
    if kind in ("numeric", "dotted"):
        first, second = int(groups["a"]), int(groups["b"])
        day, month = (second, first) if language == "en" and kind == "numeric" else (first, second)
        year = int(groups["y"]) if groups.get("y") else None
        if month > 12 >= day:  # "12/14" can only be month first, whatever the language
            day, month = month, day
        return _with_year_rule(reference, month, day, year)
    if kind in ("day_month", "month_day"):
        year = int(groups["year"]) if groups.get("year") else None
        return _with_year_rule(reference, MONTHS[groups["month"]], int(groups["d"]), year)
    if kind == "weekday_day":
        return _day_on_or_after(reference + timedelta(days=1), int(groups["d"]))
    if kind == "weekday":
        return _next_weekday(reference, WEEKDAYS[groups["weekday"]])
    if kind == "day_only":
        return _day_on_or_after(reference, int(groups["d"]))
    if kind == "tomorrow":
        return reference + timedelta(days=1)
    if kind == "after_tomorrow":
        return reference + timedelta(days=2)
    if kind == "today":
        return reference
    if kind == "end_of_month":
        return reference.replace(day=calendar.monthrange(reference.year, reference.month)[1])
    if kind == "end_of_week":
        return reference + timedelta(days=(4 - reference.weekday()) % 7)
    if kind == "in_days":
        raw = groups["n"]
        count = int(raw) if raw.isdigit() else NUMBERS[raw]
        days = count * (7 if groups["unit"].startswith(("semana", "week")) else 1)
        return reference + timedelta(days=days)
    return None  # pragma: no cover - every kind is handled above


def find_dates(text: str, reference: date, language: str) -> list[DateMention]:
    """Every date written in ``text``, resolved against ``reference``, in order of appearance.

    Overlapping candidates are resolved by pattern order: the most specific
    pattern (an ISO or numeric date, a day with its month) wins over a bare
    weekday or day number inside it.
    """
    folded = fold(text)
    if not _MAYBE_DATE.search(folded):
        return []
    taken: list[tuple[int, int]] = []
    found: list[DateMention] = []
    weekdays: dict[int, int] = {}  # where the weekday mentions start -> end
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            start, end = match.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            abbreviated = kind == "weekday" and _ABBREVIATED.match(match.group("weekday"))
            if abbreviated and (language == "es" or not text[start:end][:1].isupper()):
                continue  # English day abbreviations count only capitalised: "Fri", not "fri"
            if kind == "weekday" and language == "es" and _is_a_name(text, start):
                continue  # "D. Domingo Suárez": Spanish writes weekdays in lowercase
            value = _resolve(kind, match, reference, language)
            if value is None:
                continue
            taken.append((start, end))
            cued = bool(_DUE_CUE.search(folded[max(0, start - 24) : start]))
            found.append(DateMention(start, end, text[start:end], value, cued))
            if kind == "weekday":
                weekdays[start] = end
    found.sort(key=lambda mention: mention.start)
    # "by Friday 4/10", "antes del viernes, 15/03": the weekday names the date that follows
    # it; the two are one date, the written one, cued if either is.
    merged: list[DateMention] = []
    for mention in found:
        before = merged[-1] if merged else None
        if (
            before is not None
            and weekdays.get(before.start) == before.end  # a weekday not merged yet
            and mention.start not in weekdays
            and _WEEKDAY_GAP.fullmatch(folded[before.end : mention.start])
        ):
            merged[-1] = DateMention(
                before.start,
                mention.end,
                text[before.start : mention.end],
                mention.value,
                before.cued or mention.cued,
            )
            continue
        merged.append(mention)
    return merged


_WEEKDAY_GAP = re.compile(r"[\s,]*(?:the\s+|el\s+|de\s+)?")


_NAME_AFTER = re.compile(r"\w+\s+[A-ZÁÉÍÓÚÑ][a-záéíóúñ]+")
_TITLE_BEFORE = re.compile(r"\b(?:D|Dña|Don|Sr|Sra|Dr|Dra|Fray|San|Santo)\.?\s*$")


def _is_a_name(text: str, start: int) -> bool:
    """A capitalised weekday that is a first name: after a title ("D. Domingo") or
    before a surname ("Domingo Suárez revisará"). Capitalised alone ("antes del
    Viernes") it is still the day: people capitalise weekdays, if Spanish does not."""
    if not text[start : start + 1].isupper():
        return False
    return bool(_TITLE_BEFORE.search(text[:start]) or _NAME_AFTER.match(text, start))


# A date the deadline used to be: "(was 30 Sep)", "antes era el 15/12".
_FORMER = re.compile(
    r"\b(?:was|were|previously|originally|formerly|initially|inicialmente|antes era(?: el)?|"
    r"era el|estaba previst[oa] (?:para )?(?:el )?|prevista inicialmente (?:para )?(?:el )?)"
    r"\s*:?\s*$"
)


def due_date(text: str, reference: date, language: str) -> date | None:
    """The deadline in an item's text: the last cued date ("antes del", "by"), else the last
    one; never a date it used to be ("now by 14 Oct (was 30 Sep)")."""
    folded = fold(text)
    mentions = [
        mention
        for mention in find_dates(text, reference, language)
        if not _FORMER.search(folded[max(0, mention.start - 40) : mention.start])
    ]
    if not mentions:
        return None
    cued = [mention for mention in mentions if mention.cued]
    return (cued or mentions)[-1].value
