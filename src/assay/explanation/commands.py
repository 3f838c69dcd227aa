"""CLI commands of this workflow stage; ``register(app)`` adds them to the main Typer app."""
from __future__ import annotations


def register(app) -> None:
    return None
