"""Shared CLI helpers: loading the profile chosen with ``-p``, strict parameter types, clean exits.

Command-line text reaches provgraph only through here or click's own types, so the checks that
keep bad input from ending in a traceback live here:

- :func:`check_arguments` refuses an argument that is not valid text (bytes that are not UTF-8
  arrive as lone surrogates, which no database, file name or log line can take);
- :data:`PK` and :class:`WholeNumber` accept ASCII digits only (``int()`` also reads ``"٣"``
  as 3, ``"1_000"`` and ``" 7 "``) within the range the storage holds (signed 64 bits);
- :func:`provgraph_errors` turns a provgraph error into a one-line message, and so does
  :func:`clean_exits` for every command (the root group wraps each run in it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from provgraph.exceptions import ProvgraphError

INT64_MAX = 2**63 - 1
_WHOLE = re.compile(r"-?[0-9]{1,100}")


def load_cli_profile(ctx: click.Context):  # noqa: ANN201
    """Load the profile chosen with ``provgraph -p NAME`` (or the default one)."""
    from provgraph.profiles import load_profile

    root = ctx.find_root()
    with provgraph_errors():
        return load_profile((root.obj or {}).get("profile_name"))


@contextmanager
def provgraph_errors() -> Iterator[None]:
    """Show a provgraph error as a one-line message with exit status 1, not a traceback."""
    try:
        yield
    except ProvgraphError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc


@contextmanager
def clean_exits() -> Iterator[None]:
    """What :func:`provgraph_errors` does, for a whole command run (the root group's safety net).

    A :class:`ProvgraphError` is a user-facing error by design, wherever a command forgot to
    catch it; so is text a database refused because it is not valid Unicode, and a number
    too large for the storage (commands taking pks should use :data:`PK`, which says so first).
    """
    try:
        yield
    except ProvgraphError as exc:
        raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
    except UnicodeEncodeError as exc:
        if "surrogates not allowed" not in str(exc):
            raise
        raise click.ClickException("an argument is not valid UTF-8 text") from exc
    except OverflowError as exc:
        # a number from the command line beyond what the storage or the clock holds (e.g. a 30-digit pk)
        raise click.ClickException(f"a number is out of range (pks and counts are at most {INT64_MAX}): {exc}") from exc


def invalid_text(value: str) -> bool:
    """Whether ``value`` holds lone surrogates (how Python passes on argument bytes that are not UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_arguments(args: Sequence[str]) -> None:
    """Refuse command-line arguments that are not valid UTF-8 text, naming the first one.

    :raises click.UsageError: for the first such argument
    """
    for position, arg in enumerate(args, start=1):
        if isinstance(arg, str) and invalid_text(arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise click.UsageError(f"argument {position} ({shown!r}) is not valid UTF-8 text")


class WholeNumber(click.ParamType):
    """A whole number in ASCII digits within ``[low, high]`` (by default what the storage holds)."""

    name = "integer"

    def __init__(self, low: int | None = None, high: int | None = INT64_MAX, what: str = "a whole number") -> None:
        self.low, self.high, self.what = low, high, what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """Return ``value`` as an int, or fail with a one-line usage error."""
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and _WHOLE.fullmatch(value.strip()) and value.strip() == value:
            number = int(value)
        else:
            self.fail(f"{value!r} is not {self.what} (ASCII digits, e.g. 42)", param, ctx)
        if (self.low is not None and number < self.low) or (self.high is not None and number > self.high):
            bounds = f"from {self.low}" if self.low is not None else ""
            bounds += f" up to {self.high}" if self.high is not None else ""
            self.fail(f"{value!r} is out of range for {self.what} ({bounds.strip()})", param, ctx)
        return number

    def __repr__(self) -> str:
        return f"WholeNumber({self.low}, {self.high})"


#: a node (or entity) pk: 1 up to the largest signed 64-bit integer, in ASCII digits
PK = WholeNumber(1, INT64_MAX, "a pk")


class Identifier(click.ParamType):
    """A pk, uuid (prefix) or label: any valid text, but an all-digit one must be a pk in range."""

    name = "identifier"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        """Return ``value`` unchanged once checked."""
        text = str(value)
        if not text or invalid_text(text):
            self.fail(f"{text!r} is not a pk, uuid or label", param, ctx)
        if text.isdigit():
            if not text.isascii():
                self.fail(f"{text!r} is not a pk (ASCII digits, e.g. 42)", param, ctx)
            PK.convert(text, param, ctx)
        return text


IDENTIFIER = Identifier()
