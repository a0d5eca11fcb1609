"""Who a name in minutes refers to: the participants of the mail, and their names.

Minutes name people the way colleagues do: "Juan", "Pérez", "Sr. Gómez",
"JP", "Juanma", "@jperez", "jperez", "K. Singh", "Mrs Dunmore". The
participants (From, To, Cc; never the tracker) are known from the headers,
so a name is resolved by looking it up among *their* names rather than by
asking a model who is a person: that is both faster and right more often
(an NER trained on news tags "Se aprobó la propuesta" as an entity).

Every form is folded (lowercase, no accents). A form that fits two
participants is ambiguous and resolves to nobody: a wrong owner would ask the
wrong person to confirm.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from mailtrack.nlp.dates import fold
from mailtrack.nlp.roles import declared, role_of, roles_of_address

_TITLES = re.compile(
    r"^(?:sr|sra|srta|senor|senora|senorita|don|dona|d|dna|dr|dra|doctor|doctora|ing|lic|"
    r"mr|mrs|ms|miss|mx|prof|sir|madam|"
    # titles of office or calling written before a name: "Trustee Haldane", "Pastor Jim",
    # "Coach Dillard", "Enf. Marín", "Farm. Iturralde", "Cllr Evans"
    r"pastor|father|fr|sister|brother|rev|reverend|elder|deacon|padre|hermano|hermana|"
    r"coach|trustee|superintendent|supt|councillor|councilor|cllr|alderman|alderwoman|"
    r"commissioner|officer|sergeant|sgt|captain|capt|judge|nurse|enf|farm|arq|abg|mtro|mtra|"
    r"profe|concejal|concejala)\.?\s+",
)
_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = str.maketrans({"ø": "o", "ł": "l", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i"})


# Titles of a calling in a display name, and how minutes then name their holder.
_CALLINGS = {
    "dr": ("doctor", "doctora"),
    "dra": ("doctora", "doctor"),
    "ing": ("ingeniero", "ingeniera"),
    "arq": ("arquitecto", "arquitecta"),
    "lic": ("licenciado", "licenciada"),
}
_CALLING = re.compile(r"^(dr|dra|ing|arq|lic)\.?\s+\w")


def name_fold(text: str) -> str:
    """``text`` folded for names: lowercase, no accents of any language ("Berić" is "beric",
    "Zoë" is "zoe", "Ødegaard" is "odegaard"), as people type them and addresses spell them."""
    folded = fold(text)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded.translate(_LETTERS))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


# Short forms that are not a prefix of the full name (facts about names, ES and EN).
_NICKNAME_TABLE = (
    "pepe=jose paco=francisco pancho=francisco curro=francisco nacho=ignacio lola=dolores "
    "loli=dolores concha=concepcion conchi=concepcion chema=jose_maria quique=enrique "
    "kike=enrique toni=antonio tono=antonio manolo=manuel pili=pilar charo=rosario "
    "maite=maria_teresa merche=mercedes chus=jesus chelo=consuelo lupe=guadalupe "
    "memo=guillermo lucho=luis beto=roberto|alberto checo=sergio chucho=jesus "
    "nando=fernando rafa=rafael santi=santiago fran=francisco juanjo=juan_jose "
    "juanma=juan_manuel joseba=jose josema=jose_manuel mariajo=maria_jose "
    "marisa=maria_luisa maribel=maria_isabel marijose=maria_jose bob=robert rob=robert "
    "robbie=robert bill=william will=william liz=elizabeth beth=elizabeth betty=elizabeth "
    "kate=katherine|catherine|kathleen katie=katherine|catherine cathy=catherine "
    "kathy=katherine mike=michael jim=james jimmy=james dick=richard rick=richard "
    "tom=thomas tony=anthony dave=david steve=steven|stephen joe=joseph jen=jennifer "
    "jenny=jennifer pat=patrick|patricia andy=andrew greg=gregory jon=jonathan ted=edward "
    "ed=edward peggy=margaret meg=margaret maggie=margaret sue=susan vicky=victoria "
    "becky=rebecca jess=jessica nate=nathan|nathaniel zach=zachary josh=joshua "
    "chuck=charles charlie=charles harry=henry|harold hank=henry larry=lawrence "
    "jerry=gerald sandy=sandra debbie=deborah abby=abigail ally=allison "
    "sam=samuel|samantha alex=alexander|alexandra|alejandro|alejandra"
)
NICKNAMES: Mapping[str, tuple[str, ...]] = {
    short: tuple(name.replace("_", " ") for name in full.split("|"))
    for short, _, full in (entry.partition("=") for entry in _NICKNAME_TABLE.split())
}


@dataclass(frozen=True)
class Participant:
    """A person on the mail: lowercased address and the display name the headers gave."""

    email: str
    name: str = ""


@dataclass
class PeopleIndex:
    """Every form that names a participant, folded, to the participants it may mean."""

    participants: tuple[Participant, ...]
    sender: str | None
    forms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    firsts: dict[str, str] = field(default_factory=dict)  # email -> folded first name
    roles: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # role -> emails
    # Initials as capitals: "VA", "EL", "NA" name Vivek Agarwal, Ernesto Lara, Nadia
    # Arango only written in capitals; "va", "El", "na" are words.
    initials: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # Offices several people share, by the name the minutes give them: "Chairs: Maren
    # Holt, Ade Ogunleye" makes "Chairs will issue..." both of them.
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The offices the mail declared, as keys, longest first: "coordinador academico".
    offices: list[str] = field(default_factory=list)

    @classmethod
    def build(
        cls,
        participants: Iterable[Participant],
        sender: str | None,
        aliases: Mapping[str, str] | None = None,
    ) -> PeopleIndex:
        """Index the participants' names; ``aliases`` maps extra names to addresses."""
        people = tuple(participants)
        index = cls(people, sender)
        for person in people:
            index._add_person(person)
        for alias, email in (aliases or {}).items():
            if any(person.email == email.lower() for person in people):
                index.forms[_key(alias)].add(email.lower())
        return index

    def _add(self, form: str, email: str) -> None:
        if form and (len(form) >= 2 or form.isupper()):
            self.forms[form].add(email)

    def _add_person(self, person: Participant) -> None:
        email = person.email
        for role in roles_of_address(email, person.name):
            self.add_alias(role, email)
        local = email.partition("@")[0]
        self._add(local, email)
        pieces = [piece for piece in re.split(r"[._\-+]", local) if piece]
        for piece in pieces:
            if len(piece) >= 3 and not piece.isdigit():
                self._add(piece, email)
        for nickname in _NICKNAME_IN_DISPLAY.findall(person.name):
            # "Mª Luisa (Marisa) Gracia": the name the minutes will use.
            if fold(nickname) not in _DEPARTMENTS and role_of(nickname) is None:
                self._add(name_fold(nickname), email)
        title = _CALLING.match(name_fold(_clean_display(person.name)))
        if title:
            # "Dr. Mario Barrios": minutes write "el doctor va a armar el protocolo".
            for word in _CALLINGS[title.group(1)]:
                self._add(word, email)
        words = _WORD.findall(_TITLES.sub("", name_fold(_clean_display(person.name))))
        words = [word for word in words if not word.isdigit()]
        if not words and len(pieces) >= 2:
            words = [piece for piece in pieces if piece.isalpha()]
        if not words:
            return
        self.firsts[email] = words[0]
        self._add(words[0], email)  # "Li", "Jo": a first name of two letters still names
        self._add(" ".join(words), email)
        for word in words:
            if len(word) >= 3:
                self._add(word, email)
        first, rest = words[0], words[1:]
        if rest:
            last = rest[-1]
            self._add(f"{first} {last}", email)
            self._add(f"{first[0]} {last}", email)  # "K. Singh", "J Tremblay"
            self._add(f"{first[0]}{last}", email)  # "ksingh"
            for surname in rest:
                self._add(f"{first[0]} {surname}", email)
            if len(rest) >= 2:
                self._add(" ".join(rest), email)  # both Spanish surnames
            # A compound first-name nickname: "Juanma" for Juan Manuel.
            self._add(first + rest[0][:2], email)
            # Handles people make of their names: "jaepark", "amirah", "jvdberg" (Jan van
            # den Berg), "mlopez"; only long enough ones, a short one would match anything.
            for handle in (
                first + last,
                first + last[0],
                "".join(word[0] for word in words[:-1]) + last,
            ):
                if len(handle) >= 5:
                    self._add(handle, email)
        initials = "".join(word[0] for word in words)
        # "JP" for Juan Pérez García too
        for short in (initials, words[0][0] + words[-2][0] if len(words) >= 3 else ""):
            if len(short) >= 2:
                self.initials[short].add(email)
                if short not in _WORD_INITIALS:
                    self._add(short, email)

    def add_alias(self, alias: str, email: str) -> None:
        """Another name for a participant, found in the mail (a role in an attendance list)."""
        # An office keeps its first word even when it is also a title: "Superintendent of
        # Schools", "Concejala de Festejos".
        key = _key(alias, titles=False)
        if key and len(key) >= 3:
            self.forms[key].add(email)
            if key not in self.offices:
                self.offices.append(key)
                self.offices.sort(key=len, reverse=True)
            # "residente de obra", "supervisión externa": minutes say "el residente",
            # "Supervisión". Shared by several people ("Constructora Mitla"), it names nobody.
            head = key.split()[0]
            if head != key and len(head) >= 5 and head.isalpha():
                self.forms[head].add(email)
        # "Secretario-Administrador" holds both roles; "secretaria del consejo" is a secretary.
        for part in re.split(r"\s*(?:-|/|\by\b|\band\b)\s*", key):
            words = part.split()
            # "Town Clerk", "Strata Manager": an English office's head word comes last.
            role = (
                (role_of(part) or (role_of(words[-1]) if len(words) == 2 else None))
                if part
                else None
            )
            if role:
                self.roles[role].add(email)

    def resolve(self, mention: str, short_prefix: bool = False, initials: bool = True) -> set[str]:
        """Addresses ``mention`` may mean (empty when unknown); several mean ambiguous.

        With ``initials``, a mention in capitals ("VA", "EL") may be someone's initials
        even when they spell a word."""
        if initials:
            found = self.by_initials(mention)
            if found:
                return found
        if self.offices:
            office = _key(mention, titles=False)
            if office in self.offices:
                return set(self.forms[office])
        key = _key(mention)
        if not key:
            return set()
        if key.startswith("@"):
            key = key[1:]
        if key in self.forms:
            return set(self.forms[key])
        if "-" in key and "@" not in key:  # "Ruth-Ann": "ruth ann" or "ruthann"
            for joined in (key.replace("-", " "), key.replace("-", "")):
                found = self.resolve(joined, short_prefix)
                if found:
                    return found
        if re.fullmatch(r"[a-z]+(?:[_-][a-z0-9]+)+", key):
            # Handles: "amira_h" is "amirah", "jiawu-dev" is "jiawu".
            pieces = re.split(r"[_-]", key)
            for joined in ("".join(pieces), pieces[0]):
                if len(joined) >= 4 and joined in self.forms:
                    return set(self.forms[joined])
        if "@" in key:
            return {key} if any(p.email == key for p in self.participants) else set()
        words = key.split()
        # "Sr. Gómez", "Mrs Dunmore": a surname after a title.
        if len(words) == 1 and (len(key) >= 3 or short_prefix):
            found = self._by_prefix(key, 2 if short_prefix else 4)
            if found:
                return found
        if len(words) == 2 and words[0] in self.forms and words[1] in self.forms:
            both = self.forms[words[0]] & self.forms[words[1]]
            if both:
                return set(both)
        if len(words) == 2 and len(words[1]) == 1 and words[0] in self.forms:
            # "Ravi K" and "Ravi S": a first name two people share, told apart by an initial.
            told = {
                person.email
                for person in self.participants
                if (name := _key(person.name).split())
                and name[0] == words[0]
                and any(part.startswith(words[1]) for part in name[1:])
            }
            if len(told) == 1:
                return told
        if len(words) == 2 and len(words[0]) <= 3 and len(self.forms.get(words[1], ())) == 1:
            # A title the index does not know before a surname: "EU Figueroa", "Abg. Ríos".
            return set(self.forms[words[1]])
        role = role_of(key)
        if role:
            # "Jefe Liliana Ortiz" is Liliana; "la presidenta", "el coordinador académico"
            # are whoever holds that role.
            named = self.resolve(key.split(maxsplit=1)[1]) if len(words) > 1 else set()
            return named if len(named) == 1 else set(self.roles.get(role, ()))
        return set()

    def group(self, mention: str) -> tuple[str, ...]:
        """The participants a shared office names ("Chairs", "los coordinadores"), if any."""
        return self.groups.get(_key(mention), ()) if self.groups else ()

    def office_at_start(self, text: str) -> str | None:
        """The declared office ``text`` opens with ("El coordinador académico ajustará"),
        if any: a role written with its qualifier, which a name pattern does not read."""
        if not self.offices:
            return None
        start = _ARTICLES.sub("", name_fold(text[:120]).lstrip(" -*•"))
        words = _OFFICE_WORD.findall(start)
        for office in self.offices:
            if start.startswith(office) and start[len(office) : len(office) + 1] in (" ", ","):
                return office
            # "la Concejala de Festejos" for the declared "Concejala de Festejos y Cultura"
            parts = office.split()
            if len(parts) > 3 and words[:3] == parts[:3]:
                return office
        return None

    def by_initials(self, mention: str) -> set[str]:
        """Who ``mention`` names as initials written in capitals ("NA", "KTS")."""
        bare = mention.strip(" .,:;()[]*_\"'")
        if 2 <= len(bare) <= 4 and bare.isalpha() and bare.isupper():
            return set(self.initials.get(fold(bare), ()))
        return set()

    def resolve_full_name(self, name: str) -> set[str]:
        """A name as an attendance list writes it, perhaps longer than the display name:
        "D. Daniel Pascual Llorente" for "Daniel Pascual" (the second surname dropped)."""
        words = name.split()
        found = self.resolve(name)
        if len(found) != 1 and len(words) > 2 and words[0].endswith("."):
            # A title the index does not know: "Rtn. Ajay Gokhale", "Hon. Mary Ellis".
            words = words[1:]
            found = self.resolve(" ".join(words))
        while len(found) != 1 and len(words) > 2:
            words = words[:-1]
            found = self.resolve(" ".join(words))
        return found

    def _by_prefix(self, key: str, shortest: int = 4) -> set[str]:
        """Nicknames: "Benja" for Benjamín, "Sofi" for Sofía, and the known short forms."""
        found: set[str] = set()
        for full in NICKNAMES.get(key, ()):
            found |= self.forms.get(full, set())
            found |= {email for email, first in self.firsts.items() if first == full.split()[0]}
        if found:
            return found
        if len(key) >= shortest or (len(key) == 3 and key.isalpha() and key not in _SHORT_WORDS):
            # "Eze" for Ezequiel, "Pao" for Paola: three letters only when one name starts so.
            found = {email for email, first in self.firsts.items() if first.startswith(key)}
            if len(key) < shortest and len(found) > 1:
                found = set()
        diminutive = _DIMINUTIVE.fullmatch(key)
        if not found and diminutive:
            # "Tomi" for Tomás, "Juanchi" for Juan, "Benjy" for Benjamin: only when the stem
            # names one participant.
            stem = diminutive.group("stem")
            found = {email for email, first in self.firsts.items() if first.startswith(stem)}
            if len(found) > 1:
                found = set()
        return found

    @property
    def everyone(self) -> list[str]:
        return [person.email for person in self.participants]


