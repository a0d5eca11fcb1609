"""Where the trained pipelines are, and loading them once per process.

They live in ``models/pipelines/`` in the repository and travel inside the
wheel as ``mailtrack/_data/pipelines/`` (see pyproject.toml); nothing is
downloaded, ever. A pipeline is loaded on first use and kept for the life of
the process (loading costs a good part of a second).
"""

from __future__ import annotations

import threading
import warnings
from functools import cache
from pathlib import Path
from typing import Any

from mailtrack.errors import MailtrackError

PACKAGE = Path(__file__).resolve().parents[1]
_lock = threading.Lock()


class ModelError(MailtrackError):
    """Raised when a trained pipeline is missing or cannot be loaded (run `mailtrack train`)."""


def pipelines_dir() -> Path:
    """The installed copy inside the package, else the repository's models/pipelines."""
    for candidate in (PACKAGE / "_data" / "pipelines", PACKAGE.parent / "models" / "pipelines"):
        if candidate.is_dir():
            return candidate
    raise ModelError(
        "no trained pipelines found (models/pipelines): run `mailtrack train` to build them"
    )


@cache
def load(name: str) -> Any:
    """The pipeline ``name`` ("items" or "mail"), loaded once."""
    import spacy

    from mailtrack.nlp import components  # noqa: F401  (registers the factories)

    path = pipelines_dir() / name
    if not (path / "config.cfg").exists():
        raise ModelError(f"trained pipeline {path} is missing: run `mailtrack train`")
    with _lock, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # version-compatibility notices are not the user's concern
        try:
            return spacy.load(path)
        except (OSError, ValueError) as error:
            raise ModelError(f"cannot load the trained pipeline {path}: {error}") from error
