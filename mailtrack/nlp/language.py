"""Spanish or English? A count of frequent function words, per mail.

Minutes and replies are long enough that function words decide reliably;
a text with too few of either (a bare "ok", a table of names) is undecided
and the caller falls back to the configured default language.
"""

from __future__ import annotations

import re

from mailtrack.nlp.dates import fold

_WORD = re.compile(r"[a-zñ]+")
SPANISH = frozenset(
    "el la los las de del que y en un una por con para es se no lo al como mas pero sus le ya "
    "o este esta son entre cuando muy sin sobre tambien me hasta hay donde quien desde todo "
    "nos durante todos uno les ni contra otros ese eso ante ellos e esto antes algunos que "
    "unos yo otro otras otra tanto esa estos mucho quienes nada muchos cual poco ella estar "
    "estas algunas algo nosotros mi mis tu te ti tus ellas nosotras vosotros os mio mia tuyo "
    "tuya hola gracias saludos acuerdos reunion tareas acta queda quedamos semana viernes "
    "lunes".split()
)
ENGLISH = frozenset(
    "the of and to in is that it for was on are as with be at by this have from or had not "
    "but what all were we when your can said there use an each which she do how their if will "
    "up other about out many then them these so some her would make like him into time has "
    "look two more write go see number no way could people my than first been call who its "
    "now find long down day did get come made may part hi thanks regards meeting agreed "
    "action items next week friday monday owner due until please only soon just also am i "
    "im you".split()
)
MIN_EVIDENCE = 3


def guess_language(text: str, default: str, sample: int = 4000) -> str:
    """ "es" or "en" for ``text`` (its first ``sample`` characters), else ``default``."""
    words = _WORD.findall(fold(text[:sample]))
    spanish = sum(word in SPANISH for word in words)
    english = sum(word in ENGLISH for word in words)
    if max(spanish, english) < MIN_EVIDENCE or spanish == english:
        return default
    return "es" if spanish > english else "en"
