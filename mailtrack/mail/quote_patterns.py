"""The words and shapes that mark quoted mail, signatures, footers and disclaimers.

These are the tables :mod:`mailtrack.mail.quotes` reads, kept apart so the
algorithm stays short and the vocabulary can grow without touching it.
Spanish and English come first; the other languages cost one word each and
cover colleagues whose mail client speaks German, French, Italian,
Portuguese, Dutch, the Nordic languages, Polish or Russian.

Every pattern is matched against one line (or a few joined lines) of at most
a few hundred characters, with bounded repetitions only, so a hostile body
cannot make matching slow.
"""

from __future__ import annotations

import re
import unicodedata

# -- characters ---------------------------------------------------------------

# Byte-order marks, zero-width spaces and joiners, soft hyphens and direction marks:
# iPhone puts U+FEFF before the quoted text, Windows Mail puts U+200E inside the
# "Enviado:" date. Every format character (category Cf) is dropped, not only those
# seen so far: one inside a word ("siem\u200dpre", "con\u00adfirmo") is invisible to
# the reader but would hide the word from every pattern (the fuzzer found a condition
# that no longer read as one, so a conditional "confirmo" counted as confirming).
INVISIBLE: dict[int, None] = dict.fromkeys(
    (
        code
        for code in (*range(0x20000), *range(0xE0000, 0xE0080))  # where Cf characters live
        if unicodedata.category(chr(code)) == "Cf"
    ),
    None,
)
# The Mailtrack browser extension (no relation) leaves a lone "ᐧ" line under the text.
TRACKER_MARK = "\u1427"

# -- quoting ------------------------------------------------------------------

QUOTE_PREFIX = re.compile(r"^[ \t]*((?:>[ \t]?)+)")
# Supercite-style prefixes ("Richard> text", "C>") used by Emacs and some webmails.
SUPERCITE_PREFIX = re.compile(r"^[ \t]*[A-Za-z]{1,12}>(?:[ \t]|$)")

# -- attribution lines ("On ... wrote:", "El ... escribió:") -----------------

_VERBS = (
    r"(?:wrote|escribi[óo]|schrieb|geschreven|a\s+[ée]crit|ha\s+scritto|escreveu|schreef|skrev"
    r"|napisa[łl](?:\(a\)|a)?|написал[аи]?|написав|пише|写道|書きました|kirjoitti|írta)"
)
# The last line of an attribution: the verb, a colon (Zoho writes "wrote ----").
ATTRIBUTION_TAIL = re.compile(
    rf"(?:{_VERBS}\s*[:：]?|\bwrote\s+-{{2,}}|\bUhr\s*[:：]|>\s*[:：])[-\s]*+$", re.IGNORECASE
)
# A whole attribution, its lines joined with spaces.
ATTRIBUTION = re.compile(
    rf"^[-\s]*+(?P<body>\S.{{2,319}}?)\s*{_VERBS}\s*(?P<colon>[:：]|-{{2,}})?[-\s]*+$",
    re.IGNORECASE,
)
# German Gmail: "Ana <ana@x> schrieb am Mo., 3. Nov. 2025 um 10:12 Uhr:".
ATTRIBUTION_SCHRIEB_AM = re.compile(r"^.{2,200}\bschrieb\s+am\b.{2,120}[:：]\s*$", re.IGNORECASE)
# iOS in Nordic languages and wrapped German ones put the name after the verb:
# "Den 15. jun. 2016 kl. 20.42 skrev Ana <ana@x>:"; these need a year or an opening.
ATTRIBUTION_VERB_FIRST = re.compile(
    r"^.{2,120}\b(?:schrieb|skrev|wrote|escribi[óo]|schreef)\b.{0,120}@.{0,80}[:：]\s*$",
    re.IGNORECASE,
)
# Russian webmails write no verb: "26.06.2014, 14:41, "Ana" <ana@x>:".
ATTRIBUTION_DATED_ADDRESS = re.compile(
    r"^.{0,80}\b(?:19|20)\d{2}\b.{0,80}<[^<>\s@]+@[^<>\s]+>\s*[:：]\s*$"
)
# Old webmails: a bare "Ana wrote:" or "Quoting Ana <ana@x>:".
ATTRIBUTION_BARE = re.compile(
    rf"^[^\W\d][\w'\".-]*+(?:\s++[^\W\d][\w'\".-]*+){{0,4}}\s++{_VERBS}\s*[:：]\s*$"
    r"|^(?:quoting|citando a?|cita de|zitat von)\s.{1,80}[:：]\s*$",
    re.IGNORECASE,
)
# A year: with it, an attribution needs no "On"/"El" ("понедельник, 6 октября 2014 г. ...").
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
DIGIT = re.compile(r"\d")
# A quoted line holding only the end of a wrapped attribution ("> wrote:", ">:").
ATTRIBUTION_QUOTED_TAIL = re.compile(rf"^\s*+(?:{_VERBS}\s*)?[:：]\s*$", re.IGNORECASE)
# Old Gmail: "2016-10-24 15:36 GMT+02:00 Ana <ana@x>:" or "2013/7/20 Ana <ana@x>".
ATTRIBUTION_ISO = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+(?:.{0,40}\b(?:GMT|UTC)\s*[+-]\d{1,2}:?\d{2}\b.{0,160}"
    r"|.{1,150}<[^<>\s@]+@[^<>\s]+>\s*[:：]?\s*)$"
)
# How an attribution starts: "On", "El", "Am"... or a date.
ATTRIBUTION_LEAD = re.compile(
    r"^[-\s>]*(?:(?:on|el|le|am|op|il|em|den|dnia|w\s+dniu|at|в|у)\b|\d)", re.IGNORECASE
)

