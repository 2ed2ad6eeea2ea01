"""`dc43-delta-store serve` against dc43's own service, over HTTP, with a real load generator.

    python benchmarks/serve.py [--seconds 5] [--rounds 2] [--contracts 1000] [--clients 1,10,100]

Four servers on this machine, each one uvicorn worker with httptools and its access log
on, each holding the same contracts (``--contracts`` x 3 versions), all started at once and
taking turns within each measurement (``--rounds`` times, the median kept) so that a
machine shared with other work loads them alike:

- ``serve --dc43-config``: dc43's app built from a dc43 TOML naming a Delta table, this
  store in place of dc43's Spark one;
- ``serve --path``: this store's own contract routes on the same table;
- dc43 SQLite: ``uvicorn dc43_service_backends.webapp:app`` with ``[contract_store] type =
  "sql"`` on a SQLite file, exactly as dc43 deploys its service;
- dc43 filesystem: the same with ``type = "filesystem"``.

``wrk`` (installed with ``apt-get install -y wrk`` when missing) sends GET of a version, GET
latest and resolve (``/resolve?range=^1``; dc43 has no range route: its clients list the
versions, ``GET /contracts/{id}/versions``, then fetch one — the list is measured) for 200
contracts in turn, at 1, 10 and 100 connections: requests per second, p50 and p99. Then
GET latest again while one process per store publishes a new version of some other
contract every 100 ms (the Delta table's, dc43's SQLite's and its files'). Meanwhile a bare
asyncio loop measures how late this machine wakes a process: no p99 can be lower. Writes
``results/serve.json`` and ``results/serve.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import build_table, contract, contract_ids, machine, write_json

HERE = Path(__file__).parent
ROUTES = {
    "version": "/contracts/{id}/versions/1.1.0",
    "latest": "/contracts/{id}/latest",
    "resolve": "/contracts/{id}/resolve?range=%5E1",
}
DC43_RESOLVE = "/contracts/{id}/versions"  # what a dc43 client asks before choosing
SERVERS = ["serve --dc43-config", "serve --path", "dc43 sqlite", "dc43 filesystem"]
GOAL_RATIO = 5.0
GOAL_P99_MS = 20.0
PUBLISHED = [  # Apicurio issue 9887: 2 CPUs / 2 GiB, 100 clients, schema lookups by id
    ("Redpanda schema registry", 7700),
    ("Confluent schema registry", 6100),
    ("Apicurio registry", 5700),
    ("Karapace", 600),
]

PUBLISHER = """
import sys, time
sys.path.insert(0, {bench!r})
from common import contract
kind, where = {kind!r}, {where!r}
if kind == "delta":
    from dc43_delta_store import DeltaContractStore
    put = DeltaContractStore(path=where, validation="off").put
else:
    from open_data_contract_standard.model import OpenDataContractStandard
    if kind == "sqlite":
        from dc43_service_backends.contracts.backend.stores.sql import SQLContractStore, create_engine
        store = SQLContractStore(create_engine("sqlite:///" + where))
    else:
        from dc43_service_backends.contracts.backend.stores import FSContractStore
        store = FSContractStore(where)
    put = lambda document: store.put(OpenDataContractStandard.model_validate(document))
published, due = 0, time.monotonic()
while True:
    published += 1
    put(contract("busy.writer_%d" % (published % 50), "3.%d.0" % published))
    print(published, flush=True)
    due += 0.1
    time.sleep(max(0.0, due - time.monotonic()))
