"""What the author of a mail wrote now, apart from quoted mail, signatures and the rest.

Two callers read a body through :func:`trim`. The extractor wants the minutes
the organizer wrote, without the older mail quoted below, the signature or the
disclaimer; when the organizer forwards minutes with a short note ("Os
reenvío el acta"), the forwarded minutes are the content (``keep_forwarded``).
The reply parser wants the answer the person typed, inline answers between
quoted lines included, and the quoted lines kept apart so it can tell which
quoted item an answer follows.

A "confirmo" read from quoted text, a signature or a disclaimer would count a
confirmation nobody gave, the worst failure of mailtrack. So every rule leans
one way: when in doubt, text is quoted. Below an attribution ("El ...
escribió:") or a header block ("De:/Enviado:/Para:/Asunto:") that no ``>``
lines follow, everything is quoted, because Outlook, Samsung, Zimbra, Yahoo
and Windows Mail quote without a prefix. Signatures are taken only when their
shape is clear (after ``--``, after a closing such as "Saludos," or as a name
over a title or phone line), so an item line at the end of minutes is never
taken for one.

The input is plain text: :mod:`mailtrack.mail.html` has already turned
``<blockquote>``, Gmail's and Outlook's quote containers into ``> `` lines.
The vocabulary lives in :mod:`mailtrack.mail.quote_patterns`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mailtrack.mail import quote_patterns as pat

Kind = Literal["own", "quote", "header", "signature", "disclaimer", "footer"]
_Part = tuple[Kind, str]

MAX_FORWARD_DEPTH = 6  # forwards of forwards deeper than this stay quoted
SHORT_NOTE_CHARS = 400  # a note above a forward longer than this is new content
SHORT_NOTE_LINES = 5
MAX_LINE_FOR_MARKER = 1000  # longer lines are prose, never a quote header
MAX_SIGNATURE_LINES = 12  # below a "--"; after a closing, 8


@dataclass(frozen=True)
class Segment:
    """A run of body lines that are all one kind of thing, with their text as it stands."""

    kind: Kind
    text: str


@dataclass(frozen=True)
class Trimmed:
    """A body split into labelled parts.

    ``text`` is the author's own text in order (inline answers included): the
    ``own`` segments, joined by blank lines. ``segments`` cover the whole body
    in order; inside a kept forward they are given without the quote prefix.
    ``forwarded`` is True when a forwarded mail's content was kept as text.
    """

    text: str
    segments: tuple[Segment, ...]
    forwarded: bool

    @property
    def quoted(self) -> str:
        """The quoted and header lines, for callers that want the context of an answer."""
        return "\n".join(s.text for s in self.segments if s.kind in ("quote", "header"))


def trim(text: str, *, keep_forwarded: bool = False, subject: str | None = None) -> Trimmed:
    """Split a plain-text body into the author's own text and everything else.

    ``keep_forwarded`` is the extractor's mode: a forwarded mail whose note
    above the forward header is short is kept as the text (minus the header
    block), and in a body with no quote header at all a ``>`` line between
    the author's own lines is a Markdown highlight, so it is kept too.
    ``subject``, when given, tells an Outlook forward ("RV:", "FW:") from a
    reply, which the body alone cannot.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").translate(pat.INVISIBLE)
    body = _Body(["" if x.strip() == pat.TRACKER_MARK else x for x in lines.split("\n")])
    highlights = keep_forwarded and not _has_quote_header(body.lines)
    forward_header = bool(subject and pat.FORWARD_SUBJECT.match(subject))
    parts, forwarded = body.scan(keep_forwarded, forward_header, 0, highlights)
    # A blank line belongs to what stands above it, so no part is only blank.
    for index, (kind, line) in enumerate(parts):
        if not line.strip() and index and kind != parts[index - 1][0]:
            parts[index] = (parts[index - 1][0], line)
    segments: list[Segment] = []
    start = 0
    for index in range(1, len(parts) + 1):
        if index == len(parts) or parts[index][0] != parts[start][0]:
            text_of = "\n".join(line for _, line in parts[start:index])
            segments.append(Segment(parts[start][0], text_of))
            start = index
    own = [s.text.strip("\n").rstrip() for s in segments if s.kind == "own" and s.text.strip()]
    return Trimmed("\n\n".join(own).strip(), tuple(segments), forwarded)