# Initials that are words: Ernesto Lara's "EL" would make every "El residente" him, and
# Laura Aguirre's "LA" every "La tesorera" her. Such initials name nobody.
_WORD_INITIALS = frozenset(
    "el la lo le al de del en es se si no un una mi tu su yo me te ya va ha he os"
    " the an at as be by do go if in is it my of on or so to up us we am pm"
    " and are for not but all any can our out who its".split()
)


_OFFICE_WORD = re.compile(r"[\w.'-]+")
_DIMINUTIVE = re.compile(r"(?P<stem>[a-z]{3,6}?)(?:ito|ita|chi|cho|ie|i|y)")


# Three-letter words that start names ("con" Consuelo, "the" Theo, "mar" Marta): never
# taken for a short form.
_SHORT_WORDS = frozenset(
    "con los las les del por que una uno mas sin sus nos era ese esa eso asi muy mal par"
    " mar sol luz pan vez mes dia ano hoy ayer van dan dar hay son fue ver tal cal"
    " the and for but not all any can has had was are you our its who why how now new"
    " old one two due per via etc see may let get set put run ask add end top".split()
)
_NICKNAME_IN_DISPLAY = re.compile(r"\((?P<nick>[A-ZÁÉÍÓÚÑ][a-záéíóúñ]{2,15})\)")
# What a display name puts in brackets that is not what people call its owner.
_DEPARTMENTS = frozenset(
    "legal finance finanzas ventas sales marketing compras purchasing support soporte admin"
    " externo externa external consultor consultora contractor proveedor vendor client"
    " cliente guest invitado invitada personal private work trabajo casa home office oficina"
    " operaciones operations calidad quality seguridad security sistemas systems".split()
)


