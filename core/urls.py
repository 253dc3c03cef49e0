"""Which links famcal passes on: http(s) only.

Contract: ``safe_url(value)`` is the URL without surrounding white space when it is an
absolute http(s) URL with a host and no white space inside, else None — so ``javascript:``,
``data:`` and other schemes never reach a feed. The normalizer applies it to what sources
send; the feed writers apply it again to what they publish (events stored by an older version
pass through them too).
"""

from __future__ import annotations

import re

_HTTP_URL = re.compile(r"(?i)^https?://[^\s/$.?#][^\s]*$")


def safe_url(value: str | None) -> str | None:
    if not value:
        return None
    url = value.strip()
    return url if _HTTP_URL.match(url) else None
