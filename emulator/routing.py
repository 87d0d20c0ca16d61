"""Route matching for API Gateway routes: sync, I/O-free, decided before anything is invoked.

Owns ``Route`` (one method and path pattern: ``/items/{id}``, greedy ``/files/{path+}``,
``ANY``, and an HTTP API's ``$default``) and ``RouteTable``, which picks the most
specific route that matches, as API Gateway does
(docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html):

- segment by segment from the left, a literal beats a ``{param}``, which beats a greedy ``{param+}``;
- on the same path, a route's own method beats ``ANY``;
- ``$default`` answers only when nothing else does.

Paths are matched segment by segment on the percent-decoded segments, so an encoded
``%2F`` stays inside its segment, and parameter values come back decoded. One
trailing slash is ignored. A greedy parameter needs at least one segment:
``/{proxy+}`` does not match ``/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar
from urllib.parse import unquote

from emulator.config.model import DEFAULT_ROUTE

Target = TypeVar("Target")

_PARAM = re.compile(r"\{([^{}+]+)(\+?)\}")
# Rank of each kind of segment for "most specific wins"; lower is more specific.
_LITERAL, _PARAMETER, _GREEDY = 0, 1, 2


class Match(Enum):
    NONE = 0
    PARTIAL = 1  # the path matches, the method does not
    FULL = 2


@dataclass(frozen=True, slots=True)
class _Segment:
    rank: int
    text: str  # the literal, or the parameter's name


@dataclass(frozen=True, slots=True)
class Route:
    """One route: ``method`` (``GET``... or ``ANY``) and ``pattern``."""

    method: str
    pattern: str
    _segments: tuple[_Segment, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", self.method.upper())
        object.__setattr__(self, "_segments", _compile(self.pattern))

    @property
    def is_default(self) -> bool:
        return self.pattern == DEFAULT_ROUTE

    def match(self, method: str, path: str) -> tuple[Match, dict[str, str]]:
        """How ``method`` and the raw ``path`` match, with the decoded path parameters on a match."""
        params = {} if self.is_default else _match_path(self._segments, split_path(path))
        if params is None:
            return Match.NONE, {}
        if self.method != "ANY" and self.method != method.upper():
            return Match.PARTIAL, {}
        return Match.FULL, params

    def specificity(self) -> tuple[int, tuple[int, ...], int]:
        """A sort key: the more specific route sorts first."""
        ranks = tuple(segment.rank for segment in self._segments)
        return (int(self.is_default), ranks, int(self.method == "ANY"))


def split_path(path: str) -> list[str]:
    """The decoded segments of a raw path; one trailing slash is ignored, ``/`` has none."""
    inner = path[1:] if path.startswith("/") else path
    if inner.endswith("/"):
        inner = inner[:-1]
    return [unquote(segment) for segment in inner.split("/")] if inner else []


def _compile(pattern: str) -> tuple[_Segment, ...]:
    if pattern == DEFAULT_ROUTE:
        return ()
    segments = []
    for text in split_path(pattern):
        param = _PARAM.fullmatch(text)
        if param is None:
            segments.append(_Segment(_LITERAL, text))
        else:
            segments.append(_Segment(_GREEDY if param.group(2) else _PARAMETER, param.group(1)))
    return tuple(segments)


def _match_path(segments: tuple[_Segment, ...], parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, segment in enumerate(segments):
        if segment.rank == _GREEDY:
            rest = parts[index:]
            if not rest or not any(rest):
                return None
            params[segment.text] = "/".join(rest)
            return params
        if index >= len(parts):
            return None
        part = parts[index]
        if segment.rank == _LITERAL:
            if part != segment.text:
                return None
        elif not part:
            return None
        else:
            params[segment.text] = part
    return params if len(parts) == len(segments) else None


class RouteTable(Generic[Target]):
    """Routes and what each leads to; ``resolve`` finds the most specific full match."""

    def __init__(self, routes: list[tuple[Route, Target]] | None = None) -> None:
        self._routes: list[tuple[Route, Target]] = []
        for route, target in routes or []:
            self.add(route, target)

    def add(self, route: Route, target: Target) -> None:
        self._routes.append((route, target))
        self._routes.sort(key=lambda item: item[0].specificity())

    def __len__(self) -> int:
        return len(self._routes)

    def resolve(self, method: str, path: str) -> tuple[Route, Target, dict[str, str]] | None:
        for route, target in self._routes:
            match, params = route.match(method, path)
            if match is Match.FULL:
                return route, target, params
        return None
