"""The ``.env`` reader: ``KEY=VALUE`` lines into a dict, with the line of any mistake.

Owns the dialect, which is the common subset of docker compose, python-dotenv and sh:

    # a comment                  blank lines and comments are skipped
    export KEY=value             "export " is allowed, so the file can be sourced
    KEY=value # note             unquoted: trimmed, " #" starts a comment
    KEY='literal $ \\n'          single quotes: taken verbatim
    KEY="line\\nnext"            double quotes: \\n \\t \\r \\" \\\\ are escapes

There is no ``${VAR}`` expansion: a value means what it says. A key given twice keeps
the last value, as ``source .env`` would.
"""

from __future__ import annotations

import re
from pathlib import Path

from emulator.errors import ConfigError

_ASSIGNMENT = re.compile(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


def read_dotenv(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"cannot read env file: {exc}") from exc
    return parse_dotenv(text, path)


def parse_dotenv(text: str, file: object) -> dict[str, str]:
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _ASSIGNMENT.fullmatch(stripped)
        if match is None:
            raise ConfigError(file, f"line {number}: expected KEY=VALUE, got {stripped!r}")
        key, raw = match.groups()
        try:
            variables[key] = _value(raw)
        except ValueError as exc:
            raise ConfigError(file, f"line {number}: {exc}", key=key) from None
    return variables


def _value(raw: str) -> str:
    if raw[:1] == "'":
        end = raw.find("'", 1)
        if end == -1:
            raise ValueError("unterminated single-quoted value")
        _expect_only_comment(raw[end + 1 :])
        return raw[1:end]
    if raw[:1] == '"':
        return _double_quoted(raw)
    # An unquoted "#" only starts a comment after whitespace, so "a#b" stays whole.
    return re.split(r"\s#", raw, maxsplit=1)[0].strip()


def _double_quoted(raw: str) -> str:
    chars: list[str] = []
    index = 1
    while index < len(raw):
        char = raw[index]
        if char == '"':
            _expect_only_comment(raw[index + 1 :])
            return "".join(chars)
        if char == "\\" and index + 1 < len(raw):
            following = raw[index + 1]
            # Unknown escapes keep their backslash, as python-dotenv and compose do.
            chars.append(_ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        chars.append(char)
        index += 1
    raise ValueError("unterminated double-quoted value")


def _expect_only_comment(rest: str) -> None:
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise ValueError(f"unexpected text after the closing quote: {rest!r}")
