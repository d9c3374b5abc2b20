"""Room names as the parts of names other programs read: topics, ids and file names."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from miserymeter.errors import ConfigError

# The longest room name: its slug, and so the clip file names, stay far below 255 bytes.
MAX_ROOM_CHARS = 64
# The longest slug: a longer one (letters that spell as several, "㎯" as "rad_s2") is cut and
# gets the hash of the room's name.
MAX_SLUG_CHARS = 64
_DIGEST_CHARS = 8
_NOT_A_SLUG = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not decompose into an ASCII letter and an accent.
_ASCII_SPELLING = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE", "ł": "l",
     "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH"}
)  # fmt: skip


def require_room_name(room: str) -> None:
    """A ConfigError for a --room that is blank, longer than MAX_ROOM_CHARS, or starts or ends
    with spaces (refused rather than cut: the name is shown and stored as written)."""
    if not room.strip():
        raise ConfigError(f"--room {room!r}: give the room a name, e.g. --room 'Toddlers'")
    if len(room) > MAX_ROOM_CHARS:
        raise ConfigError(
            f"--room {room[:24]!r}... is {len(room)} characters long; give the room a name of "
            f"at most {MAX_ROOM_CHARS}"
        )
    if room != room.strip():
        raise ConfigError(
            f"--room {room!r}: a name does not start or end with a space; "
            f"write --room {room.strip()!r}"
        )


def room_slug(room: str) -> str:
    """`room` as a topic level, an id or a file name: lower case ASCII letters, digits and _
    ("Blue room": blue_room, "Bärenhöhle": barenhohle). A name with letters that have no
    ASCII spelling ("Гномики", "ひよこ組") keeps what it has and gets 8 hex digits of its hash
    ("room_1f0c9a3e"), so two such rooms never share topics, ids, a client id or files; so
    does a slug longer than MAX_SLUG_CHARS, cut to fit."""
    spelt = unicodedata.normalize("NFKD", room.translate(_ASCII_SPELLING))
    spelt = "".join(c for c in spelt if not unicodedata.combining(c))
    slug = _NOT_A_SLUG.sub("_", spelt.lower()).strip("_")
    if slug and len(slug) <= MAX_SLUG_CHARS and all(c.isascii() for c in spelt if c.isalnum()):
        return slug
    digest = hashlib.sha256(room.encode()).hexdigest()[:_DIGEST_CHARS]
    kept = slug[: MAX_SLUG_CHARS - _DIGEST_CHARS - 1].rstrip("_")
    return f"{kept or 'room'}_{digest}"