@dataclass(frozen=True)
class _Marker:
    """A quote header: lines ``start`` to ``end`` (exclusive); ``forward`` for a forward's."""

    start: int
    end: int
    forward: bool


class _Body:
    """The lines of a body (or of a forwarded body inside it), read top to bottom."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = [line.replace("\u00a0", " ") for line in lines]
        self.quoted = [_is_quoted(line) for line in self.lines]
        self.attributions = _attributions(self.lines, self.quoted)

    def scan(
        self, keep_forwarded: bool, forward_header: bool, depth: int, highlights: bool = False
    ) -> tuple[list[_Part], bool]:
        """Label every line; ``forward_header`` says the first quote header is a forward's."""
        lines, quoted = self.lines, self.quoted
        out: list[_Part] = []
        own: list[str] = []  # the current run of own lines, labelled when it ends
        typed: list[str] = []  # every own line so far, for an inline-answer announcement
        forwarded = False
        first = keep_forwarded and depth < MAX_FORWARD_DEPTH  # may the next quote be a forward?
        i = 0
        while i < len(lines):
            if quoted[i]:
                end = _quote_end(lines, quoted, i)
                inner = [_unquote(line) for line in lines[i:end]]
                if highlights and typed and _highlight(lines, quoted, i, end):
                    own += inner
                    typed += inner
                    i = end
                    continue
                block = _Body(inner)
                head = block.first_marker()
                out += _label_own(own)
                # A forward header quoted too (Apple Mail), or a forwarded body quoted.
                keep = first and (head is not None or forward_header)
                if keep and _forwards(own, head is not None and head.forward, forward_header):
                    parts, _ = block.scan(True, head is not None, depth + 1)
                    out, forwarded = out + parts, True
                else:
                    top = head.end if head is not None else 0
                    out += [("header", line) for line in lines[i : i + top]]
                    out += [("quote", line) for line in lines[i + top : end]]
                own, i, first = [], end, False
                continue
            marker = self.marker_at(i)
            if marker is None:
                own.append(lines[i])
                typed.append(lines[i])
                i += 1
                continue
            out += _label_own(own)
            after = _next_text(lines, marker.end)
            below = after is not None and quoted[after] and not marker.forward
            if first and _forwards(own, marker.forward, forward_header):
                stop = after if below and after is not None else marker.end
                end = _quote_end(lines, quoted, stop) if below else len(lines)
                out += [("header", line) for line in lines[i:stop]]
                content = _Body([_unquote(x) if below else x for x in lines[stop:end]])
                opened = content.first_marker() is not None or content.starts_quoted()
                parts, _ = content.scan(True, opened, depth + 1)
                out, own, forwarded, i, first = out + parts, [], True, end, False
                continue
            if below or after is None:  # bottom posting: what follows the quote is own text
                stop = after if after is not None else marker.end
                out += [("header", line) for line in lines[i:stop]]
                own, i, first = [], stop, False
                continue
            out += [("header", line) for line in lines[i : marker.end]]
            announced = bool(pat.INLINE_NOTE.search("\n".join(typed)))
            return out + self.unprefixed_quote(marker.end, announced), forwarded
        return out + _label_own(own), forwarded

    def unprefixed_quote(self, start: int, announced: bool) -> list[_Part]:
        """Everything below a header that no ``>`` marks, with announced inline answers kept.

        Outlook users who answer "entre líneas" inside such a quote mark their
        lines with their initials ("[JP] CONFIRMADO"). Those lines are own
        text only when the text above the quote announced them, only in the
        first quoted message and only with one and the same tag.
        """
        out: list[_Part] = []
        tag: str | None = None
        in_first = True
        i = start
        while i < len(self.lines):
            marker = self.marker_at(i)
            if marker is not None:
                out += [("header", line) for line in self.lines[i : marker.end]]
                in_first, i = False, marker.end
                continue
            found = pat.INLINE_TAG.match(self.lines[i]) if announced and in_first else None
            if found and tag in (None, found["tag"]):
                tag = found["tag"]
                out.append(("own", self.lines[i]))
            else:
                out.append(("quote", self.lines[i]))
            i += 1
        return out

    def first_marker(self) -> _Marker | None:
        """The quote header on the first non-blank line, if there is one."""
        first = _next_text(self.lines, 0)
        return None if first is None else self.marker_at(first)

    def starts_quoted(self) -> bool:
        first = _next_text(self.lines, 0)
        return first is not None and self.quoted[first]

    def marker_at(self, i: int) -> _Marker | None:
        """The quote header starting at line ``i``, if one does."""
        line = self.lines[i].strip()
        if self.quoted[i] or not line or len(line) > MAX_LINE_FOR_MARKER:
            return None
        if i in self.attributions:
            return _Marker(i, self.attributions[i], forward=False)
        if pat.FORWARD_SEPARATOR.match(line) or pat.FORWARD_LINE.match(line):
            return _Marker(i, self.header_after(i + 1), forward=True)
        if pat.ORIGINAL_SEPARATOR.match(line):
            return _Marker(i, self.header_after(i + 1), forward=False)
        if pat.RULE.match(line):
            below = self.header_after(i + 1, blanks=2)
            return _Marker(i, below, forward=False) if below > i + 1 else None
        end = self.header_block(i)
        return _Marker(i, end, forward=False) if end else None

    def header_after(self, start: int, blanks: int = 1) -> int:
        """End of a header block just below a separator line, or ``start`` if there is none."""
        index = start
        while index < len(self.lines) and index - start < blanks and not self.lines[index].strip():
            index += 1
        return self.header_block(index) or start

    def header_block(self, start: int) -> int | None:
        """End of a "De:/Enviado:/Para:/Asunto:" block at ``start``, if one starts there.

        It needs a sender field and two more kinds of field, so a "Nota:"
        line or a lone "Fecha:" never starts a quote. A wrapped value line
        counts only between two field lines.
        """
        kinds: set[str] = set()
        last: int | None = None
        index = start
        while index < len(self.lines) and index - start < 14:
            line = self.lines[index]
            if self.quoted[index] or not line.strip() or len(line) > MAX_LINE_FOR_MARKER:
                break
            kind = pat.field_kind(line)
            if kind is not None:
                kinds.add(kind)
                last = index
            elif last is None or index - last > 2:
                break
            index += 1
        if last is None or "from" not in kinds or len(kinds) < 3:
            return None
        return last + 1


