"""How export and import report progress: a tiny interface the CLI fills with rich progress bars."""

from __future__ import annotations


class Progress:
    """Receives progress of a long archive operation; this base class ignores it.

    ``start`` opens a stage (``total`` is None when unknown), ``advance`` reports items done in it.
    """

    def start(self, stage: str, total: int | None = None) -> None:
        """A new stage begins."""

    def advance(self, count: int = 1) -> None:
        """``count`` more items of the current stage are done."""

    def finish(self) -> None:
        """The operation ended (successfully or not)."""


SILENT = Progress()
