"""The words of a reply to a confirmation request, in Spanish and English.

These are the tables :mod:`mailtrack.nlp.intent` reads, kept apart so the
reading stays short and the vocabulary can grow without touching it, and the
few shapes read at the level of words: :func:`normalize`, :func:`typo_of`,
:func:`number_kind` (is this number an item, a count or a date?) and
:func:`find_refs` (which items does this piece of text name?). Every
entry is written folded: lower case, no accents, straight apostrophes and
quotes, "-" for every dash (see :func:`normalize`).
Both languages always apply: people answer a Spanish request in English and
the other way round, and a negation must never hide behind a wrong guess of
the language.

The tables lean one way. A confirmation is a closed list of verbs in the
first person or as a participle ("confirmo", "confirmado", "I confirm",
"confirmed", "de acuerdo", "agreed", "conforme"); anything else that talks
about confirming ("confirmaré", "te confirmo mañana", "please confirm", "Ana
lo confirma") is a *mention*, which can only make a reply unclear. Doubt
words are many and broad on purpose: a false "unclear" costs the organizer
one look, a false "confirmed" costs the record its value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _alternation(text: str) -> str:
    """A regex alternation of the comma-separated phrases in ``text``, longest first."""
    phrases = sorted({p.strip() for p in text.split(",") if p.strip()}, key=len)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in reversed(phrases))


# -- the verb ------------------------------------------------------------------

# Forms that confirm when their context allows (see intent._verb_kind).
CONFIRM_FORMS = _words(
    "confirmo confirmamos confirmado confirmada confirmados confirmadas conforme conformes "
    "confirmed confirm confirming agreed agree"
)
# Forms that talk about confirming without doing it: future, infinitive, third
# person, subjunctive, nouns. "confirmé"/"confirmó" fold to forms of their own
# or are told by the accent (intent._verb_kind).
MENTION_FORMS = _words(
    "confirma confirmas confirman confirme confirmes confirmen confirmemos confirmar confirmare "
    "confirmaras confirmara confirmaran confirmaremos confirmaria confirmarias confirmariamos "
    "confirmarian confirmaste confirmasteis confirmaron confirmaba confirmabas confirmaban "
    "confirmabamos confirmando confirmarlo confirmarla confirmarlos confirmarlas confirmartelo "
    "confirmaroslo confirmarte confirmaros confirmaselo confirmalo confirmadlo confirmad "
    "confirmacion confirmaciones conformo conforma conforman conformar "
    "confirms confirmation confirmations confirmer unconfirmed reconfirm reconfirmed conform "
    "agrees agreeing agreement"
)
# Typos of these (one letter changed, added, dropped or two swapped) still confirm.
TYPO_TARGETS = ("confirmo", "confirmado", "confirmamos", "confirmed", "confirming", "confirm")
# A participle after these is somebody else's, or another time's, confirmation.
NOT_NOW = _words(
    "he ha has han hemos habia habian fue fueron sera seran seria serian estara estaran "
    "was were been have had will would be being get got gets "
    "she they you it who which as what"
)
# "I confirm", "we hereby confirm", "I can confirm", "I'd be happy to confirm".
SUBJECTS = _words("i we yo nosotros")
VERB_ADVERBS = _words(
    "hereby also fully formally gladly happily officially do can hence thus therefore now "
    "herewith just again am are 'm 're i'm we're"
)
HAPPY_TO = _words("happy glad pleased like")
# Clitics that make "te confirmo" "I'll let you know" unless an object follows.
CLITICS = _words("te os le les")

# -- negation --------------------------------------------------------------------

NEGATORS = _words(
    "no not never nunca jamas tampoco ni sin don't dont doesn't didn't can't cant cannot "
    "couldn't won't wouldn't isn't aren't wasn't weren't haven't hasn't hadn't shouldn't "
    "nope unable"
)
# A negation with these is "I can't confirm": not a refusal, a reply to look at.
CANT = _words(
    "puedo podemos puede pueden podria podriamos can could able can't cant cannot couldn't unable"
)
# The verbs of "no lo puedo confirmar: motivo", "I can't commit to #2 because ...": with a
# reason, a refusal of the items named; without one, or with a "not yet", unclear.
CANT_VERBS = _words(
    "confirmar confirmarlo confirmarla confirmarlos confirmarlas confirm agree commit "
    "comprometer comprometerme comprometernos aceptar aceptarlo aceptarla accept"
)
# A reason that only puts the answer off: "no puedo confirmar el 2: tengo que mirarlo".
DEFERS = re.compile(
    r"\b(?:"
    + _alternation(
        """
        yet, still, todavia, aun, pending, pendiente, check, checking, double-check, revisar,
        revisarlo, reviso, consultar, consultarlo, consulto, mirar, mirarlo, miro, later,
        luego, mas tarde, manana, tomorrow, next week, semana que viene, proxima semana,
        get back, come back, te digo, os digo, ya te dire, let you know, hasta que, until i,
        until we, hasta hablar, once, de momento, por ahora, for now, at the moment
        """
    )
    + r")\b"
)
# A "reason" that only hedges the whole answer: "confirmo todo salvo el 2, creo".
HEDGE = re.compile(
    r"(?:creo|supongo|quiza|quizas|tal vez|igual|i think|i guess|i believe|maybe|perhaps|"
    r"probably|probablemente|no se|not sure|no estoy seguro|no estoy segura)[\s.!]*"
)
# A terse "no" bound to items ("el 2 no", "Del 1 no:") or standing alone.
NO_WORDS = _words("no nope nop")
YES_WORDS = _words("ok okay vale si yes yep yeah bien correcto correct fine good perfecto dale")
ALSO_WORDS = _words("tambien too also")
ALL_WORDS = _words("all todo everything")
# Words a terse answer may carry around its items and its yes or no.
TERSE_FILLER = _words(
    "el la los las lo del de al punto puntos item items numero number y e and & the para por "
    "mi my parte side pero but as well en cuanto a regarding re sobre to con"
)

# Refusals that are not a negated "confirm": "no estoy de acuerdo", "nunca lo
# acordamos", "I reject", "that's not what we decided", "is not right".
REJECT = re.compile(
    r"\b(?:disagree[sd]?|rechaz(?:o|amos|ado|ados|ada|adas)|incorrect[oa]?"
    # "I reject", "rejected"; not the passive of a report ("was rejected by the server").
    r"|(?<!was\s)(?<!were\s)(?<!been\s)(?<!is\s)(?<!are\s)(?<!be\s)(?<!got\s)reject(?:ed)?"
    r"|(?:no|not|never|nunca|\w+n't)\s+(?:(?:estoy|estamos|estuve|estuvimos|i|we|am|are|be|"
    r"lo|la|los|las|se|le|les|eso|esto|that|this|it|what|lo\s+que|es\s+lo\s+que|quite)\s+){0,3}"
    r"(?:acord\w*|agree[sd]?|decid\w*|dijimos|hablamos|discussed|said|correct[oa]?|right|bien|"
    r"cierto|true|conforme[s]?|de\s+acuerdo))\b"
)

# -- doubt -----------------------------------------------------------------------

# Conditions, deferrals, questions, receipts, change requests, hedges, time to
# come. Any of these in a clause makes it unclear; near a blanket confirmation,
# the whole reply (DESIGN: "confirmo pero cambiad la fecha" -> unclear).
DOUBT = re.compile(
    r"\b(?:"
    + _alternation(
        """
        pero, aunque, siempre que, siempre y cuando, a condicion, con la condicion,
        con tal de, salvo que, excepto que, a no ser que, en principio, quiza, quizas,
        tal vez, a lo mejor, creo que, creo, supongo, duda, dudas, dudo, tengo claro, esta claro,
        revisar, revisarlo, revisarla, revisarlos, reviso, revisare, revisamos, mirar,
        mirarlo, miro, miramos, te digo, os digo, le digo, ya te dire, ya os dire, te cuento,
        os cuento, hablamos, hablar, hablarlo, lo vemos, veremos, comentamos, comentar,
        consultar, consultarlo, consulto, pendiente, pendientes, esperando, espero, esperar,
        todavia, aun, hasta que, hasta, depende, dependera, cuando, en cuanto, manana, luego,
        despues, mas tarde, proxima semana, semana que viene, otro dia, recibido, recibida,
        recibo, acuse, cambiad, cambiar, cambia, cambiaria, cambio, cambios, modificad,
        modificar, mover, moved, movedlo, corregid, corregir, quitad, quitar, anadid, anadir,
        falta, faltaria, retrasar, aplazar, adelantar, de momento, por ahora, por el momento,
        entiendo que, but, though, although, however, if, unless, provided, as long as,
        assuming, subject to, on condition, maybe, perhaps, probably, possibly, i think,
        i guess, i believe, not sure, unsure, in principle, tentative, tentatively,
        ni desmiento, nor deny, check, checking, review, reviewing, discuss, discussion,
        get back, come back, revert,
        circle back, let you know, will, i'll, we'll, shall, going to, later, tomorrow,
        next week, soon, pending, waiting, wait, yet, still, until, till, once, when,
        depends, received, receipt, change, changes, changed, move, update, amend, fix,
        postpone, delay, reschedule, for now, at the moment, question, questions, wonder,
        clarify, clarification, casi, en parte, parcialmente, mas o menos, en general,
        basicamente, practicamente, mayormente, con reservas, con matices, mostly, partly,
        partially, largely, generally, basically, almost, sort of, kind of, more or less,
        with reservations, salvo, excepto, menos, except, apart from, aside from,
        comentario, comentarios, comento, abajo, entre lineas, ver, comment, comments,
        below, inline, see, acta anterior, actas anteriores, reunion anterior,
        semana pasada, otra reunion, previous minutes, previous meeting, last meeting,
        last week, last month, other meeting, actually, scratch that, en realidad,
        mejor dicho, olvida, olvidad, ignora, ignorad, ignore, disregard, retiro, retract,
        cancel, cancela, cancelo, never mind,
        necesito, necesitamos, necesitaria, necesitariamos, hace falta, need, needs, needed,
        mas tiempo, more time, en vez de, en lugar de, instead, rather than, propongo,
        propuesta, propose, proposal, alternativa, alternative, otra fecha, another date,
        different date, problema, problemas, problem, problems, riesgo, risk, imposible,
        impossible, depending, depend, dependent, dependiendo, contingent, condition,
        conditional, conditionally, condicion, condicional, condicionado, condicionada,
        a reserva, sujeto a, sujeta a, sujetos a, sujetas a, supeditado, supeditada,
        a expensas, en funcion de, segun lo que, segun diga, segun digan, tbc, tbd, pdte, pte
        """
    )
    + r")\b"
    # "no sé" (I don't know), not the "no se" of "no se acordó".
    + r"|\bno\s+(?:lo\s+)?se(?=\s*(?:$|[,.;:!?]|si\b|que\b|cuando\b|como\b))"
)
# Irony and complaint: the words around a "confirmo" that take it back.
IRONY = re.compile(
    r"\b(?:"
    + _alternation(
        """
        como siempre, como de costumbre, sin contar con, sin preguntar, nadie nos pregunto,
        nadie me pregunto, faltaria mas, gracias por preguntar, oh sure, as if, as usual,
        thanks for asking, nobody asked, without asking,
        es broma, era broma, es coña, es cona, de broma, mentira, me equivoque, me he equivocado,
        hilo equivocado, correo equivocado, persona equivocada, just kidding, kidding, jk, j/k,
        sarcasm, sarcastic, sarcastically, wrong thread, wrong email, wrong mail, wrong person,
        according to
        """
    )
    + r")\b"
    # Someone else's word reported ("Per Ana: confirmed", "según Ana, confirmado", "dice
    # Ana: confirmado", "as Ana said"), and a confirmation taken back ("confirmo, que no").
    # ("On behalf of Juan" is not here: an assistant set up as Juan's alias writes it,
    # and who may answer is the sender check's business.)
    + r"|\b(?:per|segun|dice|says|said)\s+[a-z]+\s*[,:]|\bas\s+[a-z]+\s+said\b"
    + r"|,\s*que\s+no\s*[.!]*\s*(?:\n|$)"
    + r"|\byeah,?\s+right\b|\bsure,?\s+sure\b"
    + r"|\"\s*(?:confirm\w*|agreed|de acuerdo)\s*[.!]?\s*\""
)
IRONY_EMOJI = frozenset("🙄😒🙃😏😤😑🤦🤷😠😡🤨😂🤣😅😆😜😉🤔😬🤪")
# Marks of a "no" that a reader binds to the item beside them ("Confirmo 1 y 2, 3 ❌"):
# anywhere in a reply they leave it to a person.
NEGATIVE_MARKS = frozenset("❌✗✘✖👎⛔🚫❎")
# Phrases whose "no" or "if" does not doubt anything, masked before reading.
HARMLESS = re.compile(
    r"\b(?:"
    + _alternation(
        """
        no tengo nada que objetar, no tenemos nada que objetar, nada que objetar,
        sin objeciones, sin objecion, ninguna objecion, sin problema, sin problemas,
        ningun problema, no hay problema, no hay ningun problema, sin cambios,
        sin comentarios, nada que anadir, no tengo nada que anadir, cualquier cosa me dices,
        cualquier cosa me decis, cualquier duda me dices, si necesitas algo,
        si necesitais algo, quedo a tu disposicion, quedo a vuestra disposicion,
        muchas gracias, gracias, nos vemos, see you, un saludo, saludos, no objections,
        no objection, no problem, no problems, no issues, no issue, no concerns, no changes,
        no comments, no further comments, nothing to add,
        let me know if you need anything else, let me know if you need anything,
        if you need anything else, if you need anything, if you have any questions,
        many thanks, thank you, thanks, thx, best regards, kind regards, regards, cheers,
        no worries, no rush, no te preocupes, no hay prisa,
        as discussed, as agreed, as per our call, como acordamos, como quedamos,
        como lo hablamos, segun lo acordado, segun lo hablado
        """
    )
    + r")\b"
)

# A promise to deliver the item is not a doubt: "confirmed, will send it by Friday" (the
# auxiliary alone is masked; what follows is still read: "I'll send it once Legal agrees").
WILL_DELIVER = re.compile(
    r"\b(?:i'll|we'll|i\s+will|we\s+will|will)"
    r"(?=\s+(?:send|deliver|share|circulate|upload|forward|submit|email|mail)\b)"
)

# An owner, a restriction or a preference ("lo lleva Ana", "solo la parte de staging",
# "mejor el martes"): beside a confirmation of everything, it says what is not agreed.
# Not a doubt everywhere: "confirmo solo el 1" confirms item 1.
QUALIFY = re.compile(
    r"\b(?:"
    + _alternation(
        """
        lleva, llevan, llevara, encarga, encargan, encargo, encargara, responsable,
        responsables, corresponde, le toca, asignado, asignada, es cosa de,
        owner, owners, owns, handles, handling, handled, belongs, assigned, in charge,
        solo, solamente, unicamente, only, mejor, better, prefiero, preferiria, prefer,
        preferably, preferiblemente, rather
        """
    )
    + r")\b"
)
# What else makes a note about an item more than information ("Para el punto 3: es de
# Compras", "Re 2: just the staging part", "it'll be late").
NOT_PLAIN = re.compile(
    r"\b(?:"
    + _alternation(
        """
        es de, cargo, toca, handle, just, parte, part, tarde, late, retraso, retrasa,
        retrasado, delayed, atrasado
        """
    )
    + r")\b"
)
# "Para el punto 3:", "Re 4 -", "As for #2,", "Sobre el 1:": a note about an item follows.
TOPIC_MARKERS = _words("para sobre respecto cuanto re regarding as for about on")

# -- the shape of a clause --------------------------------------------------

TOKEN = re.compile(r"[a-z0-9ñ]+(?:'[a-z]+)?")
# What opens a reason inside a clause: "salvo el 2 porque ...", "item 3 because ...".
REASON_INTRO = re.compile(
    r"\b(?:porque|ya\s+que|dado\s+que|puesto\s+que|debido\s+a|because|since|due\s+to|given\s+that)\b"
)
# Words that may open a clause without changing what it is about.
LEAD_SKIP = _words("y e and pero but o or sobre regarding re as for en cuanto a then")
ARTICLES = _words("el la los las the")
# A clause opened by these explains ("que no tengo el portátil"): its "no" doubts nothing.
EXPLAINS = _words("que porque because since as ya pues")
# A clause opened by these goes on with the one before ("..., que los confirme Pablo").
RELATIVES = _words("que which who quien quienes")
# After an item, these open a statement of its own about it ("el 2 lo vemos", "2 I'm not
# sure"), rather than going on with a list of items ("1, 2 y 3 si me da tiempo").
TOPIC_WORDS = _words(
    "lo la los las le les me te se i we it that this they he she you i'm we're it's that's "
    "i'll we'll"
)

# -- what a clause speaks about -------------------------------------------------

# Heads of a blanket object: "confirmo todo", "los acuerdos", "all items", "the above".
WHOLE = _words(
    "todo todos toda todas everything all whole entire completo completa anterior above "
    "acuerdos agreements acta actas minutes puntos items points decisiones "
    "decisions tareas tasks acciones actions compromisos cosas things lot acordado hablado "
    "ambos ambas both them ellos ello eso esto it"
)
# Words for one item: allowed beside its number only ("confirmo el punto 1").
ITEM_WORDS = _words("punto item point numero number acuerdo decision tarea task")
# Words a blanket confirmation may carry around its verb and object.
FILLER = _words(
    "el la los las lo le te os me les the a an these those this that estos estas esto eso "
    "esos esas y e and & con with on of de del en sobre para por mi my our nuestra nuestro "
    "parte side end tambien too also as well again nuevo hereby fully totally totalmente "
    "completamente plenamente perfectamente i we yo nosotros am are is i'm we're estoy estamos "
    "esta queda quedan can do happy glad pleased to would like ok okay vale si yes bien "
    "perfecto fine good sure claro everything for"
)
# After a head noun, these open the meeting's description ("de la reunión ...").
DESCRIBES = _words("de del from of for en in para at")
DE_ACUERDO = re.compile(r"\bde\s+acuerdo\b")
# Words around a blanket confirmation that say whose or how, not what.
ON_BEHALF = re.compile(
    r"\b(?:(?:en\s+nombre\s+de|de\s+parte\s+de|on\s+behalf\s+of)(?:\s+\w+){1,2}"
    r"|(?:por|from|on)\s+(?:mi|my|our|nuestra)\s+(?:parte|side|end|part)"
    r"|(?:leido|visto|read)\s+(?:y|and)(?=\s+(?:conforme|agreed|confirm)))\b"
)

NUMBER_WORDS = {
    "uno": 1, "una": 1, "one": 1, "dos": 2, "two": 2, "tres": 3, "three": 3, "cuatro": 4,
    "four": 4, "cinco": 5, "five": 5, "seis": 6, "six": 6, "siete": 7, "seven": 7, "ocho": 8,
    "eight": 8, "nueve": 9, "nine": 9, "diez": 10, "ten": 10,
}  # fmt: skip
ORDINALS = {
    "primero": 1, "primera": 1, "primer": 1, "first": 1, "segundo": 2, "segunda": 2,
    "second": 2, "tercero": 3, "tercera": 3, "tercer": 3, "third": 3, "cuarto": 4,
    "cuarta": 4, "fourth": 4, "quinto": 5, "quinta": 5, "fifth": 5, "sexto": 6, "sexta": 6,
    "sixth": 6,
}  # fmt: skip
_NUM = "|".join(NUMBER_WORDS)
_ORD = "|".join(ORDINALS)
# "el primero", "the second item", "el tercer punto"; not "the first Tuesday of the
# month", "el primero de diciembre", "the last week".
ORDINAL_REF = re.compile(
    rf"\b(?:el|la|the)\s+({_ORD}|ultimo|ultima|last)\b(?:\s+(?:punto|item|one))?"
    r"(?!\s+(?:de|del|of|week|weeks|weekend|day|days|time|times|month|year|quarter|half|dia|"
    r"semana|fin|vez|mes|ano|trimestre|lunes|martes|miercoles|jueves|viernes|sabado|domingo|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b)"
)
# "los dos primeros", "the first two", "the last two".
FIRST_N = re.compile(
    rf"\b(?:los|las|the)\s+(?:({_NUM}|\d)\s+(primeros|primeras|ultimos|ultimas)"
    rf"|(first|last)\s+({_NUM}|\d))\b"
)
# "los otros dos", "the other two", "el resto", "the rest", "los demás".
REST = re.compile(
    rf"\b(?:(?:los|las|the)\s+(?:otros|otras|other|others)(?:\s+({_NUM}|\d))?"
    r"|(?:todo\s+)?d?el\s+resto|the\s+rest|(?:todo\s+)?lo\s+demas|los\s+demas|las\s+demas"
    r"|los\s+restantes|las\s+restantes|everything\s+else|the\s+remaining(?:\s+ones)?)\b"
)
# "ambos", "both", "los tres", "los 3 puntos": a count, which must be the request's size.
# After "all"/"todos los" a number is always a count ("Confirm all 6 👍"), never item 6;
# after "los"/"the" only before a count noun or the end ("a las 7", "las 10:30" are times).
COUNT = re.compile(
    rf"\b(?:(ambos|ambas|both)"
    rf"|(?:all|all\s+the|all\s+of\s+the|todos\s+los|todas\s+las)\s+({_NUM}|\d+)\b(?![/:.,-]\d)"
    rf"|(?<!\ba\s)(?<!\bde\s)(?:los|las|the)\s+({_NUM}|\d+)(?=\s+(?:puntos|items|acuerdos|points|tareas|tasks|"
    rf"decisiones|decisions|agreements|cosas|things)\b|\s*$|\s*[,.;:](?!\d)))"
)
# "todo salvo el 2", "all except 3", "everything but #2", "todos menos el 2".
EXCEPT = re.compile(r"\b(?:salvo|excepto|menos|except|excepting|but|aside\s+from|apart\s+from)\b")
# Item words after "punto"/"item": "punto dos", "items one and three".
WORD_REF = re.compile(
    rf"\b(?:punto|puntos|item|items|numero|number)\s+((?:{_NUM})(?:\s*(?:,|y|e|and|&)\s*(?:{_NUM}))*)\b"
)
RANGE = re.compile(
    r"\b(?:del\s+|from\s+|de\s+)?(\d{1,3})\s*(?:-|al|a|to|through|hasta\s+el)\s*(\d{1,3})\b"
)
# A subject reference: "lo del plan de pruebas", "lo de la migración", "re the budget",
# "as for the test plan" (read after "the rest", "the first two"... have been taken).
SUBJECT_REF = re.compile(r"\blo\s+(?:de\s+la|de\s+las|de\s+los|del|de)\s+")
# "todo lo del acta", "todo lo de la reunión": everything, not one item named by subject.
WHOLE_SUBJECT = re.compile(
    r"\btodo\s+(lo\s+(?:de\s+la|del|de)\s+(?:acta|actas|minuta|minutas|reunion))\b"
)
SUBJECT_REF_EN = re.compile(
    r"\b(?:re|regarding|as\s+for|as\s+regards|about|concerning)\s+(?:the|your|our|my)\s+"
)
SUBJECT_STOP = _words(
    "no si ok vale y e que lo la los las se me te le es esta son estan tiene tienen hay pero "
    "confirmo confirmado conforme tambien tampoco "
    "is are was were it it's it'll i i'm i'll we we're we'll will would has have had ok yes "
    "not confirmed agreed and but that this which who"
)
STOPWORDS = _words(
    "el la los las lo de del y e en a al con por para un una unos unas the of and to in on "
    "for a an se que"
)

# -- numbers that are not items ---------------------------------------------------

# "los 3 puntos", "the 3 items": a count, not item 3.
COUNT_NOUNS = _words(
    "puntos items acuerdos points tareas tasks decisiones decisions agreements cosas things"
)

MONTHS = _words(
    "enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre "
    "diciembre ene feb mar abr may jun jul ago sep sept oct nov dic january february march april "
    "june july august september october november december jan apr aug dec"
)
WEEKDAYS = _words(
    "lunes martes miercoles jueves viernes sabado domingo monday tuesday wednesday thursday "
    "friday saturday sunday mon tue tues wed thu thur thurs fri sat sun"
)
# Words a note may start with a capital without naming anyone ("Re 3: The budget ...").
COMMON = STOPWORDS | FILLER | MONTHS | WEEKDAYS | SUBJECTS | TOPIC_WORDS | TOPIC_MARKERS
UNITS = _words(
    "dia dias semana semanas mes meses ano anos hora horas h hrs hr min mins minuto minutos "
    "segundos persona personas gente euros euro eur € $ usd dolares % k m km kg pm am days day "
    "week weeks month months year years hour hours minutes people persons dollars percent "
    "veces times pages paginas copias copies unidades units licencias licenses"
)
# One word before a number that makes it a date, a phase, a room... not an item.
NOT_ITEM_BEFORE = _words(
    "dia day fase phase sprint version v q planta floor sala room semana week pagina page ref "
    "ano year fecha date hora horas las at tel ext release vol capitulo chapter "
    "seccion section anexo annex ticket tickets incidencia caso case pedido order factura "
    "invoice expediente bug pr"
)
# Two words before: "para el 3", "hasta el 15", "by the 3", "on the 7".
NOT_ITEM_BEFORE_TWO = re.compile(
    r"\b(?:para\s+el|hasta\s+el|antes\s+del|despues\s+del|a\s+partir\s+del|desde\s+el|"
    r"el\s+dia|por\s+el|on\s+the|by\s+the|until\s+the|before\s+the|after\s+the|from\s+the|"
    r"since\s+the|as\s+of\s+the|for\s+the)\s*$"
)
# A note above answers typed between the quoted items ("te contesto entre líneas").
ANNOUNCE = re.compile(
    r"\b(?:entre\s+lineas|en\s+linea|intercalad\w*|inline|in[- ]line|en\s+(?:rojo|azul|negrita)"
    r"|in\s+(?:red|blue|bold)|(?:answers|comments|replies|respuestas|comentarios)\s+"
    r"(?:below|abajo|debajo))\b"
)
# Inline answers marked with the writer's initials ("[JP] CONFIRMADO").
INLINE_TAG = re.compile(r"(?m)^[ \t]*\[[A-Za-z]{1,4}\][ \t]*")
# Our own subject reference, repeated in a reply ("Ref. MT-7K3Q").
TRACKER_REF = re.compile(r"\[?\b(?:ref\.?\s*)?mt-[0-9a-z]{3,}\]?")
URL_OR_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|\S+@\S+")
POSTSCRIPT = re.compile(r"\b(?:pd|ps|p\.d|p\.s)\s*[:.]")
# An item as listed in the request we sent: "  1. [Acción] Reiniciar el servidor ...".
QUOTED_ITEM = re.compile(r"^[ \t>]*(\d{1,2})[.)][ \t]+(\S.*)$")
# -- normalizing --------------------------------------------------------------------

# Cyrillic and Greek letters drawn like Latin ones are read as those: "sіеmpre" with a
# Cyrillic "і" and "е" looks like "siempre" to its reader, so it must keep its condition
# (the fuzzer found a conditional confirmation that confirmed because its condition hid).
_LOOKALIKES = ("аеорсухіјѕһԁԛԝӏοιρνıꜱʂ", "aeopcyxijshdqwloipviss")
_FOLDED = str.maketrans(
    "áéíóúüñàèìòùâêîôûçäëïö’‘´`“”«»—–−\u00a0\t？؟" + _LOOKALIKES[0],
    "aeiouunaeiouaeioucaeio''''\"\"\"\"---  ??" + _LOOKALIKES[1],
)


def _compatible(char: str) -> str:
    """A full-width or mathematical letter as the plain one it is drawn as ("ｎｏ", "𝗂𝖿")."""
    plain = unicodedata.normalize("NFKC", char)
    return plain if len(plain) == 1 else char


def normalize(text: str) -> str:
    """Lower case, no accents, one kind of apostrophe, quote and dash; same length as ``text``.

    The length is kept so that an offset found in the normalized text
    points at the same words in the original, whose accents a reason keeps.
    """
    if not text.isascii():
        text = "".join(c if c.isascii() else _compatible(c) for c in text)
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ" lowers to two characters
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    return lowered.translate(_FOLDED)


def typo_of(word: str) -> str | None:
    """The verb form ``word`` misspells by one letter ("comfirmo", "confrimo", "confimred")."""
    if len(word) < 7 or not word.startswith("co") or word in MENTION_FORMS:
        return None
    return next((t for t in TYPO_TARGETS if _one_edit(word, t)), None)


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one substitution, insertion, deletion or swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        i, j = diff[0], diff[-1]
        return len(diff) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1 :]


def number_kind(text: str, start: int, end: int, *, before: bool = True, after: bool = True) -> str:
    """What the number at ``text[start:end]`` is: "item", "count" ("3 puntos") or "other".

    "other" covers dates, times, amounts, versions and references: "26/11",
    "10:30", "1.000", "the 7th", "3 días", "para el 3", "sábado 28", "fase 2",
    "Dec 3", "2026". Anything else may be an item, and an item number that
    does not exist in the request makes the reply unclear (the safe side).
    """
    prev = text[start - 1] if start else " "
    if before and (
        prev in "/:"
        or prev.isalpha()
        or (prev in ".-," and start > 1 and text[start - 2].isdigit() and end - start == 3)
        or (prev in ".-" and start > 1 and text[start - 2].isdigit())
    ):
        return "other"
    tail = text[end:]
    if after and re.match(r"[/:]|[.-]\d|,\d{3}(?!\d)", tail):
        return "other"  # "26/11", "10:30", "1.000", "28-11-2026", "1,000"
    suffix = re.match(r"[a-z]+", tail)
    if after and suffix and suffix.group() not in ("o", "a", "er"):
        return "other"  # "7th", "3pm", "10h", "7k3q"
    follow = re.match(r"[ºª]?\s*([a-z]+|[€$%])(?:\s+(?:de\s+)?([a-z]+))?", tail)
    if after and follow:
        word, then = follow[1], follow[2] or ""
        if word in UNITS or word in MONTHS or (word == "de" and then in MONTHS):
            return "other"
        if word in COUNT_NOUNS:
            return "count"
    words = re.findall(r"[a-z]+", text[max(0, start - 30) : start])
    if before and words and words[-1] in MONTHS | WEEKDAYS | NOT_ITEM_BEFORE:
        return "other"
    if before and NOT_ITEM_BEFORE_TWO.search(text[max(0, start - 30) : start]):
        return "other"
    value = int(text[start:end])
    if 1900 <= value <= 2100 or (text[start] == "0" and end - start > 1):
        return "other"
    return "item"


# -- the items a piece of a reply names ----------------------------------------------


@dataclass
class Refs:
    """The items a piece of a reply names; ``text`` is the piece with them blanked out.

    ``excluded`` are the items after "salvo"/"except"; ``rest`` is "los
    otros (dos)"; ``count`` a size the reply gives ("ambos", "all five
    items"); ``bad`` a number that is no item of the request; ``unknown`` a
    "lo del ..." that names no single item.
    """

    text: str
    items: list[int] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)
    rest: bool = False
    rest_count: int | None = None
    count: int | None = None
    bad: bool = False
    unknown: bool = False


def _value(word: str) -> int:
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word, 0)


def find_refs(head: str, n: int, quoted: Mapping[int, frozenset[str]]) -> Refs:
    """The item references in ``head`` (normalized text), in the order they are written."""
    refs = Refs(head)
    found: list[tuple[int, list[int]]] = []

    def take(start: int, end: int, numbers: list[int] | None) -> None:
        refs.text = refs.text[:start] + " " * (end - start) + refs.text[end:]
        if numbers is not None:
            found.append((start, numbers))
            refs.spans.append((start, end))

    def subject(match: re.Match[str], *, wordless: bool = True) -> None:
        """An item named by its words, looked up in the quoted request; unknown if not one.

        ``wordless``: whether a reference with no word to look up ("lo de
        ayer") still counts as one; "re the 2nd" is a date, not a subject.
        """
        words: list[str] = []
        stop = match.end()
        for token in TOKEN.finditer(refs.text, match.end()):
            word = token.group()
            if word in SUBJECT_STOP or word in NEGATORS or word in CONFIRM_FORMS or len(words) > 5:
                break
            words.append(word)
            stop = token.end()
        key = [w for w in words if w not in STOPWORDS and (len(w) >= 4 or w.isdigit())]
        if not key and not wordless:
            return
        hits = [k for k, known in quoted.items() if key and all(w in known for w in key)]
        refs.unknown = refs.unknown or len(hits) != 1
        take(match.start(), stop, hits[:1] if len(hits) == 1 else [])

    for match in WHOLE_SUBJECT.finditer(refs.text):
        take(match.start(1), match.end(1), None)
    for match in SUBJECT_REF.finditer(refs.text):
        subject(match)
    for match in FIRST_N.finditer(refs.text):
        size = _value(match[1] or match[4])
        last = (match[2] or match[3]).startswith(("ult", "last"))
        refs.bad = refs.bad or not 1 <= size <= n
        take(
            match.start(),
            match.end(),
            list(range(n - size + 1, n + 1) if last else range(1, size + 1)),
        )
    for match in REST.finditer(refs.text):
        refs.rest, refs.rest_count = True, _value(match[1]) if match[1] else None
        take(match.start(), match.end(), [])
    for match in ORDINAL_REF.finditer(refs.text):
        number = n if match[1] in ("ultimo", "ultima", "last") else ORDINALS[match[1]]
        take(match.start(), match.end(), [number])
    for match in COUNT.finditer(refs.text):
        refs.count = 2 if match[1] else _value(match[2] or match[3])
        take(match.start(), match.end(), None)
    for match in SUBJECT_REF_EN.finditer(refs.text):
        subject(match, wordless=False)
    for match in WORD_REF.finditer(refs.text):
        numbers = [_value(w) for w in re.findall(r"[a-z]+", match[1]) if w in NUMBER_WORDS]
        take(match.start(), match.end(), numbers)
    for match in RANGE.finditer(refs.text):
        first, last = int(match[1]), int(match[2])
        before = number_kind(refs.text, match.start(1), match.end(1), after=False)
        after = number_kind(refs.text, match.start(2), match.end(2), before=False)
        if before == after == "item" and first < last:  # not "del 1 al 3 de diciembre"
            take(match.start(), match.end(), list(range(first, last + 1)))
    for match in re.finditer(r"#?(\d+)", refs.text):
        kind = number_kind(refs.text, match.start(1), match.end(1))
        if kind == "count":
            refs.count = int(match[1])
            take(match.start(), match.end(), None)
        elif kind == "item":
            take(match.start(), match.end(), [int(match[1])])
        # Other numbers stay in the text: a blanket answer whose object holds a date or an
        # amount is not understood (intent._understood), unless it describes the meeting.
    found.sort()
    cut = _exception(refs, [start for start, _ in found])
    for start, numbers in found:
        (refs.excluded if cut is not None and start > cut else refs.items).extend(numbers)
    refs.bad = refs.bad or any(not 1 <= k <= n for k in refs.items + refs.excluded)
    return refs


def _exception(refs: Refs, starts: list[int]) -> int | None:
    """Where "salvo"/"except" opens a list of excluded items, blanking the word; else None."""
    for match in EXCEPT.finditer(refs.text):
        between = next((refs.text[match.end() : s] for s in starts if s >= match.end()), None)
        if between is not None and set(between.split()) <= TERSE_FILLER | {"#"}:
            refs.text = refs.text[: match.start()] + " " * len(match[0]) + refs.text[match.end() :]
            return match.start()
    return None
