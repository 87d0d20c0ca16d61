"""Which functions-framework signature a GCP function declares with its decorator (sans-io).

Owns ``detect_signature``: source text in, ``"http"`` / ``"cloudevent"`` / ``"typed"``
or None out. The config loader leaves ``FunctionSpec.signature`` None when it is not
configured; the runtime recipe reads the source and calls this, so an edit to the
decorator is picked up on reload without re-reading emu.yaml.

It reads the decorators above the module-level ``def <entry_point>`` with ``ast``,
so comments, line breaks and call arguments do not matter, and it follows imports:
``import functions_framework as ff`` makes ``@ff.http`` count, and
``from functions_framework import cloud_event as ce`` makes ``@ce`` count.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import Literal

DetectedSignature = Literal["http", "cloudevent", "typed"]

_MODULE = "functions_framework"
# functions_framework's decorator -> the signature type it registers.
_DECORATORS: Mapping[str, DetectedSignature] = {
    "http": "http",
    "cloud_event": "cloudevent",
    "typed": "typed",
}
# Statements whose bodies still define module-level names (``if``, ``try``, ``with``...).
_NESTED_BODIES = ("body", "orelse", "finalbody", "handlers")


def detect_signature(source_text: str, entry_point: str) -> DetectedSignature | None:
    """The signature the decorators on ``def <entry_point>`` declare, or None.

    None also for a source that does not parse: the runtime reports that error itself.
    """
    try:
        module = ast.parse(source_text)
    except (SyntaxError, ValueError):  # ValueError: a NUL byte in the source
        return None
    names = _decorator_names(module)
    found: DetectedSignature | None = None
    # Python keeps the last definition of a name, and so does this.
    for function in _module_functions(module):
        if function.name == entry_point:
            found = _signature(function, names)
    return found


def _decorator_names(module: ast.Module) -> dict[str, DetectedSignature]:
    """Every dotted name that means a functions_framework decorator in this module."""
    names: dict[str, DetectedSignature] = dict(_DECORATORS)  # bare @http etc., as the docs write them
    names.update({f"{_MODULE}.{attr}": signature for attr, signature in _DECORATORS.items()})
    for statement in _module_statements(module):
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.name == _MODULE and alias.asname:
                    names.update({f"{alias.asname}.{attr}": sig for attr, sig in _DECORATORS.items()})
        elif isinstance(statement, ast.ImportFrom) and statement.module == _MODULE and statement.level == 0:
            for alias in statement.names:
                if alias.name in _DECORATORS and alias.asname:
                    names[alias.asname] = _DECORATORS[alias.name]
    return names


def _signature(
    function: ast.FunctionDef | ast.AsyncFunctionDef, names: Mapping[str, DetectedSignature]
) -> DetectedSignature | None:
    # Decorators apply bottom-up, so the top one registers last and is what
    # functions-framework ends up with.
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):  # @functions_framework.typed(MyType)
            decorator = decorator.func
        name = _dotted(decorator)
        if name in names:
            return names[name]
    return None


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return None if parent is None else f"{parent}.{node.attr}"
    return None


def _module_statements(module: ast.Module) -> Iterator[ast.stmt]:
    """Statements that run at module level, including inside ``if``/``try``/``with`` blocks."""
    pending = list(reversed(module.body))
    while pending:
        statement = pending.pop()
        yield statement
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        children: list[ast.stmt] = []
        for attribute in _NESTED_BODIES:
            for child in getattr(statement, attribute, ()):
                # An ``except`` handler is not a statement; its body is.
                children.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])
        pending.extend(reversed(children))


def _module_functions(module: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for statement in _module_statements(module):
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield statement
