"""The ``emu`` command. The only place that prints errors and sets exit codes.

``emu up`` loads the config once, binds the router's port itself (so a busy port
is one clear line, not a traceback), and runs the app on uvicorn with httptools
and uvloop. Ctrl-C and SIGTERM stop every worker before it exits.
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from emulator import __version__, commands as record_commands, event_cli
from emulator.config import Project, find_config, load_project
from emulator.errors import ConfigError

if TYPE_CHECKING:
    from types import FrameType

    import uvicorn

    from emulator.execution.registry import Registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="emu", description="AWS Lambda and Google Cloud Functions, locally.")
    parser.add_argument("--version", action="version", version=f"emu {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="serve the functions in emu.yaml (or template.yaml)")
    up.add_argument("-c", "--config", type=Path, help="emu.yaml or a SAM template.yaml (default: found in the current folder)")
    up.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    up.add_argument("--port", type=int, default=9000, help="port to bind (default 9000; 0 picks a free one)")
    up.add_argument("--always-cold", action="store_true", help="give every invocation a fresh environment")
    up.add_argument("--no-watch", action="store_true", help="do not reload functions when their code or the config changes")
    event_cli.add_parser(commands)
    record_commands.add_parsers(commands)  # emu logs, emu stats, emu cost

    args = parser.parse_args(argv)
    if args.command == "up":
        return _up(args)
    if args.command == "event":
        return event_cli.run(args)
    if args.command in record_commands.NAMES:
        return record_commands.run(args)
    return 2


def _up(args: argparse.Namespace) -> int:
    try:
        path = args.config if args.config else find_config(Path.cwd())
        project = load_project(path)
    except ConfigError as exc:
        print(f"emu: {exc}", file=sys.stderr)
        return 2
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        print(f"emu: port {args.port} on {args.host} {reason}", file=sys.stderr)
        return 1
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"emu: warning: listening on {args.host}; anyone who can reach it can run your functions", file=sys.stderr)
    return _serve(project, sock, args)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _serve(project: Project, sock: socket.socket, args: argparse.Namespace) -> int:
    import uvicorn

    from emulator.app import EmuApp
    from emulator.backends import get_backend
    from emulator.banner import banner
    from emulator.console import Console
    from emulator.execution.registry import Registry
    from emulator.reload import NullReloader, Reloader
    from emulator.runtimes.venvs import default_cache_dir
    from emulator.server import RouterProtocol

    host, port = sock.getsockname()[:2]
    url = f"http://{host}:{port}" if ":" not in host else f"http://[{host}]:{port}"
    console = Console()
    registry = Registry(
        project,
        get_backend("process"),
        console,
        host_env=os.environ,
        endpoint_url=url,
        always_cold=args.always_cold,
        cache_dir=default_cache_dir(os.environ),  # $EMU_CACHE_DIR, read here once
    )
    reloader = NullReloader() if args.no_watch else Reloader(registry, console)
    app = EmuApp(registry, on_ready=lambda: console.info(banner(project, url)), reloader=reloader)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http=RouterProtocol,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
        server_header=False,
        date_header=False,
        proxy_headers=False,
    )
    server = _server(config, registry)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C once it has shut down; by then every worker is stopped
    console.flush()
    return 0


def _server(config: uvicorn.Config, registry: Registry) -> uvicorn.Server:
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # Stop the workers now: an invocation in flight would otherwise hold
            # graceful shutdown open for its whole timeout, then die mid-response.
            registry.stop_soon()

    return Server(config)


if __name__ == "__main__":
    raise SystemExit(main())
