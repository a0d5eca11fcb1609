"""HTML mail bodies turned into plain text that keeps their structure.

Minutes written in Outlook or Gmail arrive as HTML: the extraction needs the
headings, list items, checkboxes and table rows as lines, and the reply
parser needs to know which text was quoted. So headings become ``## text``,
list items ``- text`` or ``1. text``, checkboxes ``[x]``/``[ ]``, table rows
``cell | cell``, and quoted blocks (``<blockquote>``, Gmail's
``gmail_quote``, Outlook's reply header ``divRplyFwdMsg``/``appendonsend``
and everything after it) are prefixed with ``> ``.

Built on the standard library's tolerant :class:`html.parser.HTMLParser`:
hostile or broken markup yields text or nothing, never an exception, and no
script, style or remote content is ever read.
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

_BLOCK = frozenset(
    "address article aside center dd details dialog dir div dl dt fieldset figcaption figure "
    "footer form header hr main nav ol p pre section summary table tbody thead tfoot ul".split()
)
_SKIP = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "object"})
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_QUOTE_CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote")
_QUOTE_IDS = ("divrplyfwdmsg", "appendonsend", "mail-editor-reference-message-container")
_SPACES = re.compile(r"[ \t\u00a0\r\f\v]+")
MAX_DEPTH = 500  # nesting beyond this is flattened: hostile mail must not cost more


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.quote_rest = False  # Outlook: everything after the reply header is quoted
        self.skip_depth = 0
        self.stack: list[tuple[str, bool]] = []  # (tag, opened a quote)
        self.open_tags: Counter[str] = Counter()  # how many of each tag the stack holds
        self.lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        self.cells: list[str] | None = None
        self.cell: list[str] | None = None
        self.heading = 0
        self.pre = 0

    # -- output helpers -------------------------------------------------------

    def _prefix(self) -> str:
        depth = self.quote_depth + (1 if self.quote_rest else 0)
        return "> " * depth

    def write(self, text: str) -> None:
        if self.cell is not None:
            self.cell.append(text)
        else:
            self.current.append(text)

    def flush(self) -> None:
        text = "".join(self.current)
        self.current = []
        if self.pre:
            for raw in text.split("\n"):
                self.lines.append(self._prefix() + raw.rstrip())
            return
        # A zero-width space is not a space: "confir\u200bmo" reads "confirmo" in a browser.
        text = _SPACES.sub(" ", text.replace("\u200b", "")).strip()
        if not text:
            return
        if self.heading:
            text = "#" * min(self.heading + 1, 4) + " " + text
        self.lines.append(self._prefix() + text)

    def blank(self) -> None:
        self.flush()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(self._prefix().rstrip())

    # -- parser callbacks -----------------------------------------------------

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.skip_depth:
            if tag not in _VOID:
                self.skip_depth += 1
            return
        if tag in _SKIP:
            self.skip_depth = 1
            return
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if tag == "br":
            self.flush() if self.cell is None else self.write(" ")
            return
        if tag == "input":
            if attributes.get("type", "").lower() == "checkbox":
                self.write("[x] " if "checked" in attributes else "[ ] ")
            return
        if tag == "img":
            alt = attributes.get("alt", "").strip()
            if alt in ("☑", "✅", "☒", "✔", "✓"):
                self.write("[x] ")
            elif alt == "☐":
                self.write("[ ] ")
            return
        if tag in _VOID or len(self.stack) >= MAX_DEPTH:
            return
        opens_quote = self._opens_quote(tag, attributes)
        if self._starts_outlook_header(attributes):
            self.blank()
            self.quote_rest = True
        self.stack.append((tag, opens_quote))
        self.open_tags[tag] += 1
        if opens_quote:
            self.blank()
            self.quote_depth += 1
        if tag in _HEADINGS:
            self.blank()
            self.heading = _HEADINGS[tag]
        elif tag in ("ul", "ol", "menu"):
            self.flush()
            start = attributes.get("start", "1")
            self.lists.append([int(start) if start.isdigit() else 1] if tag == "ol" else [])
        elif tag == "li":
            self.flush()
            marker = "- "
            if self.lists and self.lists[-1]:
                marker = f"{self.lists[-1][0]}. "
                self.lists[-1][0] += 1
            indent = "  " * max(len(self.lists) - 1, 0)
            self.write(indent + marker)
        elif tag == "dd":
            # A definition list of who does what: "<dt>Luis</dt><dd>Negociar...</dd>" reads
            # "Luis:" over "  - Negociar...", as a person writing it in plain text would.
            self.flush()
            self.write("  - ")
        elif tag == "tr":
            self.flush()
            self.cells = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "pre":
            self.flush()
            self.pre += 1
        elif tag in _BLOCK:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if self.skip_depth:
            self.skip_depth -= 1
            return
        if tag in _VOID:
            return
        # Close up to the matching open tag; browsers forgive missing end tags. An end tag
        # of nothing open is skipped without a look: thousands of stray "</p>" under
        # hundreds of open tags would cost a search each.
        if not self.open_tags[tag]:
            return
        index = next(
            (i for i in range(len(self.stack) - 1, -1, -1) if self.stack[i][0] == tag), None
        )
        if index is None:
            return
        for open_tag, opened_quote in reversed(self.stack[index:]):
            self._close(open_tag, opened_quote)
            self.open_tags[open_tag] -= 1
        del self.stack[index:]

    def _close(self, tag: str, opened_quote: bool) -> None:
        if tag in _HEADINGS:
            self.flush()
            self.heading = 0
            self.blank()
        elif tag in ("ul", "ol", "menu"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag in ("td", "th"):
            if self.cell is not None and self.cells is not None:
                self.cells.append(_SPACES.sub(" ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "tr":
            if self.cells is not None and any(self.cells):
                self.current.append(" | ".join(self.cells))
                self.flush()
            self.cells = None
        elif tag == "pre":
            self.flush()
            self.pre = max(self.pre - 1, 0)
        elif tag == "dt":
            term = "".join(self.current).rstrip()
            if term.strip() and not term.endswith((":", ".", "?", "!")):
                self.current = [term, ":"]
            self.flush()
        elif tag == "p":
            self.blank()
        elif tag in _BLOCK or tag == "li":
            self.flush()
        if opened_quote:
            self.flush()
            self.quote_depth = max(self.quote_depth - 1, 0)
            self.blank()

    def handle_data(self, data: str) -> None:
        if self.skip_depth:
            return
        self.write(data if self.pre else data.replace("\n", " "))

    # -- quotes ---------------------------------------------------------------

    @staticmethod
    def _opens_quote(tag: str, attributes: dict[str, str]) -> bool:
        if tag == "blockquote":
            return True
        classes = attributes.get("class", "").lower()
        return any(name in classes for name in _QUOTE_CLASSES)

    @staticmethod
    def _starts_outlook_header(attributes: dict[str, str]) -> bool:
        identifier = attributes.get("id", "").lower()
        return any(identifier.startswith(name) for name in _QUOTE_IDS)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML body, keeping headings, lists, checkboxes, table rows and quotes."""
    converter = _Converter()
    try:
        converter.feed(markup)
        # Left unread starting with "<": a tag, comment or declaration that never ends
        # (a quote never closed, no "-->"). A browser shows nothing from there to the
        # end, and neither do we: the standard library's close() (CPython 3.11) would
        # rescan the rest of the document for every "<" in it ("<a b='>'" * 4000, 32 KB,
        # took 6 s and four times as long for twice the size), then show it as text,
        # where a "confirmo" the writer never saw would read as their own words.
        if converter.rawdata.startswith("<"):
            converter.rawdata = ""
        converter.close()
    except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is tolerant
        pass
    converter.flush()
    lines = converter.lines
    while lines and not lines[-1].strip("> "):
        lines.pop()
    return "\n".join(lines)
