"""Which of a model's labels means crying."""

from __future__ import annotations

from collections.abc import Sequence

from miserymeter.constants import SILENCE_LABEL, UNKNOWN_LABEL
from miserymeter.errors import ConfigError


def crying_label(labels: Sequence[str], wanted: str | None, *, option: str = "--label") -> str:
    """The label whose probability means crying: `wanted` (given with `option`), "crying", or
    the only word label."""
    if wanted is not None:
        if wanted not in labels:
            raise ConfigError(
                f"{option} {wanted!r}: the model knows {', '.join(labels)}; pass one of them"
            )
        return wanted
    if "crying" in labels:
        return "crying"
    words = [label for label in labels if label not in (SILENCE_LABEL, UNKNOWN_LABEL)]
    if len(words) != 1:
        raise ConfigError(
            f"the model knows {', '.join(labels)}: say which one is crying with {option}"
        )
    return words[0]
