"""`tawazun serve`: the browser workbench on a local port."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import typer

from tawazun.cli.common import user_errors
from tawazun.cli.app import app
from tawazun.errors import InputError

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """A one-line error instead of a server log traceback when the port is taken."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host: cannot resolve {host!r}: {exc.strerror}") from None
    family, _, _, _, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            raise InputError(f"--port: cannot listen on {host}:{port}: {exc.strerror}") from None


@app.command()
@user_errors
def serve(
    workspace: Path = typer.Option(Path("tawazun-workspace"), "--workspace", "-w",
                                   help="Folder of arenas/, history/, sources/ and runs.sqlite (created if new)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback by default)."),
    port: int = typer.Option(8050, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Start the browser workbench: arenas, edits, runs and comparisons (http://127.0.0.1:8050)."""
    import uvicorn

    from tawazun.web.app import create_app

    if workspace.exists() and not workspace.is_dir():
        raise InputError(f"--workspace: {workspace} is not a folder")
    loopback = is_loopback(host)
    if not loopback:
        typer.echo(f"warning: listening on {host}: the workbench has no login; anyone who can reach "
                   f"this address can read and edit the arenas.", err=True)
    # On loopback, refuse other Host headers (a guard against DNS rebinding).
    allowed = ["127.0.0.1", "localhost", "::1", "[::1]"] if loopback else None
    check_port(host, port)
    web_app = create_app(workspace, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"tawazun workbench: http://{shown}:{port}/  (workspace {workspace.resolve()}; Ctrl-C to stop)")
    uvicorn.run(web_app, host=host, port=port, log_level="warning")
