"""Hot reload's rules with plain data: what is ignored, what a change touches, bursts, what is watched."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from emulator.reload import Change, Debouncer, Scope, forget_bytecode, is_ignored, plan_watches

# -- ignore rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "__pycache__/app.cpython-311.pyc",
        "pkg/__pycache__",
        "app.pyc",
        "app.pyo",
        ".git/HEAD",
        ".git/objects/ab/cdef0123",
        ".hg/store/data",
        "node_modules/left-pad/index.js",
        "node_modules/pkg/sub/code.py",
        ".venv/lib/python3.11/site-packages/requests/api.py",
        "venv/bin/activate",
        ".emu/buckets/photos/cat.jpg",
        ".pytest_cache/v/cache/nodeids",
        "server.log",
        "logs/today.log",
        ".app.py.swp",
        ".app.py.swo",
        "app.py~",
        ".#app.py",
        "#app.py#",
        "4913",
        "app.py___jb_tmp___",
        ".DS_Store",
        "env/pyvenv.cfg",
    ],
)
def test_ignored(path: str) -> None:
    assert is_ignored(PurePath(path))


@pytest.mark.parametrize(
    "path",
    ["app.py", "pkg/module.py", "requirements.txt", "bootstrap", "templates/page.html", ".env", "config.json",
     "gitignore_me.py", "my_venv_helpers.py", "logger.py", "#", "data/.gitkeep"],
)
def test_not_ignored(path: str) -> None:
    assert not is_ignored(PurePath(path))


# -- what a change touches ----------------------------------------------------------

ROOT = Path("/project")


def scope() -> Scope:
    return Scope(
        code={
            ROOT / "hello": frozenset({"hello"}),
            ROOT / "shared": frozenset({"one", "two"}),  # two functions, one code directory
            ROOT / "shared" / "inner": frozenset({"inner"}),  # nested in another's code
        },
        config=frozenset({ROOT / "emu.yaml", ROOT / ".env"}),
    )


@pytest.mark.parametrize(
    "path, functions",
    [
        ("hello/app.py", {"hello"}),
        ("hello/pkg/deep/mod.py", {"hello"}),
        ("shared/app.py", {"one", "two"}),
        ("shared/inner/app.py", {"one", "two", "inner"}),
        ("hello/__pycache__/app.cpython-311.pyc", set()),
        ("hello/node_modules/x/index.js", set()),
        ("shared/.git/index", set()),
        ("hello2/app.py", set()),  # a sibling whose name starts the same is not inside
        ("other/app.py", set()),
        ("emu.yaml", set()),
    ],
)
def test_route_to_the_functions_whose_code_holds_the_path(path: str, functions: set[str]) -> None:
    assert scope().route(ROOT / path).functions == functions


def test_route_names_the_python_sources_that_changed() -> None:
    assert scope().route(ROOT / "hello" / "app.py").modules == {ROOT / "hello" / "app.py"}
    assert scope().route(ROOT / "hello" / "data.json").modules == frozenset()
    assert scope().route(ROOT / "hello" / "__pycache__" / "app.py").modules == frozenset()
    both = scope().route(ROOT / "hello" / "app.py") | scope().route(ROOT / "shared" / "x.py")
    assert both == Change(frozenset({"hello", "one", "two"}), modules=frozenset({ROOT / "hello" / "app.py", ROOT / "shared" / "x.py"}))


def test_route_the_config_and_its_env_file() -> None:
    assert scope().route(ROOT / "emu.yaml") == Change(config=True)
    assert scope().route(ROOT / ".env") == Change(config=True)
    assert scope().route(ROOT / "emu.yaml.tmp") == Change()
    assert not scope().route(ROOT / "README.md")


def test_a_directory_coming_or_going_in_a_code_tree_is_a_layout_change() -> None:
    assert scope().route(ROOT / "hello" / "pkg", is_dir_event=True) == Change(frozenset({"hello"}), layout=True)
    # Ignored, but its watches may need pruning all the same.
    assert scope().route(ROOT / "hello" / "node_modules", is_dir_event=True) == Change(layout=True)
    assert scope().route(ROOT / "docs", is_dir_event=True) == Change()


def test_scope_of_a_project(tmp_path: Path) -> None:
    from emulator.config.model import FunctionSpec, Project, Settings

    code = tmp_path / "src"
    specs = {
        name: FunctionSpec(name=name, provider="aws", runtime="python3.11", handler="app.handler", code=code)
        for name in ("a", "b")
    }
    env_file = tmp_path / ".env"
    project = Project(path=tmp_path / "emu.yaml", settings=Settings(env_file=env_file), functions=specs)
    assert Scope.of(project) == Scope(
        {code: frozenset({"a", "b"})}, frozenset({tmp_path / "emu.yaml", env_file}), tmp_path / ".emu" / "buckets"
    )


def test_objects_in_a_bucket_folder_inside_a_code_folder_are_not_code() -> None:
    buckets = ROOT / "hello" / "buckets"
    with_buckets = Scope(scope().code, scope().config, buckets)
    assert scope().route(buckets / "photos" / "cat.py").functions == {"hello"}
    assert with_buckets.route(buckets / "photos" / "cat.py") == Change()
    assert with_buckets.route(buckets, is_dir_event=True) == Change()
    assert with_buckets.route(ROOT / "hello" / "app.py").functions == {"hello"}


# -- bursts ---------------------------------------------------------------------------

A = Change(frozenset({"a"}))
B = Change(frozenset({"b"}))


def test_a_burst_is_taken_once_quiet() -> None:
    d = Debouncer(quiet=0.1, longest=1.0)
    assert d.add(A, now=10.0) is True  # opens the burst: the caller arms a timer
    assert d.add(A, now=10.02) is False
    assert d.add(B, now=10.05) is False
    assert d.due() == pytest.approx(10.15)
    assert d.take(now=10.1) is None  # not quiet yet
    assert d.take(now=10.15) == Change(frozenset({"a", "b"}))
    assert d.due() is None and d.take(now=20.0) is None


def test_five_quick_saves_are_one_burst() -> None:
    d = Debouncer(quiet=0.075, longest=1.0)
    opened = [d.add(A, now=5.0 + i * 0.01) for i in range(5)]
    assert opened == [True, False, False, False, False]
    assert d.take(now=5.04 + 0.075) == A
    assert d.add(A, now=6.0) is True  # the next save is a new burst


def test_a_change_that_never_stops_is_still_taken() -> None:
    d = Debouncer(quiet=0.1, longest=1.0)
    t = 0.0
    d.add(A, now=t)
    while t < 0.95:
        t += 0.05
        d.add(A, now=t)
        assert d.take(now=t) is None
    assert d.due() == pytest.approx(1.0)
    assert d.take(now=1.0) == A


def test_nothing_to_reload_opens_no_burst() -> None:
    d = Debouncer()
    assert d.add(Change(), now=1.0) is False
    assert d.due() is None


def test_config_and_layout_are_carried_through_a_burst() -> None:
    d = Debouncer(quiet=0.1)
    d.add(A, now=0.0)
    d.add(Change(config=True), now=0.01)
    d.add(Change(layout=True), now=0.02)
    assert d.take(now=1.0) == Change(frozenset({"a"}), config=True, layout=True)


# -- stale bytecode -------------------------------------------------------------------


def test_an_edited_modules_bytecode_is_forgotten(tmp_path: Path) -> None:
    import importlib.util
    import py_compile

    app = tmp_path / "app.py"
    app.write_text("VERSION = 1\n")
    other = tmp_path / "application.py"
    other.write_text("")
    compiled = [Path(py_compile.compile(str(path), cfile=importlib.util.cache_from_source(str(path)))) for path in (app, other)]
    foreign = tmp_path / "__pycache__" / "app.cpython-399.pyc"  # another interpreter's cache of the same module
    foreign.write_bytes(b"")

    forget_bytecode([app, tmp_path / "never_compiled.py"])
    assert not compiled[0].exists() and not foreign.exists()
    assert compiled[1].exists()  # only the edited module's


# -- what is watched (real directories, no watcher) ---------------------------------------


def make(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("")


def test_a_clean_code_tree_is_one_recursive_watch(tmp_path: Path) -> None:
    make(tmp_path, "hello/app.py", "hello/pkg/mod.py", "hello/pkg/__pycache__/mod.cpython-311.pyc", "emu.yaml")
    watches = plan_watches(Scope({tmp_path / "hello": frozenset({"hello"})}, frozenset({tmp_path / "emu.yaml"})))
    assert watches == {tmp_path / "hello": True, tmp_path: False}


def test_venvs_dependencies_and_vcs_are_not_watched(tmp_path: Path) -> None:
    make(
        tmp_path,
        "emu.yaml", "app.py", "src/handler.py", "src/lib/util.py", "tests/test_app.py",
        ".git/HEAD", ".venv/pyvenv.cfg", ".venv/lib/site.py", "node_modules/x/index.js", ".emu/buckets/b/k",
        "tools/myenv/pyvenv.cfg", "tools/myenv/lib/site.py", "tools/build.py",
    )
    watches = plan_watches(Scope({tmp_path: frozenset({"app"})}, frozenset({tmp_path / "emu.yaml"})))
    assert watches == {
        tmp_path: False,  # a pruned directory below: watched on its own
        tmp_path / "src": True,
        tmp_path / "tests": True,
        tmp_path / "tools": False,
    }


def test_nested_and_shared_code_dirs_are_watched_once(tmp_path: Path) -> None:
    make(tmp_path, "emu.yaml", "src/app.py", "src/inner/app.py")
    s = Scope(
        {tmp_path / "src": frozenset({"a"}), tmp_path / "src" / "inner": frozenset({"b"})},
        frozenset({tmp_path / "emu.yaml"}),
    )
    assert plan_watches(s) == {tmp_path / "src": True, tmp_path: False}


def test_the_config_directory_inside_a_code_tree_needs_no_watch_of_its_own(tmp_path: Path) -> None:
    make(tmp_path, "emu.yaml", "app.py")
    s = Scope({tmp_path: frozenset({"a"})}, frozenset({tmp_path / "emu.yaml"}))
    assert plan_watches(s) == {tmp_path: True}


def test_a_missing_code_dir_is_not_watched(tmp_path: Path) -> None:
    make(tmp_path, "emu.yaml")
    s = Scope({tmp_path / "gone": frozenset({"a"})}, frozenset({tmp_path / "emu.yaml"}))
    assert plan_watches(s) == {tmp_path: False}
