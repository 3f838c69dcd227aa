"""Errors that tell the user exactly what is wrong with their input and where."""
from __future__ import annotations


class AssayError(Exception):
    """Base class for every error assay raises on purpose."""


class DataNotAvailableError(AssayError):
    """A dataset has no local copy and could not be downloaded."""


class ChecksumError(AssayError):
    """A downloaded file does not match its published SHA-256."""


class InvalidDataError(AssayError):
    """The user's data cannot be used as it is; ``problems`` lists (row, column, reason)."""

    def __init__(self, message: str, problems: list[tuple] | None = None):
        self.problems = list(problems or [])
        if self.problems:
            lines = [f"  row {r}: {col}: {why}" for r, col, why in self.problems[:50]]
            more = len(self.problems) - 50
            if more > 0:
                lines.append(f"  ... and {more} more")
            message = message + "\n" + "\n".join(lines)
        super().__init__(message)


class RunFolderError(AssayError, FileNotFoundError):
    """A folder that is not a (finished) assay run, or one whose files do not agree."""


class PluginError(AssayError):
    """A user's model, featuriser or splitter that cannot be used; the message names it."""
