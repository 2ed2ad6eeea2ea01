"""Standard output that is closed, full or a pipe whose reader left.

A reader that stops early (``... | head``), or stdout closed (``>&-``), ends the command
quietly: what was asked is done, and there is nobody to tell. A full disk (``> /dev/full``)
or a failing device is one line on stderr and exit 1: the output the user wanted is lost.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys

import click

__all__ = ["GONE", "LOST", "finish_output", "output_failure", "say", "start_output"]

GONE = frozenset({errno.EPIPE, errno.EBADF})
"""stdout has nobody behind it: quiet."""
LOST = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})
"""stdout cannot take what was written: an error."""


def say(text: str) -> None:
    """One line on stderr; a stderr that cannot take it is not a second error."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(text, err=True)


def start_output() -> None:
    """A process started with stdout closed gets a null device, so commands run as usual."""
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the rest of the process)


def finish_output() -> None:
    """Flush stdout now, where a failure can still be reported (not at interpreter exit):
    exit 1 when it cannot take the output, quietly go on when nobody reads it."""
    try:
        sys.stdout.flush()
    except OSError as error:
        code = output_failure(error)
        if code is None:
            raise
        if code:
            sys.exit(code)


def output_failure(error: OSError) -> int | None:
    """For a failed write to stdout: report it if it matters and stop writing there; the exit
    code to end with (None when ``error`` is not about stdout, 0 when stdout is gone).

    A write to stdout fails without a file name; errors of files the command opens carry
    theirs (and are reported by the command itself).
    """
    if error.errno not in GONE | LOST or error.filename is not None:
        return None
    with contextlib.suppress(OSError, ValueError):  # what is still buffered goes nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    if error.errno in GONE:
        return 0
    say(f"error: cannot write the output: {error.strerror}")
    return 1
