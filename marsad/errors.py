"""marsad's exceptions: one small hierarchy, every message saying where and what."""

from __future__ import annotations

from pathlib import Path


class MarsadError(Exception):
    """Base class of every error marsad raises on purpose."""


class DataFormatError(MarsadError, ValueError):
    """A record in an input file is malformed.

    The message reads ``path:line: [id] reason`` so editors and CI logs can jump to it.
    """

    def __init__(self, path: str | Path | None, line_no: int | None, reason: str, record_id: str | None = None) -> None:
        where = f"{path if path is not None else '<input>'}"
        if line_no is not None:
            where += f":{line_no}"
        rid = f" [{record_id}]" if record_id else ""
        super().__init__(f"{where}:{rid} {reason}")
        self.path, self.line_no, self.reason, self.record_id = path, line_no, reason, record_id


class LabelMismatchError(MarsadError, ValueError):
    """Labels in data or a model do not match the schema in use."""


class ConfigError(MarsadError, ValueError):
    """A run or command configuration is invalid (caught before any compute)."""


class ModelLoadError(MarsadError, OSError):
    """A base model or a saved marsad model cannot be loaded."""