"""


PROBE = """
import asyncio, json, time
async def main():
    delays = []
    while True:
        begun = time.perf_counter()
        await asyncio.sleep(0.005)
        delays.append((time.perf_counter() - begun - 0.005) * 1000)
        if len(delays) % 200 == 0:
            ordered = sorted(delays)
            print(json.dumps({"p50": ordered[len(ordered) // 2], "p99": ordered[int(len(ordered) * 0.99)],
                              "max": ordered[-1], "n": len(ordered)}), flush=True)
asyncio.run(main())
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        sys.exit("error: wrk could not be installed; install it (Debian: apt-get install wrk)")
    return found


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the stores and servers ----------------------------------------------------------------


def prepare(root: Path, contracts: int) -> dict[str, Path]:
    """The same contracts (x 3 versions) in a Delta table, dc43's SQLite and its files."""
    from common import dc43_sqlite
    from dc43_service_backends.contracts.backend.stores import FSContractStore
    from open_data_contract_standard.model import OpenDataContractStandard

    ids = contract_ids(contracts)
    table = root / "delta"
    build_table(table, contracts, 3).optimize()
    dc43_sqlite(root / "dc43.db", ids, ["1.0.0", "1.1.0", "1.2.0"])
    files = FSContractStore(str(root / "files"))
    for contract_id in ids:
        for version in ("1.0.0", "1.1.0", "1.2.0"):
            files.put(OpenDataContractStandard.model_validate(contract(contract_id, version)))
    configs = {
        "delta.toml": f'[contract_store]\ntype = "delta"\nbase_path = "{table}"\n',
        "sqlite.toml": f'[contract_store]\ntype = "sql"\ndsn = "sqlite:///{root / "dc43.db"}"\n',
        "files.toml": f'[contract_store]\ntype = "filesystem"\nroot = "{root / "files"}"\n',
    }
    for name, text in configs.items():
        (root / name).write_text(text, encoding="utf-8")
    return {"table": table, "sqlite": root / "dc43.db", "files": root / "files"}


def start(server: str, root: Path, port: int) -> subprocess.Popen[bytes]:
    python = sys.executable
    if server == "serve --dc43-config":
        command = [
            python,
            "-m",
            "dc43_delta_store",
            "serve",
            "--dc43-config",
            str(root / "delta.toml"),
        ]
    elif server == "serve --path":
        command = [python, "-m", "dc43_delta_store", "--path", str(root / "delta"), "serve"]
    else:
        command = [
            python,
            "-m",
            "uvicorn",
            "dc43_service_backends.webapp:app",
            "--http",
            "httptools",
        ]
    env = dict(os.environ)
    if server.startswith("dc43"):
        config = "sqlite.toml" if server == "dc43 sqlite" else "files.toml"
        env["DC43_SERVICE_BACKENDS_CONFIG"] = str(root / config)
    log = (root / f"{server.replace(' ', '_').replace('-', '')}.log").open("ab")
    return subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=root,  # dc43's webapp creates ./contracts on import
        env=env,
        stdout=log,
        stderr=log,
    )


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout} s")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# -- the load ------------------------------------------------------------------------------


def script(root: Path, template: str, ids: list[str]) -> Path:
    paths = ",\n".join(f'  "{template.format(id=i)}"' for i in ids)
    path = root / f"paths_{abs(hash(template))}.lua"
    path.write_text(
        f"local paths = {{\n{paths}\n}}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        '  return wrk.format("GET", paths[(n % #paths) + 1])\nend\n',
        encoding="utf-8",
    )
    return path


