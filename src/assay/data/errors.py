"""Kept so ``assay.data.errors`` imports keep working; the errors live in ``assay.errors``."""
from ..errors import AssayError, ChecksumError, DataNotAvailableError, InvalidDataError

__all__ = ["AssayError", "ChecksumError", "DataNotAvailableError", "InvalidDataError"]
