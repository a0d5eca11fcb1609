"""The errors mailtrack raises, each saying when.

Every error a user can fix derives from :class:`MailtrackError`; the CLI turns
it into one line on stderr and a non-zero exit status. Where an error has a
builtin counterpart it inherits that too, so callers may catch either.
Anything else reaching the CLI is a bug and shows a traceback with ``--debug``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class MailtrackError(Exception):
    """Base class of every error the user can act on.

    ``exit_code`` is the status the CLI exits with when this error reaches it.
    """

    exit_code = 1


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a configuration file: the key, the line if known, what is wrong."""

    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.key}: {self.message}"


class ConfigError(MailtrackError, ValueError):
    """Raised when the configuration file is missing, unreadable, not TOML, or invalid.

    Holds every problem found, so a user fixes the file in one pass.
    """

    exit_code = 2

    def __init__(self, path: str, problems: Sequence[ConfigProblem]) -> None:
        self.path = path
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{path}: {count} {noun}")

    def render(self) -> str:
        """The summary line followed by one indented line per problem."""
        lines = [str(self)]
        lines.extend(f"  {problem}" for problem in self.problems)
        return "\n".join(lines)


class DatabaseError(MailtrackError):
    """Raised when the database cannot be reached, or its schema is not the one this code needs."""


class MailSourceError(MailtrackError, ConnectionError):
    """Raised when a mail source (IMAP server, Maildir) cannot be reached or read."""


class MailSendError(MailtrackError, ConnectionError):
    """Raised when the SMTP relay cannot be reached or refuses us as a whole."""


class InputFileError(MailtrackError, OSError):
    """Raised when a file named on the command line is missing, unreadable or not as expected."""


def describe(error: BaseException) -> str:
    """One line about ``error`` for a log or a user: a database error without its SQL.

    SQLAlchemy's messages carry the statement (and, unless hidden, its parameters:
    mail text, tokens) over several lines; the driver's own first line says what
    happened ("database is locked", "connection refused").
    """
    original = getattr(error, "orig", None)
    if original is not None and getattr(error, "statement", None) is not None:
        first = (str(original).strip().splitlines() or [type(original).__name__])[0]
        return f"database unavailable: {first}"
    return str(error)
