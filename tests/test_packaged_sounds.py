"""Cat and laughter clips taken out of real Debian packages built here with `dpkg-deb`."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from miserymeter.errors import DatasetError
from miserymeter.inference.bundled import EXAMPLES_DIR
from miserymeter.prepare.split import which_set
from miserymeter.train.packaged_sounds import (
    MANIFEST_NAME,
    PACKAGE_LICENSES,
    PACKAGED_SOUND_RATE_HZ,
    PACKAGED_SOUNDS,
    PackagedSound,
    fetch_packaged_sounds,
)

LAUGH = PackagedSound("giggles", "usr/share/giggles/laugh.ogg", "laughing", "giggles-one")
MEOW = PackagedSound("giggles", "usr/share/giggles/sounds/meow.wav", "cat", "giggles-two")


def build_deb(cache_dir: Path, files: dict[str, np.ndarray], *, rate_hz: int) -> Path:
    """A real `.deb` named as `apt-get download` names it, holding `files` as audio."""
    root = cache_dir / "giggles-build"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: giggles\nVersion: 1.0-1\nArchitecture: all\n"
        "Maintainer: Nobody <nobody@example.org>\nDescription: test sounds\n"
    )
    for inner, samples in files.items():
        (root / inner).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / inner, samples, rate_hz)
    deb = cache_dir / "giggles_1.0-1_all.deb"
    subprocess.run(["dpkg-deb", "--build", str(root), str(deb)], check=True, capture_output=True)
    return deb


def stereo_clip(name: str, *, rate_hz: int) -> np.ndarray:
    """A bundled example clip as 44.1 kHz stereo, as game data often comes."""
    samples, file_rate_hz = sf.read(EXAMPLES_DIR / name, dtype="float32")
    n = int(len(samples) * rate_hz / file_rate_hz)
    resampled = np.interp(np.arange(n) * file_rate_hz / rate_hz, np.arange(len(samples)), samples)
    return np.stack([resampled, 0.5 * resampled], axis=1)


def test_sounds_come_out_of_the_package_as_mono_flac_at_the_corpus_rate(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    laugh = stereo_clip("laughing-esc50-4-132810-A.flac", rate_hz=44_100)
    meow = stereo_clip("cat-esc50-4-133047-A.flac", rate_hz=44_100)[:44_100]
    deb = build_deb(cache, {LAUGH.path: laugh, MEOW.path: meow}, rate_hz=44_100)
    data = tmp_path / "data"

    written = fetch_packaged_sounds(data, cache_dir=cache, sounds=(LAUGH, MEOW))

    assert sorted(p.relative_to(data).as_posix() for p in written) == [
        "cat/debian-giggles-two_nohash_giggles-meow.flac",
        "laughing/debian-giggles-one_nohash_giggles-laugh.flac",
    ]
    for path, source in zip(sorted(written), (meow, laugh), strict=True):
        info = sf.info(str(path))
        assert (info.samplerate, info.channels) == (PACKAGED_SOUND_RATE_HZ, 1)
        assert info.duration == pytest.approx(len(source) / 44_100, abs=0.01)
        assert np.abs(sf.read(path)[0]).max() > 0.05
    with (data / MANIFEST_NAME).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["package_file"], r["path_in_package"]) for r in rows] == [
        (deb.name, LAUGH.path),
        (deb.name, MEOW.path),
    ]


def test_a_file_the_package_does_not_hold_is_named(tmp_path: Path) -> None:
    build_deb(tmp_path, {LAUGH.path: np.zeros((100, 2))}, rate_hz=8_000)
    with pytest.raises(DatasetError, match=r"giggles_1\.0-1_all\.deb: has no usr/share/giggles/s"):
        fetch_packaged_sounds(tmp_path / "data", cache_dir=tmp_path, sounds=(LAUGH, MEOW))


def test_a_corrupt_package_is_named(tmp_path: Path) -> None:
    (tmp_path / "giggles_1.0-1_all.deb").write_bytes(b"!<arch>\nnot really")
    with pytest.raises(
        DatasetError, match=r"giggles_1\.0-1_all\.deb: not a readable Debian package"
    ):
        fetch_packaged_sounds(tmp_path / "data", cache_dir=tmp_path, sounds=(LAUGH,))


def test_without_apt_get_the_error_says_where_to_put_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DatasetError, match=r"giggles: apt-get not found.*put giggles_\*\.deb in"):
        fetch_packaged_sounds(tmp_path / "data", cache_dir=tmp_path / "cache", sounds=(LAUGH,))


def test_the_packaged_sounds_are_distinct_licensed_and_split_by_source() -> None:
    names = [s.file_name for s in PACKAGED_SOUNDS]
    assert len(set(names)) == len(names)
    assert {s.package for s in PACKAGED_SOUNDS} == set(PACKAGE_LICENSES)
    assert {s.label for s in PACKAGED_SOUNDS} == {"cat", "laughing"}
    splits: dict[str, set[str]] = {}
    for sound in PACKAGED_SOUNDS:
        split = which_set(Path(sound.file_name), validation_percentage=15, testing_percentage=15)
        splits.setdefault(sound.source, set()).add(split)
    assert all(len(s) == 1 for s in splits.values())
    assert len({split for s in splits.values() for split in s}) == 3