def load(wrk: str, url: str, lua: Path, clients: int, seconds: float) -> dict[str, Any]:
    threads = min(clients, 2)
    out = subprocess.run(
        [wrk, f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--latency", "--timeout", "10s",
         "-s", str(lua), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return parse_wrk(out)


def parse_wrk(text: str) -> dict[str, Any]:
    """Requests per second, p50/p99 (ms), non-2xx answers and socket errors of a wrk run.

    >>> parse_wrk("  50%  120.00us\\n  99%    2.50ms\\nRequests/sec:   1234.5\\n")["p99_ms"]
    2.5
    """

    def ms(value: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    found: dict[str, Any] = {"non_2xx": 0, "socket_errors": 0}
    for line in text.splitlines():
        line = line.strip()
        if m := re.match(r"(50|99)%\s+(\S+)", line):
            found[f"p{m.group(1)}_ms"] = round(ms(m.group(2)), 3)
        elif line.startswith("Requests/sec:"):
            found["rps"] = round(float(line.split()[1]), 1)
        elif line.startswith("Non-2xx"):
            found["non_2xx"] = int(line.split()[-1])
        elif line.startswith("Socket errors:"):
            found["socket_errors"] = sum(int(n) for n in re.findall(r"\d+", line))
    return found


def measure(
    wrk: str, root: Path, stores: dict[str, Path], ids: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    """Every cell for every server, the servers taking turns within each cell (``--rounds``
    times; the median kept), so that they meet the same background load."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    urls: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    try:
        for server in args.servers:
            port = free_port()
            urls[server] = f"http://127.0.0.1:{port}"
            processes[server] = start(server, root, port)
        scripts: dict[str, dict[str, Path]] = {}
        for server, url in urls.items():
            wait_until_up(url + ROUTES["latest"].format(id=ids[0]), processes[server])
            dc43 = server.startswith("dc43")
            scripts[server] = {
                route: script(root, DC43_RESOLVE if dc43 and route == "resolve" else template, ids)
                for route, template in ROUTES.items()
            }
            load(wrk, url, scripts[server]["latest"], 10, 2)  # warm up
        for route in ROUTES:
            for clients in args.clients:
                rows += cell(wrk, urls, scripts, route, clients, False, args)
        publishers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    PUBLISHER.format(bench=str(HERE), kind=kind, where=str(where)),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for kind, where in (
                ("delta", stores["table"]),
                ("sqlite", stores["sqlite"]),
                ("files", stores["files"]),
            )
        ]
        try:
            for publisher in publishers:
                publisher.stdout.readline()  # type: ignore[union-attr]  # its first publish is done
            begun = time.monotonic()
            for clients in args.clients:
                rows += cell(wrk, urls, scripts, "latest", clients, True, args)
            elapsed = time.monotonic() - begun
        finally:
            for publisher in publishers:
                stop(publisher)
        rates = [sum(1 for _ in p.stdout) / elapsed for p in publishers if p.stdout]
        for row in rows:
            if row["busy"]:
                row["publishes_per_second"] = round(min(rates), 1)
    finally:
        for process in processes.values():
            stop(process)
    return rows


def cell(
    wrk: str,
    urls: dict[str, str],
    scripts: dict[str, dict[str, Path]],
    route: str,
    clients: int,
    busy: bool,
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = {server: [] for server in urls}
    for _ in range(args.rounds):
        for server, url in urls.items():
            runs[server].append(load(wrk, url, scripts[server][route], clients, args.seconds))
    rows = []
    for server, results in runs.items():
        middle = {
            key: statistics.median(r.get(key, 0) for r in results)
            for key in ("rps", "p50_ms", "p99_ms")
        }
        errors = {key: sum(r.get(key, 0) for r in results) for key in ("non_2xx", "socket_errors")}
        row = {
            "server": server,
            "route": route,
            "clients": clients,
            "busy": busy,
            **middle,
            **errors,
        }
        row["rounds"] = results
        rows.append(row)
        label = f"{route}{', busy' if busy else ''}"
        print(f"  {server:20} {label:14} {clients:4} clients: {_shown(row)}", flush=True)
    return rows


def _shown(result: dict[str, Any]) -> str:
    errors = f", {result['non_2xx']} non-2xx" if result.get("non_2xx") else ""
    return f"{result.get('rps', 0):9.1f} req/s  p50 {result.get('p50_ms', 0):7.2f} ms  p99 {result.get('p99_ms', 0):8.2f} ms{errors}"


# -- the report ----------------------------------------------------------------------------


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    def find(server: str, route: str, clients: int, busy: bool = False) -> dict[str, Any]:
        return next(
            (
                r
                for r in rows
                if (r["server"], r["route"], r["clients"], r["busy"])
                == (server, route, clients, busy)
            ),
            {},
        )

    goals = []
    for server in ("serve --dc43-config", "serve --path"):
        for busy in (False, True):
            for clients in args.clients:
                ours = find(server, "latest", clients, busy).get("rps")
                theirs = find("dc43 sqlite", "latest", clients, busy).get("rps")
                ratio = round(ours / theirs, 1) if ours and theirs else None
                goals.append({"goal": f"{server} GET latest vs dc43 SQLite, {clients} clients{', busy' if busy else ''}",
                              "measured": ratio, "target": f">= {GOAL_RATIO:g}x",
                              "met": ratio is not None and ratio >= GOAL_RATIO})  # fmt: skip
            p99 = find(server, "latest", 100, busy).get("p99_ms")
            goals.append({"goal": f"{server} GET latest p99 at 100 clients{', busy' if busy else ''}",
                          "measured": p99, "target": f"<= {GOAL_P99_MS:g} ms",
                          "met": p99 is not None and p99 <= GOAL_P99_MS})  # fmt: skip
    noise = args.noise
    lines = [
        "# serve against dc43's own service",
        "",
        f"`python benchmarks/serve.py` on {machine()}, {os.cpu_count()} CPUs shared with other "
        f"work (load average {args.load[0]} at the start, {args.load[1]} at the end); "
        f"{args.contracts} contracts x 3 versions, 200 asked in turn; wrk, {args.seconds:g} s per "
        f"run, the servers taking turns, median of {args.rounds} runs; one uvicorn worker each, "
        "access log on. Meanwhile a bare asyncio loop asking to "
        f"wake every 5 ms woke late by {noise.get('p50', 0):.2f} ms at the median, "
        f"{noise.get('p99', 0):.1f} ms at p99 and {noise.get('max', 0):.0f} ms at worst: no server "
        "here can have a p99 below that.",
        "",
    ]
    for route in ("version", "latest", "resolve"):
        lines += [
            f"## GET {route}" + (" (dc43: the versions list)" if route == "resolve" else ""),
            "",
        ]
        lines += _table(rows, route, False, args.clients)
    lines += ["## GET latest while another process publishes every 100 ms", ""]
    lines += _table(rows, "latest", True, args.clients)
    lines += ["## Goals", "", "| goal | measured | target | met |", "|---|---|---|---|"]
    lines += [
        f"| {g['goal']} | {g['measured']} | {g['target']} | {'yes' if g['met'] else 'NO'} |"
        for g in goals
    ]
    lines += [
        "",
        "## Published figures of other registries (not measured here)",
        "",
        "From Apicurio issue 9887: 2 CPUs / 2 GiB, 100 clients, schema lookups by id, their own",
        "load generator and hardware — not comparable one to one with the figures above (other",
        "machine, payloads of other sizes, no other process sharing the CPUs):",
        "",
        "| registry | requests/s |",
        "|---|---|",
        *[f"| {name} | ~{rps:,} |" for name, rps in PUBLISHED],
        "",
    ]
    return {
        "machine": machine(),
        "rows": rows,
        "goals": goals,
        "published": dict(PUBLISHED),
    }, "\n".join(lines)


def _table(rows: list[dict[str, Any]], route: str, busy: bool, levels: list[int]) -> list[str]:
    lines = ["| clients | " + " | ".join(SERVERS) + " |", "|---|" + "---|" * len(SERVERS)]
    for clients in levels:
        cells = []
        for server in SERVERS:
            row = next(
                (
                    r
                    for r in rows
                    if (r["server"], r["route"], r["clients"], r["busy"])
                    == (server, route, clients, busy)
                ),
                None,
            )
            cells.append(
                "-"
                if row is None
                else f"{row.get('rps', 0):,.0f}/s, p50 {row.get('p50_ms', 0):.2f} ms, p99 {row.get('p99_ms', 0):.1f} ms"
            )
        lines.append(f"| {clients} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--contracts", type=int, default=1000)
    parser.add_argument(
        "--clients", type=lambda s: [int(n) for n in s.split(",")], default=[1, 10, 100]
    )
    parser.add_argument("--servers", type=lambda s: s.split(","), default=SERVERS)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serve.json")
    args = parser.parse_args()
    wrk = ensure_wrk()
    ids = contract_ids(args.contracts)[:: max(1, args.contracts // 200)][:200]
    rows: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        started = time.monotonic()
        stores = prepare(root, args.contracts)
        print(f"stores ready in {time.monotonic() - started:.0f} s; {machine()}", flush=True)
        # how late a bare asyncio loop wakes on this machine meanwhile: the floor of any p99
        probe = subprocess.Popen([sys.executable, "-c", PROBE], stdout=subprocess.PIPE, text=True)
        try:
            rows = measure(wrk, root, stores, ids, args)
        finally:
            stop(probe)
        lines = [line for line in probe.stdout or [] if line.strip()]
        noise = json.loads(lines[-1]) if lines else {}
    args.noise = {k: round(v, 2) for k, v in noise.items()}
    args.load = (round(load_before, 1), round(os.getloadavg()[0], 1))
    results, markdown = report(rows, args)
    write_json(args.out, results)
    args.out.with_suffix(".md").write_text(markdown, encoding="utf-8")
    print(markdown)


if __name__ == "__main__":
    main()
