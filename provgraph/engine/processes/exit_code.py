"""Exit codes: the outcome of a finished process (status 0 is success)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from provgraph.exceptions import NotExistent, ValidationError


@dataclass(frozen=True)
class ExitCode:
    """The exit status of a process with a message and a label (e.g. ``ERROR_NEGATIVE_NUMBER``).

    :param status: 0 for success, a positive integer for a failure
    :param message: human-readable explanation; may hold ``{name}`` fields filled by :meth:`format`
    :param label: the name under which the spec declares the code
    :param invalidates_cache: whether a process that ended with this code may not be reused by caching
    """

    status: int = 0
    message: str | None = None
    label: str | None = None
    invalidates_cache: bool = False

    def format(self, **kwargs: object) -> ExitCode:
        """Return a copy whose message has its ``{name}`` fields filled in."""
        if self.message is None:
            return self
        return replace(self, message=self.message.format(**kwargs))


class ExitCodesNamespace:
    """The exit codes of a process spec, reached by label as attributes: ``self.exit_codes.ERROR_X``."""

    def __init__(self) -> None:
        self._codes: dict[str, ExitCode] = {}

    def add(self, code: ExitCode) -> None:
        """Declare ``code``; a label or status may be declared once only.

        :raises ValidationError: when the status is not a non-negative int or the label or status is taken
        """
        if isinstance(code.status, bool) or not isinstance(code.status, int) or code.status < 0:
            raise ValidationError(f"exit code status must be a non-negative int, not {code.status!r}")
        if not code.label or not code.label.isidentifier():
            raise ValidationError(f"exit code label must be an identifier, not {code.label!r}")
        for other in self._codes.values():
            if other.status == code.status and other.label != code.label:
                raise ValidationError(f"exit status {code.status} is already used by {other.label}")
        self._codes[code.label] = code

    def __getattr__(self, label: str) -> ExitCode:
        if label.startswith("_"):
            raise AttributeError(label)
        try:
            return self._codes[label]
        except KeyError:
            raise AttributeError(f"no exit code labelled {label!r}; known: {', '.join(sorted(self._codes))}") from None

    def __call__(self, identifier: str | int) -> ExitCode:
        """Return the exit code with this label or status.

        :raises NotExistent: when no exit code matches
        """
        for code in self._codes.values():
            if identifier in (code.label, code.status) and not isinstance(identifier, bool):
                return code
        raise NotExistent(f"no exit code {identifier!r}; known: {', '.join(sorted(self._codes))}")

    def __iter__(self) -> Iterator[ExitCode]:
        return iter(sorted(self._codes.values(), key=lambda code: code.status))

    def __contains__(self, label: object) -> bool:
        return label in self._codes

    def __len__(self) -> int:
        return len(self._codes)

    def copy(self) -> ExitCodesNamespace:
        """A copy that can be extended without changing this one (used by spec inheritance)."""
        other = ExitCodesNamespace()
        other._codes = dict(self._codes)
        return other
