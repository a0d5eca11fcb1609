"""The optional aliases directory: other names people go by, other addresses they write from.

A TOML file named by ``tracker.aliases_file``, one table per person keyed by
their main address::

    ["juan.perez@cliente.es"]
    names = ["Juanma", "JP"]                 # how minutes may name them
    addresses = ["jperez@gmail.com"]         # may answer requests for them

Names help find owners in minutes; addresses are accepted as the person when
they reply. Nothing else is read from it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mailtrack.errors import ConfigError, ConfigProblem

_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")


@dataclass(frozen=True)
class Aliases:
    names: dict[str, str] = field(default_factory=dict)  # name -> main address
    addresses: dict[str, set[str]] = field(default_factory=dict)  # main address -> others


def load_aliases(path: Path | None) -> Aliases:
    """Read the aliases file; an empty directory when there is none. Raises ConfigError."""
    if path is None:
        return Aliases()
    label = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(label, [ConfigProblem("(file)", f"cannot read: {error}")]) from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(label, [ConfigProblem("(syntax)", f"not valid TOML: {error}")]) from error
    problems: list[ConfigProblem] = []
    names: dict[str, str] = {}
    addresses: dict[str, set[str]] = {}
    for main, table in document.items():
        main_address = main.strip().lower()
        if not _ADDRESS.match(main_address) or not isinstance(table, dict):
            problems.append(ConfigProblem(main, "must be a table keyed by an e-mail address"))
            continue
        for key in table:
            if key not in ("names", "addresses"):
                problems.append(ConfigProblem(f"{main}.{key}", "unknown key (names, addresses)"))
        for name in table.get("names", []):
            if isinstance(name, str) and name.strip():
                names[name.strip()] = main_address
            else:
                problems.append(ConfigProblem(f"{main}.names", f"not a name: {name!r}"))
        for other in table.get("addresses", []):
            if isinstance(other, str) and _ADDRESS.match(other.strip().lower()):
                addresses.setdefault(main_address, set()).add(other.strip().lower())
            else:
                problems.append(ConfigProblem(f"{main}.addresses", f"not an address: {other!r}"))
    if problems:
        raise ConfigError(label, problems)
    return Aliases(names, addresses)