def _forwards(own: list[str], marked: bool, forward_header: bool) -> bool:
    """Whether the quote below ``own`` is a forwarded mail to keep as the content.

    It must be known as a forward (a forward separator, a forward subject or
    a note that says so: "Os reenvío...", "FYI") and the note above it short.
    """
    if not (marked or forward_header or pat.FORWARD_NOTE.search("\n".join(own))):
        return False
    kept = [line for kind, line in _label_own(own) if kind == "own" and line.strip()]
    return (
        len(kept) <= SHORT_NOTE_LINES
        and sum(len(line) for line in kept) <= SHORT_NOTE_CHARS
        and not any(pat.LIST_ITEM.match(line) for line in kept)
    )


def _has_quote_header(lines: list[str]) -> bool:
    """Whether any line, quoted or not, is a quote header (attribution, header block...)."""
    bare = _Body([pat.QUOTE_PREFIX.sub("", line) for line in lines])
    return bool(bare.attributions) or any(bare.marker_at(i) for i in range(len(bare.lines)))


# -- quoted lines ------------------------------------------------------------------


def _is_quoted(line: str) -> bool:
    return bool(pat.QUOTE_PREFIX.match(line) or pat.SUPERCITE_PREFIX.match(line))


def _unquote(line: str) -> str:
    """The line with one level of quoting removed."""
    found = pat.QUOTE_PREFIX.match(line) or pat.SUPERCITE_PREFIX.match(line)
    if found is None:
        return line
    deeper = found.group(1)[1:].lstrip(" \t") if found.re is pat.QUOTE_PREFIX else ""
    return deeper + line[found.end() :]


def _quote_end(lines: list[str], quoted: list[bool], start: int) -> int:
    """End of the ``>`` block at ``start``; blank lines inside it belong to it."""
    last = start
    for index in range(start, len(lines)):
        if quoted[index]:
            last = index
        elif lines[index].strip():
            break
    return last + 1


def _highlight(lines: list[str], quoted: list[bool], start: int, end: int) -> bool:
    """Whether a one-level ``>`` block has the author's own lines after it (Markdown)."""
    flat = all(x.count(">") == 1 for x in lines[start:end] if _is_quoted(x))
    return flat and any(not quoted[k] and lines[k].strip() for k in range(end, len(lines)))