def _clean_display(name: str) -> str:
    """A display name without what is not a name: "(Legal)", "[EXT]", quotes, ", Inc".

    A display name that holds an address ("Ana <ana@x.test>, Luis Gil", which
    a sender's broken header folding or a forger makes) names nobody: the
    names in it may belong to other people, so only the address is read.
    """
    if "@" in name or "<" in name:
        return ""
    name = _INNER_APOSTROPHE.sub("", name)  # "O'Neill" is "oneill", as in f.oneill@
    name = re.sub(r"\([^)]*\)|\[[^\]]*\]|\"|'", " ", name)
    if "," in name:  # "Pérez, Juan" -> "Juan Pérez"
        last, _, first = name.partition(",")
        if first.strip() and len(first.split()) <= 3:
            name = f"{first} {last}"
    return name


_ARTICLES = re.compile(r"^(?:el|la|los|las|the|our|nuestr[oa])\s+")


_INNER_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w{2})")


def _key(text: str, titles: bool = True) -> str:
    """``text`` as the index keys it: folded, without articles and (with ``titles``) a title."""
    folded = _INNER_APOSTROPHE.sub("", name_fold(text).strip().strip(".,:;()[]*_\"'"))
    folded = _ARTICLES.sub("", folded)
    if titles:
        folded = _TITLES.sub("", folded)
    folded = re.sub(r"(?<=\b[a-z])\.\s*", " ", folded)  # "K. Singh" -> "k singh"
    return " ".join(folded.replace("-", " ").split()) if " " in folded or "." in folded else folded


