"""The ``serve`` command itself: its errors in one line, graceful shutdown on SIGTERM, one
access-log line per request (never a token), several workers on one port."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from dc43_delta_store.cli import cli

from .conftest import minimal
from .serving import cli_server


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_without_the_serve_extra_it_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    blocked = (
        "import sys; sys.modules['fastapi'] = None; sys.argv = ['dc43-delta-store', '--path', "
        f"{str(tmp_path / 't')!r}, 'serve']; from dc43_delta_store.cli import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", blocked], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert (
        done.stderr
        == "error: 'serve' needs fastapi, which is not installed: pip install 'dc43-delta-store[serve]'\n"
    )
    listed = subprocess.run(  # the other commands do not need it
        [sys.executable, "-c", blocked.replace("'serve'", "'--help'")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0 and "serve" in listed.stdout


def test_usage_errors(tmp_path: Path) -> None:
    code, output = run_cli("serve")
    assert (
        code == 2
        and "give the table: --table or --path before 'serve', or --dc43-config FILE" in output
    )
    config = tmp_path / "dc43.toml"
    config.write_text('[contract_store]\ntype = "delta"\nbase_path = "x"\n', encoding="utf-8")
    code, output = run_cli("--path", str(tmp_path / "t"), "serve", "--dc43-config", str(config))
    assert code == 2 and "give --dc43-config or the table" in output
    code, output = run_cli("serve", "--dc43-config", str(tmp_path / "missing.toml"))
    assert (
        code == 2
        and output == f"error: dc43 configuration {tmp_path / 'missing.toml'} does not exist\n"
    )
    (tmp_path / "tokens").write_text("admin s3cret-value\n", encoding="utf-8")
    code, output = run_cli(
        "--path", str(tmp_path / "t"), "serve", "--tokens-file", str(tmp_path / "tokens")
    )
    assert code == 2 and "line 1: expected 'read TOKEN' or 'write TOKEN'" in output
    assert "s3cret-value" not in output


def test_sigterm_ends_long_polls_and_stops_cleanly_with_one_log_line_per_request(
    tmp_path: Path,
) -> None:
    table = tmp_path / "t"
    env = {"DC43_DELTA_STORE_WRITE_TOKENS": "secret-writer-token"}
    with cli_server(
        ["--path", str(table), "serve", "--graceful-timeout", "20"], env=env, cwd=tmp_path
    ) as server:
        auth = {"Authorization": "Bearer secret-writer-token"}
        assert (
            httpx.put(
                server.url + "/contracts/sales.orders/versions/1.0.0", json=minimal(), headers=auth
            ).status_code
            == 204
        )
        assert httpx.get(server.url + "/contracts/sales.orders/latest").status_code == 200
        assert httpx.get(server.url + "/contracts/sales.orders/versions/9.9.9").status_code == 404
        cursor = httpx.get(server.url + "/changes").json()["cursor"]
        answers: list[httpx.Response] = []
        waiting = threading.Thread(
            target=lambda: answers.append(
                httpx.get(server.url + f"/changes?since={cursor}&wait=60", timeout=90)
            )
        )
        waiting.start()
        time.sleep(1.5)  # the long-poll is waiting on the server
        stopping = time.monotonic()
        code = server.stop()
        waiting.join(timeout=30)
        assert code == 0 and time.monotonic() - stopping < 15  # not the 60 s it asked for
    assert answers and answers[0].status_code == 200 and answers[0].json()["events"] == []
    log = server.stderr()
    assert "secret-writer-token" not in log
    lines = [line for line in log.splitlines() if re.search(r'"(GET|PUT) /', line)]
    assert len(lines) == 6  # the health probe, put, latest, 404, changes, the long-poll
    assert re.search(
        r'"PUT /contracts/sales.orders/versions/1.0.0 HTTP/1.1" 204 0 [\d.]+ms$', lines[1]
    )
    assert re.search(
        r'"GET /contracts/sales.orders/versions/9.9.9 HTTP/1.1" 404 \d+ [\d.]+ms$', lines[3]
    )


def test_several_workers_serve_one_port(tmp_path: Path) -> None:
    table = tmp_path / "t"
    env = {"DC43_DELTA_STORE_WRITE_TOKENS": "w"}
    with cli_server(
        ["--path", str(table), "serve", "--workers", "2"], env=env, cwd=tmp_path
    ) as server:
        assert (
            httpx.put(
                server.url + "/contracts/sales.orders/versions/1.0.0",
                json=minimal(),
                headers={"Authorization": "Bearer w"},
            ).status_code
            == 204
        )
        deadline = time.monotonic() + 90
        while server.stderr().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, server.stderr()
            time.sleep(0.2)
        for _ in range(20):  # new connections, spread over both workers
            assert (
                httpx.get(server.url + "/contracts/sales.orders/versions/1.0.0").status_code == 200
            )
        assert len(set(re.findall(r"Started server process \[(\d+)\]", server.stderr()))) == 2
    assert server.process.returncode == 0
