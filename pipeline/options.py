"""Command-line options with types and ranges, and a parser whose errors are one line.

Every numeric option of every subcommand is declared with :func:`number`, so a
value out of range (``--max-size 0``, ``--skip nan``) is refused by the parser
before any work starts, in the same one-line form as every other bad input.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

from corpus.atomic import Terminated


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr and exit status 2, no usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"diptych: error: {' '.join(message.split())} (see {self.prog} --help)\n")


def path(text: str) -> Path:
    """An argparse ``type`` for file and folder names: ``Path("")`` is ``.``, so an empty name (an
    unset shell variable: ``-o "$OUT"``) would silently mean the current folder."""
    if not text:
        raise argparse.ArgumentTypeError("an empty name (an unset variable?)")
    return Path(text)


def write_stdout(text: str) -> None:
    """A command's result on standard output, flushed, so that a full disk or an I/O error behind
    ``> FILE`` is one line that says it was standard output (a pipe closed early stays quiet)."""
    from corpus.errors import CorpusError

    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as e:
        raise CorpusError("standard output", f"cannot be written ({e.strerror or e})") from None


def number(kind: type, low: float | None = None, high: float | None = None, *,
           open_low: bool = False) -> Callable[[str], float]:
    """An argparse ``type``: an int or a finite float within [low, high] (``open_low``: above ``low``)."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: must be {'an integer' if kind is int else 'a number'}") from None
        if kind is float and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text}: must be a finite number")
        too_low = low is not None and (value <= low if open_low else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            if low is not None and high is not None:
                bound = f"between {low} and {high}"
            elif low is not None:
                bound = f"above {low}" if open_low else f"at least {low}"
            else:
                bound = f"at most {high}"
            raise argparse.ArgumentTypeError(f"{text}: must be {bound}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def install_signal_policy() -> None:
    """SIGTERM ends a command the way Ctrl-C does: as an exception, so that every temporary output
    (``corpus.atomic``) is removed on the way out and an earlier output stays untouched."""
    import signal

    from corpus.atomic import clear_stop, request_stop

    clear_stop()

    def stop(signum, frame):  # noqa: ARG001
        request_stop(signum)  # if the exception below is swallowed (raised in a __del__), nothing is committed
        raise Terminated()

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (an embedding application): leave its policy alone
        pass


def fail(message: str) -> int:
    print(f"diptych: error: {' '.join(message.split())}", file=sys.stderr)
    return 2


__all__ = ["OneLineParser", "Terminated", "fail", "install_signal_policy", "number"]