def _next_text(lines: list[str], start: int) -> int | None:
    return next((i for i in range(start, len(lines)) if lines[i].strip()), None)


# -- attribution lines ---------------------------------------------------------------


def _attributions(lines: list[str], quoted: list[bool]) -> dict[int, int]:
    """Attribution lines ("El ... escribió:"), as first line -> line after the last.

    Gmail wraps long ones over two or three lines, and the line ending in
    "wrote:" may even carry a ``>``; the lines are joined before matching.
    """
    found: dict[int, int] = {}
    floor = 0
    for index, line in enumerate(lines):
        if len(line) > 400:
            continue
        if quoted[index]:
            tail = pat.ATTRIBUTION_QUOTED_TAIL.match(_unquote(line))
            if not tail or index == 0 or quoted[index - 1] or not lines[index - 1].strip():
                continue
        elif not (_tail(line) or pat.ATTRIBUTION_ISO.match(line.lstrip())):
            continue
        start = _attribution_start(lines, quoted, index, floor)
        if start is not None:
            found[start] = index + 1
            floor = index + 1
    return found


def _tail(line: str) -> bool:
    """Whether a line may end an attribution; the cheap test first keeps long bodies fast."""
    end = line.rstrip()[-48:]
    if not end.endswith((":", "：", "-", "wrote", "escribió", "escribio")):
        return False
    return bool(pat.ATTRIBUTION_TAIL.search(end))


def _attribution_start(lines: list[str], quoted: list[bool], end: int, floor: int) -> int | None:
    candidates: list[int] = []
    for start in range(end, max(floor, end - 5) - 1, -1):
        if start < end and quoted[start]:
            break
        if not lines[start].strip():
            continue
        joined = " ".join(line.strip() for line in lines[start : end + 1] if line.strip())
        if len(joined) > 400:
            break
        if pat.is_attribution(joined):
            candidates.append(start)
    # Prefer the nearest line that opens like one ("On 3 Nov...", "El 26/11/26..."),
    # so a sentence of own text just above is not swallowed.
    leads = [
        s for s in candidates if pat.ATTRIBUTION_LEAD.match(lines[s]) and pat.DIGIT.search(lines[s])
    ]
    return max(leads) if leads else max(candidates, default=None)


# -- own text: footers, disclaimers, signatures ---------------------------------------


def _label_own(lines: list[str]) -> list[_Part]:
    """Label a run of own lines: mobile footers, disclaimers and a trailing signature."""
    labels: list[Kind] = ["own"] * len(lines)
    _label_footers(lines, labels)
    _label_disclaimers(lines, labels)
    _label_signature(lines, labels)
    return list(zip(labels, lines, strict=True))


def _label_footers(lines: list[str], labels: list[Kind]) -> None:
    """Mobile footers ("Enviado desde mi iPhone"); short lines after the first one go too."""
    first: int | None = None
    for index, line in enumerate(lines):
        if len(line) <= 120 and pat.FOOTER.match(line):
            labels[index] = "footer"
            first = index if first is None else first
    if first is None:
        return
    rest = [line for line in lines[first + 1 :] if line.strip()]
    if len(rest) <= 40 and all(len(x) <= 100 and not pat.LIST_ITEM.match(x) for x in rest):
        labels[first + 1 :] = ["footer"] * (len(lines) - first - 1)


def _label_disclaimers(lines: list[str], labels: list[Kind]) -> None:
    """Legal notices, paragraph by paragraph; one notice may run over several paragraphs."""
    in_notice = False
    start: int | None = None
    for index in range(len(lines) + 1):
        inside = index < len(lines) and bool(lines[index].strip()) and labels[index] == "own"
        if inside and start is None:
            start = index
        if inside or start is None:
            continue
        words = [x.strip() for x in lines[start:index] if any(c.isalnum() for c in x)]
        if words:
            opening = bool(pat.DISCLAIMER_OPENING.match(words[0]))
            text = " ".join(words)[:4000] if opening or in_notice else ""
            legal = bool(text and pat.LEGAL_VOCABULARY.search(text))
            in_notice = _notice_heading(words) or (legal and (in_notice or len(text) >= 80))
        if in_notice:
            labels[start:index] = ["disclaimer"] * (index - start)
        start = None