# -- header blocks and separators ---------------------------------------------

# Field names of the header block Outlook, Samsung, Zimbra, Yahoo, Thunderbird
# and Gmail write above quoted or forwarded mail, mapped to what they mean.
HEADER_FIELDS: dict[str, str] = {
    **dict.fromkeys(
        "de from von van da fra från od expéditeur remitente mittente от від".split(), "from"
    ),
    **dict.fromkeys(
        "enviado|enviado el|enviados|sent|date|fecha|gesendet|datum|data|envoyé|envoyé le|inviato"
        "|verzonden|skickat|sendt|wysłano|отправлено|дата|sent at".split("|"),
        "date",
    ),
    **dict.fromkeys("para to an a à aan til till do кому destinatario".split(), "to"),
    **dict.fromkeys("cc cco bcc kopie copia ccn".split(), "cc"),
    **dict.fromkeys(
        "asunto subject betreff objet oggetto onderwerp emne ämne temat assunto тема".split(),
        "subject",
    ),
    **dict.fromkeys("reply-to|responder a|risposta|antwort an".split("|"), "reply-to"),
}
HEADER_FIELD = re.compile(r"^[\s*_]*(?P<name>[^\W\d_][\w' -]{0,18}?)[\s*_]*[:：]")

# "-----Mensaje original-----", "-------- Original Message --------"...
ORIGINAL_SEPARATOR = re.compile(
    r"^[\s*_]*-{2,}\s*(?:original message|mensaje original|ursprüngliche nachricht"
    r"|message d'origine|messaggio originale|mensagem original|oorspronkelijk bericht"
    r"|originalmeddelande|opprinnelig melding|oprindelig meddelelse|oryginalna wiadomość"
    r"|исходное сообщение)\s*-{2,}[\s*_]*$",
    re.IGNORECASE,
)
# Forward headers; Yahoo puts the whole header block on the same line.
FORWARD_SEPARATOR = re.compile(
    r"^[\s*_]*-{2,}\s*(?:forwarded message|mensaje reenviado|message transféré|mensagem encaminhada"
    r"|weitergeleitete nachricht|messaggio inoltrato|doorgestuurd bericht|videresendt melding"
    r"|vidarebefordrat meddelande|wiadomość przekazana dalej|пересылаемое сообщение)\s*-{2,}",
    re.IGNORECASE,
)
FORWARD_LINE = re.compile(
    r"^[\s*_]*(?:begin forwarded message|inicio del mensaje reenviado"
    r"|comienzo del mensaje reenviado|forwarded message|mensaje reenviado"
    r"|début du message réexpédié|anfang der weitergeleiteten nachricht)\s*[:：]\s*$",
    re.IGNORECASE,
)
# Outlook's "________________________________" above its header block, or a dash rule.
RULE = re.compile(r"^[\s*]*(?:_{8,}|-{8,}|—{5,})[\s*]*$")
# Subject prefixes of a forward: only the first prefix counts ("RE: FW:" is a reply).
FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|rv|tr|wg|enc|reenv(?:iar|iado)?|i)\s*:", re.IGNORECASE)
# Words of a short note that hands on a forwarded mail ("Os reenvío el acta", "FYI").
FORWARD_NOTE = re.compile(
    r"\b(?:re-?env[íi]\w*|forward\w*|fwd|fyi|f\.y\.i|para (?:vuestra|tu|su) informaci[óo]n"
    r"|(?:os|te|les) (?:paso|hago llegar|comparto|mando|env[íi]o|dejo)|abajo|debajo"
    r"|(?:see|find|read) (?:it )?below|below (?:are|is)|passing (?:on|along))\b",
    re.IGNORECASE,
)
# The own text announcing answers written inside an unprefixed Outlook quote.
INLINE_NOTE = re.compile(
    r"entre l[íi]neas|en l[íi]nea|intercalad|inline|in[- ]line|en (?:rojo|azul|negrita)"
    r"|in (?:red|blue|bold)"
    r"|(?:answers|comments|replies|respuestas|comentarios) (?:below|abajo|debajo)",
    re.IGNORECASE,
)
# "[JP] CONFIRMADO": initials marking such an inline answer.
INLINE_TAG = re.compile(r"^\s*\[(?P<tag>[A-ZÁÉÍÓÚÑ]{2,4})\]\s*\S")

