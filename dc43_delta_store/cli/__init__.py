"""``dc43-delta-store``: the command line (commands, options, output, folder ingestion)."""

from .commands import cli, main
from .support import EXIT_CODES

__all__ = ["EXIT_CODES", "cli", "main"]
