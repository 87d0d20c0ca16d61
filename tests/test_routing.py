"""Route matching from plain data: one route's NONE / PARTIAL / FULL, then the table's choice."""

from __future__ import annotations

import pytest

from emulator.routing import Match, Route, RouteTable


@pytest.mark.parametrize(
    ("route", "method", "path", "match", "params"),
    [
        (Route("GET", "/items"), "GET", "/items", Match.FULL, {}),
        (Route("get", "/items"), "GET", "/items/", Match.FULL, {}),  # one trailing slash is ignored
        (Route("GET", "/items"), "POST", "/items", Match.PARTIAL, {}),
        (Route("GET", "/items"), "GET", "/item", Match.NONE, {}),
        (Route("GET", "/items"), "GET", "/items/1", Match.NONE, {}),
        (Route("ANY", "/items"), "DELETE", "/items", Match.FULL, {}),
        (Route("GET", "/"), "GET", "/", Match.FULL, {}),
        (Route("GET", "/"), "GET", "/x", Match.NONE, {}),
        (Route("GET", "/items/{id}"), "GET", "/items/42", Match.FULL, {"id": "42"}),
        (Route("GET", "/items/{id}"), "GET", "/items/a%20b", Match.FULL, {"id": "a b"}),
        (Route("GET", "/items/{id}"), "GET", "/items/a%2Fb", Match.FULL, {"id": "a/b"}),  # %2F stays in its segment
        (Route("GET", "/items/{id}"), "GET", "/items", Match.NONE, {}),
        (Route("GET", "/items/{id}"), "GET", "/items//", Match.NONE, {}),
        (Route("GET", "/items/{id}"), "GET", "/items/1/2", Match.NONE, {}),
        (Route("GET", "/a/{x}/c/{y}"), "GET", "/a/1/c/2", Match.FULL, {"x": "1", "y": "2"}),
        (Route("ANY", "/files/{path+}"), "PUT", "/files/a/b/c.txt", Match.FULL, {"path": "a/b/c.txt"}),
        (Route("ANY", "/files/{path+}"), "PUT", "/files/a", Match.FULL, {"path": "a"}),
        (Route("ANY", "/files/{path+}"), "PUT", "/files", Match.NONE, {}),
        (Route("ANY", "/files/{path+}"), "PUT", "/files/", Match.NONE, {}),
        (Route("ANY", "/{proxy+}"), "GET", "/", Match.NONE, {}),
        (Route("GET", "/{proxy+}"), "POST", "/x", Match.PARTIAL, {}),
        (Route("ANY", "$default"), "PATCH", "/anything/at/all", Match.FULL, {}),
        (Route("ANY", "$default"), "GET", "/", Match.FULL, {}),
    ],
)
def test_one_route(route, method, path, match, params):
    assert route.match(method, path) == (match, params)


ROUTES = [
    (Route("ANY", "$default"), "default"),
    (Route("ANY", "/{proxy+}"), "root proxy"),
    (Route("ANY", "/items/{id}"), "any item"),
    (Route("GET", "/items/{id}"), "get item"),
    (Route("GET", "/items/special"), "special"),
    (Route("GET", "/items/{id}/{rest+}"), "item tail"),
    (Route("GET", "/{kind}/special"), "kind special"),
    (Route("GET", "/"), "index"),
]


@pytest.mark.parametrize(
    ("method", "path", "target", "params"),
    [
        ("GET", "/items/7", "get item", {"id": "7"}),  # a method beats ANY
        ("POST", "/items/7", "any item", {"id": "7"}),
        ("GET", "/items/special", "special", {}),  # a literal beats a parameter
        ("GET", "/things/special", "kind special", {"kind": "things"}),
        ("GET", "/items/7/a/b", "item tail", {"id": "7", "rest": "a/b"}),  # a parameter beats a greedy one
        ("POST", "/items/7/a/b", "root proxy", {"proxy": "items/7/a/b"}),
        ("GET", "/", "index", {}),
        ("POST", "/", "default", {}),  # $default only when nothing else matches
    ],
)
def test_most_specific_route_wins(method, path, target, params):
    # The order routes are added in must not matter.
    for routes in (ROUTES, ROUTES[::-1]):
        found = RouteTable(routes).resolve(method, path)
        assert found is not None
        assert (found[1], found[2]) == (target, params)


def test_no_route_and_wrong_method():
    table = RouteTable([(Route("GET", "/items/{id}"), "item")])
    assert table.resolve("GET", "/nope") is None
    assert table.resolve("DELETE", "/items/1") is None
    assert len(table) == 1 and len(RouteTable()) == 0