# Words of bounded length, each starting after a non-word: a 16 KB run of base64 with no
# "(" in it would otherwise be tried from every capital letter to its end (seconds).
_ROLE_NOTE = re.compile(
    r"(?<![\w'’.-])(?P<name>[A-ZÁÉÍÓÚÑ][\w'’.-]{1,30}(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]{1,30}){0,3})"
    r"\s*\((?P<role>[^()]{2,80})\)"
)


_ROLE_LINE = re.compile(
    r"^\W{0,3}(?P<role>[A-ZÁÉÍÓÚÑa-záéíóúñ][\w -]{2,30}?)\W{0,3}:\s*(?P<name>[A-ZÁÉÍÓÚÑ][\w'’.-]+"
    r"(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]+){0,3})"
    # what may follow the name: "(Grupo Municipal Independiente)", ", que da fe del acto."
    r"(?:\s*\([^()\n]{1,60}\)|,[^\n:]{1,60})?[.;]?\s*$",
    re.MULTILINE,
)
# Several fields on one line: "Presidente: D. José Luis Pastor (2.º A). Vicepresidenta: ..."
_NEXT_FIELD = re.compile(r"(?<=[.;)])\s+(?=[A-ZÁÉÍÓÚÑ][\w -]{2,30}:\s)")


# "Chairs: Maren Holt, Ade Ogunleye", "Co-chairs: A and B", "Coordinadores: X y Z".
_FULL_NAME = r"[A-ZÁÉÍÓÚÑ][\w'’.-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w'’.-]+){0,3}"
_SHARED_ROLE_LINE = re.compile(
    rf"^\W{{0,3}}(?P<role>(?:co-?)?[A-Za-záéíóúñ]{{3,20}}s)\W{{0,3}}:\s*"
    rf"(?P<names>{_FULL_NAME}(?:\s*(?:,|&|\band\b|\by\b|\be\b)\s*{_FULL_NAME})+)\s*$",
    re.MULTILINE,
)