# -- mobile and webmail footers -----------------------------------------------

_DEVICE = (
    r"(?:my|mi|mon|ma|meinem|min|mio|meu|il mio|o meu|outlook|yahoo|gmail|aol|mail|correo|samsung"
    r"|galaxy|iphone|ipad|android|blackberry|windows|mailbox|airmail|spark|proton\w*|huawei|xiaomi"
    r"|a (?:phone|mobile|smartphone)|mobile|\[mail\])"
)
FOOTER = re.compile(
    r"^[\s(<]*(?:"
    rf"(?:sent|enviado|enviada|envoy[ée]|enviat|inviato|verzonden|sendt|skickat|wys[łl]ane)"
    rf"\s+(?:from|desde|depuis|des de|da|met|fra|fr[åa]n|z|with|via|con|using|on)\s+{_DEVICE}"
    r"|von meinem\b.{1,40}\bgesendet|diese nachricht wurde von meinem\b.{1,60}\bgesendet"
    r"|(?:get|obtener|obt[ée]n|descarga|download|télécharger|hol dir)\s+\[?outlook\b"
    r"|<<\s*sent by \w+|from my (?:iphone|ipad|android|mobile|phone|samsung|galaxy|blackberry)"
    r"|寄自我的|发自我的|從我的"
    r")",
    re.IGNORECASE,
)

# -- signatures ---------------------------------------------------------------

