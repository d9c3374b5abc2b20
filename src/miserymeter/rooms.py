"""Room names as the parts of names other programs read: topics, ids and file names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NOT_A_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not decompose into an ASCII letter and an accent.
_ASCII_SPELLING = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH"}
)  # fmt: skip


def room_slug(room: str) -> str:
    """`room` as a topic level, an id or a file name: lower case ASCII letters, digits and _
    ("Blue room": blue_room, "Bärenhöhle": barenhohle). A name with letters that have no
    ASCII spelling ("Гномики", "ひよこ組") keeps what it has and gets 8 hex digits of its hash
    ("room_1f0c9a3e"), so two such rooms never share topics, ids, a client id or files."""
    spelt = unicodedata.normalize("NFKD", room.translate(_ASCII_SPELLING))
    spelt = "".join(c for c in spelt if not unicodedata.combining(c))
    slug = _NOT_A_SLUG.sub("_", spelt.lower()).strip("_")
    if slug and all(c.isascii() for c in spelt if c.isalnum()):
        return slug
    digest = hashlib.sha256(room.encode()).hexdigest()[:8]
    return f"{slug or 'room'}_{digest}"
