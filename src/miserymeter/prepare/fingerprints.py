"""Which clips a model was trained on: short hashes of its training clips' files.

`train` records those of its training split in every checkpoint, `export` puts them in the
model's metadata (`TRAINING_CLIPS_KEY`), and `evaluate` counts the clips it is given that the
model trained on, wherever they are now and whatever they are called.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from pathlib import Path

from miserymeter.audio.io import require_readable_file
from miserymeter.errors import ModelError

N_FINGERPRINT_BYTES = 8  # of a file's SHA-256: two of 10,000 clips meet once in 10^11 models


def fingerprint(path: Path) -> bytes:
    """The first bytes of the SHA-256 of the file's bytes (an AudioError naming what to do if
    it cannot be read, as scoring it would)."""
    require_readable_file(path)
    return hashlib.sha256(path.read_bytes()).digest()[:N_FINGERPRINT_BYTES]


def fingerprints_text(paths: Iterable[Path]) -> str:
    """The files' fingerprints, sorted and base64-encoded, for a checkpoint and metadata."""
    return base64.b64encode(b"".join(sorted({fingerprint(p) for p in paths}))).decode("ascii")


def read_fingerprints(text: str, *, model: Path) -> frozenset[bytes]:
    """The fingerprints `fingerprints_text` wrote (a ModelError if damaged)."""
    try:
        joined = base64.b64decode(text, validate=True)
    except ValueError as e:  # binascii.Error, or a letter that is not ASCII
        raise ModelError(f"{model}: its training clips' record is damaged; export it again") from e
    if len(joined) % N_FINGERPRINT_BYTES:
        raise ModelError(f"{model}: its training clips' record is damaged; export it again")
    n = N_FINGERPRINT_BYTES
    return frozenset(joined[k : k + n] for k in range(0, len(joined), n))
