"""The one place secrets are hidden before text reaches a log, a notification, the status bar or `list`."""

from __future__ import annotations

import re

# Jupyter's ?token=, TensorBoard/other servers' access_token=, and the same inside a longer text.
_TOKEN_VALUE = re.compile(r"((?:access_)?token=)[^&\s]+")


def redact(text: str) -> str:
    """``text`` (a URL or a line holding one) with every token's value replaced by an ellipsis."""
    return _TOKEN_VALUE.sub(r"\1…", text)