# "-- " (RFC 3676 section 4.3) or a bare "--"; a rule of underscores or dashes. The
# space may be any (HTML mail writes "--&nbsp;"): with a thin one, the fuzzer's
# confirmation in a signature read as the author's answer.
SIGNATURE_DASHES = re.compile(r"^(?:--|—|–)[^\S\n]*$")
SIGNATURE_RULE = re.compile(r"^[^\S\n]*(?:_{5,}|—{3,}|–{3,})[^\S\n]*$")
CLOSING = re.compile(
    r"^[\s*_]*(?:saludos(?: cordiales)?|un (?:cordial )?saludo(?: cordial)?|muchos saludos"
    r"|recib[ea]n? un (?:cordial )?saludo|atentamente|cordialmente|un abrazo|abrazos|besos"
    r"|(?:muchas |mil )?gracias(?: de antemano| por adelantado)?"
    r"|quedo a (?:la|vuestra|tu|su) (?:espera|disposici[óo]n)[\w ]{0,30}"
    r"|(?:best|kind|warm|warmest|many)(?: regards| wishes| thanks)?|regards|cheers"
    r"|thanks?(?: you)?(?: again| in advance| so much)?|many thanks|sincerely(?: yours)?"
    r"|yours(?: sincerely| truly)?|all the best|talk soon|br|rgds"
    r"|(?:viele|freundliche|beste|liebe) grü(?:ß|ss)e|mit freundlichen grü(?:ß|ss)en|gru(?:ß|ss)"
    r"|bien à vous|bien cordialement)"
    r"(?:[,.!]*\s+[A-ZÁÉÍÓÚÑ][\w.'-]*){0,3}[\s,.!🙂]*$",
    re.IGNORECASE,
)
POSTSCRIPT = re.compile(r"^\s*(?:p\.?\s?d\.?|p\.?\s?s\.?|n\.?\s?b\.?)\s*[:.-]", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪◦‣+]|\d{1,3}[.)]|[a-z][.)]|\[[ xX✓]?\])\s+\S")
NAME_TOKEN = re.compile(r"^(?:[^\W\d_][\w'’.-]*|\([^()]{1,20}\))$")
NAME_PARTICLES = frozenset("de del la las los y i van von der den da di du le e dos das".split())
# Words that open a reply, a heading or a sentence, never a name on its own line.
NOT_NAMES = frozenset(
    """
    confirmo confirmado confirmada confirmados confirmadas confirm confirmed confirming comfirmo
    agreed agree conforme ok okay vale sí si yes no gracias thanks thank thx perfecto perfect
    recibido received hola hi hello hey buenas buenos saludos regards acuerdos acuerdo tareas
    decisiones decisión asistentes pendientes action actions decision decisions next agenda notes
    notas attendees resumen summary approved aprobado aprobada hecho done correcto entendido noted
    sure fine great genial bien todo todos all items item puntos punto rechazado rejected
    pendiente acta minutes fyi see ver nota note próximos próximas pasos steps compromisos
    acciones resolved asuntos varios ruegos preguntas orden update updates status estado
    discussion discusión takeaways outcomes resolutions present apologies responsable owner
    fecha date plazo due adjunto attached saludo abrazo besos cheers best kind warm
    rechazo rechazamos rechazada rechazadas acepto aceptamos aceptado aceptada accept accepted
    decline declined denegado denegada negativo imposible excepto except salvo disagree
    desacuerdo objeción objection apruebo aprobamos confirmamos
    """.split()
)
TITLE_WORD = re.compile(
    r"\b(?:director[a]?|directora|gerente|jef[ea]|responsable|coordinador[a]?|consultor[a]?"
    r"|ingenier[oa]|t[ée]cnic[oa]|soci[oa]|abogad[oa]|analista|president[ea]|secretari[oa]"
    r"|tesorer[oa]|administrador[a]?|asistente|fundador[a]?|departamento|dpto|área|equipo"
    r"|manager|head|lead|engineer|consultant|partner|analyst|officer|president|secretary"
    r"|treasurer|associate|specialist|coordinator|assistant|founder|owner|ceo|cto|cfo|coo|cio"
    r"|pmo|vp|chief|senior|junior|department|team|account|product|project|programme|program)\b",
    re.IGNORECASE,
)
COMPANY = re.compile(
    r"\b(?:S\.?\s?A\.?U?|S\.?\s?L\.?(?:U|P)?\.?|Ltd|Limited|Inc|LLC|LLP|GmbH|AG|plc|S\.?A\.?S"
    r"|Corp|B\.?V\.?)(?:\.|\b)"
)
CONTACT = re.compile(
    r"[^\s@]+@[^\s@]+\.\w|https?://|www\.|\+\d{1,3}[\s.-]?\(?\d|\(\d{2,4}\)\s?\d"
    r"|^\s*(?:tel|tfno|tlf|tel[ée]fono|m[óo]vil|mov|m|t|f|fax|phone|mobile|mob|cell|ext|p)\b\.?\s*:?\s*\+?\d",
    re.IGNORECASE,
)
# A bare phone number ("910 000 123", "600-123-456"), as long as it is not a date.
PHONE = re.compile(r"(?<![\d.:/-])\d{2,4}(?:[ .-]\d{2,4}){2,4}(?![\d.:/-])")
DATE_OR_TIME = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\d:\d\d")
DATE_LIKE = re.compile(r"\b\d{1,2}/\d{1,2}\b")

# -- legal disclaimers --------------------------------------------------------

# Openings that make a paragraph a disclaimer by themselves.
DISCLAIMER_HEADING = re.compile(
    r"^[\s*_]*(?:aviso legal|aviso de confidencialidad|nota de confidencialidad|confidencialidad"
    r"|cl[áa]usula de confidencialidad|advertencia legal|protecci[óo]n de datos"
    r"|informaci[óo]n (?:b[áa]sica )?sobre protecci[óo]n de datos|disclaimer"
    r"|confidentiality(?: notice| note| statement| warning)?|legal notice|important notice"
    r"|privileged (?:and|&) confidential|antes de imprimir|piense en el medio ambiente"
    r"|por favor,? (?:piense|considere)|please consider the environment|think before you print"
    r"|please don'?t print|save a tree|caution:? this (?:e-?mail|message) originated"
    r"|\[?external (?:e-?mail|sender)\]?|correo externo"
    r"|atenci[óo]n:? este correo (?:se origin[óo]|procede|proviene))\b",
    re.IGNORECASE,
)
# Notice headings that are also topics minutes discuss.
TOPIC_HEADING = re.compile(
    r"^[\s*_]*(?:protecci[óo]n de datos|confidencialidad|confidentiality"
    r"|informaci[óo]n (?:b[áa]sica )?sobre protecci[óo]n de datos)\b",
    re.IGNORECASE,
)
# Openings that need legal vocabulary in the paragraph too.
DISCLAIMER_OPENING = re.compile(
    r"^[\s*_]*(?:this (?:e-?mail|message|communication|transmission)\b"
    r"|the (?:information|content|contents) (?:contained |included )?in this"
    r"|este (?:mensaje|correo|e-?mail)\b|la informaci[óo]n (?:contenida|incluida) en"
    r"|de conformidad con\b|en cumplimiento de\b"
    r"|conforme (?:a|al) (?:lo|la|el)?\s?(?:reglamento|ley|rgpd)"
    r"|le informamos (?:de )?que\b|sus datos\b|if you (?:are not|have received)\b"
    r"|responsable del tratamiento|los datos personales)",
    re.IGNORECASE,
)
LEGAL_VOCABULARY = re.compile(
    r"confidencial|privilegiad|destinatari|reglamento \(ue\)|2016/679|rgpd|gdpr|lopd|lopdgdd"
    r"|datos personales|protecci[óo]n de datos|confidential|privileged|intended (?:solely )?for"
    r"|intended recipient|addressee|disclos|unauthori[sz]ed|prohibited|legally|liability",
    re.IGNORECASE,
)