def shared_roles(text: str, people: PeopleIndex) -> None:
    """Record in ``people`` the offices several participants hold together, named on a
    line of their own ("Chairs: Maren Holt, Ade Ogunleye"): only a known role in the
    plural, and only when every name is one participant."""
    for match in _SHARED_ROLE_LINE.finditer(text[:20_000]):
        role = fold(match.group("role"))
        singular = re.sub(r"^co-?", "", re.sub(r"(?<=[^aeiou][aeiou]r)es$|s$", "", role))
        if role_of(singular) is None:
            continue
        names = re.split(r"\s*(?:,|&|\band\b|\by\b|\be\b)\s*", match.group("names"))
        found = [people.resolve_full_name(name) for name in names if name]
        if len(found) >= 2 and all(len(emails) == 1 for emails in found):
            people.groups[_key(match.group("role"))] = tuple(next(iter(e)) for e in found)


# "Jelena Berić (JBE)", "Daniel Petrovic (DP, Hutchins Built)": initials declared in brackets.
_BRACKETED_INITIALS = re.compile(
    r"(?P<name>[A-ZÁÉÍÓÚÑ][\w'’-]+(?:\s+[A-ZÁÉÍÓÚÑ][\w'’-]+){1,3})\s*\((?P<short>[A-Z]{2,4})[),]"
)