def _notice_heading(words: list[str]) -> bool:
    """Whether a paragraph opens with a legal notice's heading ("AVISO LEGAL:").

    "Protección de datos" or "Confidencialidad" can also be a topic of the
    minutes ("Protección de datos. El DPO revisará el registro..."): followed by
    a sentence, such a heading counts only if legal wording follows it.
    """
    heading = pat.DISCLAIMER_HEADING.match(words[0])
    if not heading:
        return False
    topic = pat.TOPIC_HEADING.match(words[0])
    after = " ".join(words)[heading.end() :].lstrip(" .:-–—*_")
    if topic and after and not words[0][heading.end() :].lstrip().startswith(":"):
        return bool(
            pat.LEGAL_VOCABULARY.search(after[:4000]) or pat.DISCLAIMER_OPENING.match(after)
        )
    return True


def _label_signature(lines: list[str], labels: list[Kind]) -> None:
    """Label the signature at the end of the own lines, if its shape is clear.

    Three shapes count: what follows a ``--`` line (or a rule of underscores),
    a closing ("Un saludo,", "Best regards,") followed by name, title and
    contact lines only, and a name line over a title or contact line; a lone
    name closing a text ("Juan") goes too. Nothing with a list item or a
    "PD:" in it is a signature: minutes end that way.
    """
    own = [i for i, line in enumerate(lines) if labels[i] == "own" and line.strip()]
    tail = max(0, len(own) - MAX_SIGNATURE_LINES - 1)  # only the last lines can start one
    for pos in range(tail, len(own)):
        line, index = lines[own[pos]], own[pos]
        after = [lines[i] for i in own[pos + 1 :]]
        dashes = pat.SIGNATURE_DASHES.match(line) and (
            line.endswith(" ") or index == 0 or not lines[index - 1].strip()
        )
        if (dashes or pat.SIGNATURE_RULE.match(line)) and not any(
            pat.LIST_ITEM.match(x) or pat.POSTSCRIPT.match(x) for x in after
        ):
            _mark(labels, index)
            own = own[:pos]
            break
    for pos in range(len(own) - 1, max(-1, len(own) - 10), -1):
        after = [lines[i] for i in own[pos + 1 :]]
        closing = len(lines[own[pos]]) <= 80 and pat.CLOSING.match(lines[own[pos]])
        if closing and after and _signature_block(after, False):
            _mark(labels, own[pos])
            return
    last = own[-1:]  # the last paragraph
    while last and len(last) <= 6 and last[0] - 1 in own[-8:]:
        last.insert(0, last[0] - 1)
    block = [lines[i] for i in last]
    # A one-word first line is no name here: "Rechazo" over "Tesorera de la AMPA" is an
    # answer and its writer's office, not a signature to drop.
    named = 2 <= len(block) <= 6 and pat.name_line(block[0], min_words=2)
    if named and _signature_block(block, True):
        if pat.title_line(block[1]) or pat.contact_line(block[1]):
            _mark(labels, last[0])
    elif len(block) == 1 and len(own) > 1 and pat.name_line(block[0]):
        _mark(labels, last[0])


def _mark(labels: list[Kind], start: int) -> None:
    """Every own line from ``start`` on becomes signature."""
    for index in range(start, len(labels)):
        if labels[index] == "own":
            labels[index] = "signature"


def _signature_block(block: list[str], name_first: bool) -> bool:
    """Whether lines read as name, title and contact lines, perhaps ending with a motto;
    a "--" between them ("Saludos," "--" "Daniela Ochoa" "Directora de Cuentas") is theirs."""
    block = [line for line in block if not pat.SIGNATURE_DASHES.match(line.strip())]
    if not block:
        return False
    first = block[0]
    detail = pat.title_line(first) or pat.contact_line(first)
    if len(block) > 8 or not (pat.name_line(first) or (detail and not name_first)):
        return False
    for pos, line in enumerate(block[1:], start=1):
        if pat.LIST_ITEM.match(line) or pat.POSTSCRIPT.match(line) or line.rstrip().endswith(":"):
            return False
        if pat.title_line(line) or pat.contact_line(line):
            detail = True
        elif not pat.name_line(line) and not (pos == len(block) - 1 and detail and len(line) < 120):
            return False
    return True