# -- the shape of a line --------------------------------------------------------


def field_kind(line: str) -> str | None:
    """What a header-block line is ("from", "date", "to", "cc", "subject"), if it is one."""
    found = HEADER_FIELD.match(line)
    return HEADER_FIELDS.get(found["name"].strip().lower()) if found else None


def name_line(line: str, min_words: int = 1) -> bool:
    """A name alone on its line: "Ana García", "-Kevin", "Dra. Ana Ruiz", "ORC Secretariat"."""
    text = line.strip().lstrip("-—–/~*_ ").rstrip(" ,")
    if not text or len(text) > 50 or any(c.isdigit() for c in text):
        return False
    if text[-1] in ".!?:;" and not (len(text) > 2 and text[-2].isupper() and text[-3] == " "):
        return False  # a sentence, unless it ends with an initial ("Ana R.")
    words = text.split()
    if not min_words <= len(words) <= 5:
        return False
    for word in words:
        if word.lower() in NAME_PARTICLES:
            continue
        if not NAME_TOKEN.match(word) or word.lower().strip(".,") in NOT_NAMES:
            return False
        if not (word[0].isupper() or word.startswith("(")):
            return False
    return True


def title_line(line: str) -> bool:
    """A job title or company line: "Director de Operaciones · Cliente S.A.", "Head of IT"."""
    text = line.strip()
    if not text or len(text) > 100 or LIST_ITEM.match(text) or text.endswith(":"):
        return False
    separators = text.count("|") + text.count("·")
    if separators and separators <= 3 and not DATE_LIKE.search(text):
        return True
    words = [w for w in text.split() if w.lower() not in NAME_PARTICLES | {"of", "and", "&"}]
    if COMPANY.search(text) and len(words) <= 8:
        return True
    capitalized = sum(1 for w in words if w[:1].isupper())
    return (
        bool(TITLE_WORD.search(text))
        and ":" not in text
        and len(words) <= 5
        and capitalized * 2 >= len(words)
        and not text.endswith(".")
    )


def contact_line(line: str) -> bool:
    """An address, URL or phone line; a date is not a phone number."""
    text = line.strip()
    if len(text) > 120:
        return False
    phone = PHONE.search(text) and not DATE_OR_TIME.search(text)
    return bool(CONTACT.search(text) or phone)


def is_attribution(joined: str) -> bool:
    """Whether text (an attribution's lines joined by spaces) introduces quoted mail.

    A date with an opening word ("El 26/11/26 a las 11:02, Actas escribió:"),
    an address ("Ana <ana@x> wrote:") or a year makes it one; "Ana escribió:"
    alone only when the line is nothing else.
    """
    if ATTRIBUTION_ISO.match(joined) or ATTRIBUTION_BARE.match(joined):
        return True
    opening = bool(ATTRIBUTION_LEAD.match(joined))
    found = ATTRIBUTION.match(joined)
    if found and not found["colon"]:  # "... <ana@x> wrote" with no colon: only when complete
        return opening and "@" in found["body"] and bool(DIGIT.search(found["body"]))
    if found:
        body = found["body"]
        return "@" in body or (opening and bool(DIGIT.search(body))) or bool(YEAR.search(body))
    if ATTRIBUTION_SCHRIEB_AM.match(joined) or ATTRIBUTION_VERB_FIRST.match(joined):
        return opening or bool(YEAR.search(joined))
    return bool(ATTRIBUTION_DATED_ADDRESS.match(joined))
