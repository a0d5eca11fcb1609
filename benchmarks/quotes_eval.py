"""How :func:`mailtrack.mail.quotes.trim` compares with public reply-trimming fixtures.

Two measurements on ``../shared/corpus/replies`` (not part of this repository):

1. Discourse's email_reply_trimmer fixtures (``emails/NAME.txt`` in,
   ``trimmed/NAME.txt`` expected): exact match of ``trim(input).text`` after
   stripping trailing whitespace of lines and surrounding blank lines, then
   the match once mailtrack's documented conventions are allowed for. Where
   the two projects differ on purpose, mailtrack's convention wins:

   - ``signature``: mailtrack drops closings with a name ("Thanks,\\nAna"),
     lone names and ``--`` blocks; Discourse keeps the first two.
   - ``quote-kept``: Discourse keeps ``>`` lines that own text follows
     (bottom posting, inline answers) or that are all there is; mailtrack
     always keeps quoted lines out of the text and in their own segments.
   - ``forward``: Discourse keeps a forwarded mail that opens the body;
     mailtrack's reply mode treats it as quoted, its minutes mode
     (``keep_forwarded=True``) keeps it.
   - ``top-attribution``: Discourse drops an attribution line that opens the
     body and keeps the unquoted text below it; mailtrack treats everything
     below an attribution that no ``>`` marks as quoted (Outlook, Yahoo).
   - ``bottom-posting``: Discourse drops text below a quote when it reads
     like a signature; mailtrack keeps text below a quote as the author's
     (Thunderbird bottom posting, inline answers).

2. crisp's email-forward-parser fixtures: the forward header of every body
   must be recognised (a ``header`` segment, no header line left in the
   text), and with ``keep_forwarded=True`` the forwarded body must be kept
   when the mail is known to be a forward (a forward separator, or an "FW:"
   subject in ``*_subject.txt``).

    .venv/bin/python benchmarks/quotes_eval.py [--corpus ../shared/corpus/replies]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mailtrack.mail.quotes import Trimmed, trim

ROOT = Path(__file__).resolve().parents[1]
# Misses read one by one, and why they stay misses.
KNOWN = {
    "embedded_email_17.txt": "opens with an attribution over unquoted text (top-attribution), "
    "and Discourse also drops a later attribution line and the closing 'Cheers' while keeping "
    "the '>' lines between them: no single convention renders it",
}
HEADER_WORDS = ("From:", "De:", "Subject:", "Asunto:", "Date:", "Fecha:", "Sent:", "To:")


def normalize(text: str) -> str:
    """Trailing whitespace of lines and surrounding blank lines removed."""
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")).strip("\n")


def keep_kinds(result: Trimmed, kinds: set[str], quotes_before_own: bool = False) -> str:
    """The body as it would read keeping only ``kinds`` (and quotes that own text follows)."""
    segments = result.segments
    kept: list[str] = []
    for index, segment in enumerate(segments):
        own_follows = any(s.kind == "own" and s.text.strip() for s in segments[index + 1 :])
        closing = segment.kind == "signature" and not segment.text.lstrip().startswith("--")
        if (
            segment.kind in kinds
            or (closing and "closing" in kinds)
            or (segment.kind == "quote" and quotes_before_own and own_follows)
        ):
            kept.append(segment.text)
    return "\n".join(kept)


def conventions(source: str, result: Trimmed) -> dict[str, str]:
    """What the text would be under each of Discourse's conventions mailtrack does not share."""
    first_quote = next(
        (i for i, s in enumerate(result.segments) if s.kind in ("quote", "header")),
        len(result.segments),
    )
    quote_only = all(s.kind == "quote" or not s.text.strip() for s in result.segments)
    after_header = []
    for index, segment in enumerate(result.segments):
        if segment.kind == "header" and not any(s.text.strip() for s in result.segments[:index]):
            after_header = [s.text for s in result.segments[index + 1 :] if s.kind == "quote"]
            break
    return {
        "signature": keep_kinds(result, {"own", "closing"}),
        "bottom-posting": "\n".join(
            s.text for s in result.segments[:first_quote] if s.kind == "own"
        ),
        "quote-kept": source if quote_only else keep_kinds(result, {"own"}, True),
        "forward": trim(source, keep_forwarded=True).text,
        "top-attribution": "\n".join(after_header),
    }


def run_discourse(corpus: Path) -> int:
    folder = corpus / "discourse_email_reply_trimmer"
    names = sorted(p.name for p in (folder / "emails").glob("*.txt"))
    exact = adjusted = 0
    misses: list[str] = []
    for name in names:
        source = (folder / "emails" / name).read_text(encoding="utf-8")
        expected = normalize((folder / "trimmed" / name).read_text(encoding="utf-8"))
        result = trim(source)
        got = normalize(result.text)
        if got == expected:
            exact += 1
            adjusted += 1
            continue
        why = [k for k, text in conventions(source, result).items() if normalize(text) == expected]
        if why:
            adjusted += 1
            misses.append(f"  {name}: convention ({', '.join(why)})")
        else:
            why_not = f"\n    known: {KNOWN[name]}" if name in KNOWN else ""
            misses.append(
                f"  {name}: MISS{why_not}\n    expected: {expected[:300]!r}\n    got:      {got[:300]!r}"
            )
    total = len(names)
    print(f"Discourse email_reply_trimmer: {total} cases")
    print(f"  exact match:           {exact}/{total} = {exact / total:.1%}")
    print(f"  with our conventions:  {adjusted}/{total} = {adjusted / total:.1%}")
    print("  differences:")
    print("\n".join(misses) if misses else "  none")
    return total - adjusted


def run_crisp(corpus: Path) -> int:
    folder = corpus / "crisp_email_forward_parser"
    bodies = sorted(folder.glob("*_body.txt"))
    recognised = kept = known = 0
    misses: list[str] = []
    for body in bodies:
        stem = body.name.removesuffix("_body.txt")
        subject_file = folder / f"{stem}_subject.txt"
        subject = (
            subject_file.read_text(encoding="utf-8").strip() if subject_file.exists() else None
        )
        source = body.read_text(encoding="utf-8")
        reply = trim(source, subject=subject)
        has_header = any(s.kind == "header" for s in reply.segments)
        leaked = [w for w in HEADER_WORDS if any(ln.startswith(w) for ln in reply.text.split("\n"))]
        if has_header and not leaked and not reply.text:
            recognised += 1
        else:
            misses.append(f"  {stem}: header not recognised (text {reply.text[:120]!r})")
        minutes = trim(source, keep_forwarded=True, subject=subject)
        if minutes.forwarded:
            known += 1
            lines = minutes.text.split("\n")
            if "Aenean quis diam urna" in minutes.text and not any(
                ln.startswith(HEADER_WORDS) for ln in lines
            ):
                kept += 1
            else:
                misses.append(f"  {stem}: forward kept badly: {minutes.text[:160]!r}")
        else:
            misses.append(f"  {stem}: not known as a forward (no separator, no subject): quoted")
    print(f"\ncrisp email-forward-parser: {len(bodies)} bodies")
    print(f"  forward header recognised:            {recognised}/{len(bodies)}")
    print(f"  forwarded body kept (keep_forwarded): {kept}/{known} known forwards")
    print("\n".join(misses) if misses else "  no misses")
    return len(bodies) - recognised


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared/corpus/replies")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}: nothing to measure", file=sys.stderr)
        return 0
    run_discourse(args.corpus)
    run_crisp(args.corpus)
    return 0


if __name__ == "__main__":
    sys.exit(main())
