"""`serve` on a port that is taken stops before it writes anything."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.support import assert_explained, run_cli
from tests.support.server import free_port


def test_serve_on_a_busy_port_stops_before_it_migrates_or_prints_a_key(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(tmp_path, "serve", "--port", str(port))
    assert_explained(result, 3, f"Port {port} on 127.0.0.1 is in use", "--port")
    assert list(tmp_path.iterdir()) == [], "no database, no migration, no demo bank"


def test_serve_on_an_address_not_of_this_machine(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "serve", "--host", "192.0.2.1", "--port", str(free_port()))
    assert_explained(result, 2, "192.0.2.1 is not an address of this machine", "--host")
    assert list(tmp_path.iterdir()) == []
