"""detect_signature: the decorator above ``def <entry_point>``, read with ast."""

from __future__ import annotations

import textwrap

import pytest

from emulator.config.signature import detect_signature


def detect(source: str, entry_point: str = "handler") -> str | None:
    return detect_signature(textwrap.dedent(source), entry_point)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import functions_framework\n@functions_framework.http\ndef handler(request): ...\n", "http"),
        ("from functions_framework import http\n@http\ndef handler(request): ...\n", "http"),
        ("@http\ndef handler(request): ...\n", "http"),
        ("import functions_framework\n@functions_framework.cloud_event\ndef handler(event): ...\n", "cloudevent"),
        ("from functions_framework import cloud_event\n@cloud_event\ndef handler(event): ...\n", "cloudevent"),
        ("import functions_framework\n@functions_framework.typed\ndef handler(x: int) -> int: ...\n", "typed"),
        ("import functions_framework\n@functions_framework.typed()\ndef handler(x): ...\n", "typed"),
        ("import functions_framework\n@functions_framework.typed(Req)\ndef handler(x): ...\n", "typed"),
        ("import functions_framework\n@functions_framework.http()\ndef handler(request): ...\n", "http"),
        ("import functions_framework\n@functions_framework.http\nasync def handler(request): ...\n", "http"),
    ],
)
def test_decorators(source, expected):
    assert detect(source) == expected


def test_comments_blank_lines_and_formatting_do_not_matter():
    source = """\
    import functions_framework  # Google's


    @functions_framework.cloud_event  # registers the signature
    # a comment between decorator and def

    def handler(
        cloud_event,
    ):
        return None
    """
    assert detect(source) == "cloudevent"


def test_call_arguments_spanning_lines():
    source = """\
    import functions_framework

    @functions_framework.typed(
        InputType,  # request type
    )
    def handler(data):
        return data
    """
    assert detect(source) == "typed"


def test_import_aliases_are_followed():
    assert detect("import functions_framework as ff\n@ff.cloud_event\ndef handler(e): ...\n") == "cloudevent"
    assert detect("from functions_framework import http as route\n@route\ndef handler(r): ...\n") == "http"


def test_only_the_entry_points_decorators_count():
    source = """\
    import functions_framework

    @functions_framework.cloud_event
    def other(event): ...

    def handler(request): ...

    @functions_framework.http
    def third(request): ...
    """
    assert detect(source, "handler") is None
    assert detect(source, "other") == "cloudevent"
    assert detect(source, "third") == "http"
    assert detect(source, "missing") is None


@pytest.mark.parametrize(
    "source",
    [
        "def handler(request): ...\n",
        "import functools\n@functools.cache\ndef handler(request): ...\n",
        "import flask\n@flask.http\ndef handler(request): ...\n",  # a dotted name not from functions_framework
        "@functions_framework.errorhandler(ValueError)\ndef handler(e): ...\n",
        "handler = lambda request: 'ok'\n",
        "class handler:\n    pass\n",
        "# @functions_framework.http\ndef handler(request): ...\n",
        "'''\n@functions_framework.http\n'''\ndef handler(request): ...\n",
    ],
)
def test_no_signature(source):
    assert detect(source) is None


def test_other_decorators_around_it():
    source = """\
    import functools, functions_framework

    @functools.lru_cache
    @functions_framework.http
    @staticmethod
    def handler(request): ...
    """
    assert detect(source) == "http"


def test_methods_and_nested_functions_are_not_the_entry_point():
    source = """\
    import functions_framework

    class Service:
        @functions_framework.http
        def handler(self, request): ...

    def outer():
        @functions_framework.http
        def handler(request): ...
    """
    assert detect(source) is None


def test_definitions_inside_module_level_blocks_count():
    source = """\
    import functions_framework
    try:
        import orjson
    except ImportError:
        @functions_framework.http
        def handler(request): ...
    """
    assert detect(source) == "http"


def test_the_last_definition_wins_as_in_python():
    source = """\
    import functions_framework

    @functions_framework.http
    def handler(request): ...

    @functions_framework.cloud_event
    def handler(event): ...
    """
    assert detect(source) == "cloudevent"


@pytest.mark.parametrize(
    "source",
    [
        "@functions_framework.http\ndef handler(request:\n",
        "def handler(request):\nreturn 1\n",
        "@functions_framework.http\ndef handler(request): ...\n\x00",
        "",
    ],
)
def test_unparseable_or_empty_source_is_none(source):
    assert detect(source) is None
