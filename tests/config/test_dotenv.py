"""The .env dialect: one case per rule, and malformed lines with their numbers."""

from __future__ import annotations

import pytest

from emulator.config.dotenv import parse_dotenv, read_dotenv
from emulator.errors import ConfigError


def parse(text: str) -> dict[str, str]:
    return parse_dotenv(text, ".env")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("KEY=value", "value"),
        ("KEY = value", "value"),
        ("export KEY=value", "value"),
        ("KEY=", ""),
        ("KEY=  spaced out  ", "spaced out"),
        ("KEY=a=b=c", "a=b=c"),
        ("KEY=value # a comment", "value"),
        ("KEY=value\t# tab before comment", "value"),
        ("KEY=a#b", "a#b"),
        ("KEY=https://example.com/#anchor", "https://example.com/#anchor"),
        ("KEY='single # not a comment'", "single # not a comment"),
        (r"KEY='no \n escapes'", r"no \n escapes"),
        ("KEY='quoted' # comment", "quoted"),
        ('KEY="double # not a comment"', "double # not a comment"),
        (r'KEY="line\nnext"', "line\nnext"),
        (r'KEY="tab\there \"q\" back\\slash"', 'tab\there "q" back\\slash'),
        (r'KEY="keep \d"', r"keep \d"),
        ('KEY="" # empty', ""),
        ("KEY=$OTHER", "$OTHER"),
    ],
)
def test_values(line, expected):
    assert parse(line) == {"KEY": expected}


def test_comments_blank_lines_and_order():
    text = "# header\n\n   \nA=1\n  # indented comment\nexport B=2\nA=3\n"
    assert parse(text) == {"A": "3", "B": "2"}


def test_windows_line_endings():
    assert parse("A=1\r\nB='x'\r\n") == {"A": "1", "B": "x"}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("A=1\nnot an assignment\n", 2, "expected KEY=VALUE"),
        ("A=1\n\n1BAD=x\n", 3, "expected KEY=VALUE"),
        ("BAD-KEY=x", 1, "expected KEY=VALUE"),
        ("=value", 1, "expected KEY=VALUE"),
        ("A='open", 1, "unterminated single-quoted"),
        ('# c\nA="open', 2, "unterminated double-quoted"),
        ('A="x" trailing', 1, "after the closing quote"),
        ("A='x'y", 1, "after the closing quote"),
    ],
)
def test_malformed_lines(text, line, fragment):
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert str(info.value).startswith(".env")
    assert f"line {line}:" in str(info.value)
    assert fragment in str(info.value)


def test_read_dotenv(tmp_path):
    path = tmp_path / ".env"
    path.write_text("export TOKEN='abc'\n")
    assert read_dotenv(path) == {"TOKEN": "abc"}


def test_read_dotenv_missing(tmp_path):
    with pytest.raises(ConfigError, match="cannot read env file"):
        read_dotenv(tmp_path / "nope.env")
