"""Turn `shared/data/cry-corpus` into a training folder for the bundled default model.

The corpus has traps (see its README): most of its cries are 8 kHz phone audio from a few
families, everything else is full band. This lays it out so that training's hash split keeps
each family and each recording on one side; the full-band cries of the validation and testing
splits (6 of the 12 freesound sources) are the channel check's.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.constants import BACKGROUND_NOISE_DIR
from miserymeter.errors import DatasetError
from miserymeter.prepare.split import Split, which_set
from miserymeter.train.packaged_sounds import fetch_packaged_sounds

SLICE_S = 5.0
CORPUS_RATE_HZ = 22_050
DEBIAN_PACKAGES_DIR = Path("build/debian-packages")  # where the default model's packages go
_DONATEACRY = re.compile(r"^donateacry__(?P<family>[0-9A-Fa-f-]{36})-(?P<rest>.+)$")
_ESC50 = re.compile(
    r"^esc50__(?:(?P<category>[a-z_]+)__)?(?P<fold>\d)-(?P<source>\d+)-(?P<take>.+)$"
)


@dataclass(frozen=True)
class PreparedCorpus:
    """Where the training folder was written, and its full-band cries outside training."""

    data_dir: Path
    heldout_fullband_cries: tuple[Path, ...]


def group_name(path: Path) -> str:
    """A file name whose part before `_nohash_` names its family or recording source."""
    stem, suffix = path.stem, path.suffix
    if match := _DONATEACRY.match(stem):
        return f"family-{match['family'].lower()}_nohash_{match['rest']}{suffix}"
    if match := _ESC50.match(stem):
        return f"esc50-{match['fold']}-{match['source']}_nohash_{match['take']}{suffix}"
    return path.name


def prepare_cry_corpus(
    corpus_dir: Path, out_dir: Path, *, packages_dir: Path | None = None, seed: int = 0
) -> PreparedCorpus:
    """Write `out_dir/data`: crying, noise, and 5 s clips of the music, speech and animal
    recordings (all `_unknown_` to a crying model), with synthetic household ambience as
    `_background_noise_` so that `_silence_` means a quiet room, not quiet music. With
    `packages_dir`, add the cat and laughter clips of Debian's packages (downloaded there)."""
    manifest = corpus_dir / "manifest.csv"
    if not manifest.is_file():
        raise DatasetError(f"{corpus_dir}: no manifest.csv; pass the cry-corpus folder")
    data_dir = out_dir / "data"
    for folder in ("crying", "noise", "music", "speech", "animal", BACKGROUND_NOISE_DIR):
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
    heldout = []
    with manifest.open(newline="") as f:
        for row in csv.DictReader(f):
            source = corpus_dir / row["path"]
            target = _link(source, data_dir / row["label"] / group_name(source))
            if is_fullband_cry(row) and default_model_split(target) != "training":
                heldout.append(target)
    for recording in sorted((corpus_dir / BACKGROUND_NOISE_DIR).glob("*.flac")):
        _slice_recording(recording, data_dir / recording.name.split("__", 1)[0])
    _write_ambiences(data_dir / BACKGROUND_NOISE_DIR, np.random.default_rng(seed))
    if packages_dir is not None:
        fetch_packaged_sounds(data_dir, cache_dir=packages_dir)
    return PreparedCorpus(data_dir, tuple(heldout))


def is_fullband_cry(row: dict[str, str]) -> bool:
    """A manifest row of a cry not recorded through a phone app (ESC-50's, full band)."""
    return row["label"] == "crying" and int(row["sample_rate"]) != 8000


def default_model_split(prepared: Path) -> Split:
    """The split the default model's flags put a prepared file (named by group_name) in."""
    return which_set(
        prepared,
        validation_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "validation_percentage")),
        testing_percentage=float(flag_value(DEFAULT_MODEL_FLAGS, "testing_percentage")),
    )


def _link(source: Path, target: Path) -> Path:
    if not target.exists():
        target.symlink_to(source.resolve())
    return target


def _slice_recording(recording: Path, folder: Path) -> None:
    """Cut a long recording into 5 s clips that share one hash group."""
    folder.mkdir(exist_ok=True)
    samples = read_audio(recording, sample_rate_hz=CORPUS_RATE_HZ).samples
    n_slice = int(SLICE_S * CORPUS_RATE_HZ)
    stem = recording.stem.split("__", 1)[-1]
    for k, start in enumerate(range(0, max(1, len(samples) - n_slice + 1), n_slice)):
        target = folder / f"{stem}_nohash_{k:03d}.flac"
        if not target.exists():
            sf.write(target, samples[start : start + n_slice], CORPUS_RATE_HZ)


def _write_ambiences(folder: Path, rng: np.random.Generator) -> None:
    """Synthetic household ambience to mix in: fan, hum, air conditioning, hiss (60 s each)."""
    n = 60 * CORPUS_RATE_HZ
    t_s = np.arange(n) / CORPUS_RATE_HZ
    freqs = np.fft.rfftfreq(n, d=1 / CORPUS_RATE_HZ)
    freqs[0] = freqs[1]

    def shaped(exponent: float) -> np.ndarray:
        noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(n)) / freqs**exponent, n=n)
        return noise / np.abs(noise).max()

    hum = sum(np.sin(2 * np.pi * 50 * h * t_s) / h for h in range(1, 6))
    fan = shaped(1.0) * (1 + 0.1 * np.sin(2 * np.pi * 23.3 * t_s))
    ambiences = {
        "ambience__brown_noise": shaped(1.0),
        "ambience__pink_noise": shaped(0.5),
        "ambience__fan": fan / np.abs(fan).max(),
        "ambience__mains_hum": 0.5 * hum / np.abs(hum).max() + 0.05 * shaped(0.5),
    }
    for name, samples in ambiences.items():
        target = folder / f"{name}.flac"
        if not target.exists():
            sf.write(target, (0.5 * samples).astype(np.float32), CORPUS_RATE_HZ)


# The bundled model's training flags. The mel range stops at 3.5 kHz, below the roll-off of
# the corpus's 8 kHz phone cries, so the model cannot tell a phone channel by its top bands.
# A quarter of the cries get another sound mixed under them, so a cry over a dog or a TV is
# still a cry. Three falling rates reach in 1,400 steps what 2,000 steps did.
DEFAULT_MODEL_FLAGS = (
    "--model_architecture=tcresnet",
    "--wanted_words=crying",
    "--sample_rate=16000",
    "--clip_duration_ms=2000",
    "--max_frequency_hz=3500",
    "--how_many_training_steps=800,400,200",
    "--learning_rate=0.002,0.001,0.0003",
    "--unknown_percentage=150",
    "--unknown_mix_frequency=0.25",
    "--silence_percentage=20",
    "--validation_percentage=15",
    "--testing_percentage=15",
    "--eval_step_interval=1000",
    "--save_step_interval=1000",
    "--seed=4",
)


def flag_value(flags: tuple[str, ...], name: str) -> str:
    """The value of `--name=value` in `flags`."""
    prefix = f"--{name}="
    return next(f.removeprefix(prefix) for f in flags if f.startswith(prefix))
