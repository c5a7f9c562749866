"""Subcommands of this package, registered on the ``diptych`` parser."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to ``diptych``."""
