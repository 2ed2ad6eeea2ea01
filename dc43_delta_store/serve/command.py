"""``dc43-delta-store serve``: the contract service over HTTP (needs the ``serve`` extra).

This module imports only click and the command line's support: FastAPI and uvicorn are
imported when the command runs, so that the command line works without the extra and
``serve`` says in one line what to install.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..cli.support import EXIT_CODES, Context, pass_context

__all__ = ["serve"]

_NEEDED = {
    "fastapi": "dc43-delta-store[serve]",
    "uvicorn": "dc43-delta-store[serve]",
    "httptools": "dc43-delta-store[serve]",
}


@click.command()
@click.option(
    "--dc43-config",
    type=click.Path(dir_okay=False),
    help="dc43's service configuration (TOML): serve dc43's app with this store as its "
    'contract store ([contract_store] type = "delta").',
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--read-only", is_flag=True, help="Refuse every write route with 403.")
@click.option(
    "--tokens-file",
    envvar="DC43_DELTA_STORE_TOKENS_FILE",
    type=click.Path(dir_okay=False),
    help="Bearer tokens, one 'read TOKEN' or 'write TOKEN' per line "
    "(also DC43_DELTA_STORE_READ_TOKENS / DC43_DELTA_STORE_WRITE_TOKENS).",
)
@click.option(
    "--validation",
    type=click.Choice(["strict", "warn", "off"]),
    default="warn",
    show_default=True,
    help="ODCS JSON-Schema policy for writes.",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.001, 3600),
    help="Seconds between looks for other writers' commits [0.05 local, 1 object stores].",
)
@click.option("--max-body-bytes", type=click.IntRange(1024), default=4 * 2**20, show_default=True)
@click.option("--graceful-timeout", type=click.FloatRange(0, 3600), default=10.0, show_default=True)
@click.option("--no-access-log", is_flag=True, help="Do not log a line per request.")
@pass_context
def serve(
    context: Context,
    dc43_config: str | None,
    host: str,
    port: int,
    workers: int,
    read_only: bool,
    tokens_file: str | None,
    validation: str,
    poll_interval: float | None,
    max_body_bytes: int,
    graceful_timeout: float,
    no_access_log: bool,
) -> None:
    """Serve the contracts over HTTP: dc43's routes and resolve, diff, check, changes.

    Give the table (--table/--path before 'serve'), or --dc43-config to run dc43's own
    service configuration on this store, without Spark. Writes need a write token (or,
    with --dc43-config, none when dc43's configuration has no [auth] token, as in dc43).
    """
    _require_extra(dc43=dc43_config is not None)
    from .server import run
    from .settings import Limits, ServeSettings

    if dc43_config is not None and (context.table or context.path):
        raise click.UsageError(
            "give --dc43-config or the table (--table/--path or DC43_DELTA_STORE_*), not both"
        )
    if dc43_config is None and not (context.table or context.path):
        raise click.UsageError(
            "give the table: --table or --path before 'serve', or --dc43-config FILE"
        )
    settings = ServeSettings(
        table=context.table,
        path=context.path,
        warehouse=context.warehouse,
        storage_options=dict(context.storage_options),
        dc43_config=dc43_config,
        validation=validation,  # type: ignore[arg-type]
        read_only=read_only,
        tokens_file=tokens_file,
        host=host,
        port=port,
        workers=workers,
        poll_interval=poll_interval,
        graceful_timeout=graceful_timeout,
        access_log=not no_access_log,
        limits=Limits(max_body_bytes=max_body_bytes),
    )
    from .app import app_from_settings

    app, description = app_from_settings(settings)  # refuses a bad setup before listening
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving {description}; on http://{shown}:{port}", err=True)
    run(settings, app if workers == 1 else None)


def _require_extra(*, dc43: bool) -> None:
    needed = dict(_NEEDED)
    if dc43:
        needed["dc43_service_backends"] = "dc43-service-backends[http]"
    for module, package in needed.items():
        try:
            importlib.import_module(module)
        except ImportError:
            click.echo(
                f"error: 'serve' needs {module}, which is not installed: pip install '{package}'",
                err=True,
            )
            sys.exit(EXIT_CODES["usage"])
