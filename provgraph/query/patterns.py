"""Backend-neutral helpers for compiling query filters."""

from __future__ import annotations

import re


def like_to_regex(pattern: str, case_insensitive: bool = False) -> str:
    """Turn a SQL LIKE pattern into an anchored regular expression.

    ``%`` matches any run of characters and ``_`` one character; ``\\%`` and
    ``\\_`` match the literal characters. Everything else is matched literally.
    """
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "%_\\":
            out.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        index += 1
    return ("(?is)" if case_insensitive else "(?s)") + "".join(out)