def table_initials(text: str, people: PeopleIndex) -> None:
    """Initials an attendance table gives beside a name ("| Olu Adeyemi | OAD | Brightline |")
    or a list in brackets ("Jelena Berić (JBE)"): working-group minutes then write "OAD to
    send the venue details"."""
    for match in _BRACKETED_INITIALS.finditer(text[:20_000]):
        if match.group("short")[0] != name_fold(match.group("name"))[:1].upper():
            continue  # "Juan Pérez (PSOE)": a party, not his initials
        emails = people.resolve_full_name(match.group("name"))
        if len(emails) == 1:
            people.add_alias(match.group("short"), next(iter(emails)))
    for line in text[:20_000].splitlines():
        if line.count("|") < 2:
            continue
        cells = [cell.strip(" *_") for cell in line.strip().strip("|").split("|")]
        for name, short in pairwise(cells):
            if 2 <= len(short) <= 4 and short.isalpha() and short.isupper() and " " in name:
                emails = people.resolve_full_name(name)
                if len(emails) == 1:
                    people.add_alias(short, next(iter(emails)))


def roles_in(text: str, people: PeopleIndex) -> dict[str, str]:
    """Roles named beside people: "Raquel Ibáñez (técnica, secretaria del consejo)",
    on a line of their own: "Administradora: Carmen López", "Chair: Ines Albrecht",
    or in a sentence (:func:`mailtrack.nlp.roles.declared`): "La tesorera, D.ª Pilar Aznar".

    Minutes then say "la secretaría del consejo pedirá...": the attendance list
    is how a reader knows who that is.
    """
    found: dict[str, str] = {}
    for role, name in declared(text):
        emails = people.resolve_full_name(name)
        if len(emails) == 1:
            found.setdefault(role, next(iter(emails)))
    for match in _ROLE_LINE.finditer(_NEXT_FIELD.sub("\n", text[:20_000])):
        emails = people.resolve_full_name(match.group("name"))
        role = match.group("role").strip()
        if len(emails) == 1 and len(role.split()) <= 3 and not people.resolve(role):
            found.setdefault(role, next(iter(emails)))
    for match in _ROLE_NOTE.finditer(text[:20_000]):
        emails = people.resolve_full_name(match.group("name"))
        if len(emails) != 1:
            continue
        email = next(iter(emails))
        for role in re.split(r"\s*(?:,|;|/|\by\b|\band\b)\s*", match.group("role")):
            # "with Zoë (Shreya Iyer, Zoë Laurent)" names people, not Zoë's roles.
            if 3 <= len(role) <= 40 and not re.search(r"\d", role) and not people.resolve(role):
                found.setdefault(role.strip(), email)
    return found
