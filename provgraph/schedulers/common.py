"""Pure helpers the scheduler plugins share: durations, dates, integers and job names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

__all__ = ["format_hms", "parse_datetime", "parse_duration", "parse_int", "sanitize_job_name"]

#: Values schedulers print for "no value".
NO_VALUE = {"", "-", "N/A", "n/a", "NONE", "None", "(null)", "UNLIMITED", "NOT_SET", "INVALID", "Unknown"}

_DURATION = re.compile(r"(?:(\d+)-)?(?:(?:(\d+):)?(\d+):)?(\d+)(?:\.\d+)?")


def format_hms(seconds: int) -> str:
    """Format ``seconds`` as ``HH:MM:SS`` (hours may exceed 24), as PBS, SGE and SLURM accept it."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def parse_duration(text: str | None) -> int | None:
    """Seconds in ``[D-][[HH:]MM:]SS[.fff]`` (SLURM, PBS, SGE style), or None for a "no value" marker."""
    if text is None or text.strip() in NO_VALUE:
        return None
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_datetime(text: str | None, formats: Iterable[str]) -> datetime | None:
    """The first of ``formats`` that parses ``text`` (whitespace normalised), or None."""
    if text is None or text.strip() in NO_VALUE:
        return None
    cleaned = " ".join(text.split())
    for fmt in formats:
        try:
            return datetime.strptime(cleaned, fmt)
        except ValueError:
            continue
    return None


def parse_int(text: str | None) -> int | None:
    """The integer in ``text``, or None when it is empty, a "no value" marker or not a number."""
    if text is None or text.strip() in NO_VALUE:
        return None
    try:
        return int(text.strip())
    except ValueError:
        return None


def sanitize_job_name(name: str, max_length: int, first_alpha: bool = False) -> str:
    """Keep letters, digits, ``_``, ``-`` and ``.``; cut to ``max_length``; never empty.

    With ``first_alpha`` the name starts with a letter (PBS, SGE need it).
    """
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name or "")
    if first_alpha and not cleaned[:1].isalpha():
        cleaned = "j" + cleaned
    return (cleaned or "job")[:max_length]
