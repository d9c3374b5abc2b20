"""Cat and laughter recordings from Debian's packages: the hard negatives the cry corpus lacks.

The corpus holds 7 cat and 5 laughing clips, and those are the sounds a crying model confuses
most (a kitten's meow, a child's giggle). Debian's games and learning programs ship free
recordings of both; this downloads the packages once with `apt-get download`, takes the named
files out with `dpkg-deb`, and writes them as 22.05 kHz mono FLAC into a folder per label.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from miserymeter.audio.io import read_audio
from miserymeter.errors import DatasetError

PACKAGED_SOUND_RATE_HZ = 22_050
MANIFEST_NAME = "packaged_sounds.csv"


@dataclass(frozen=True)
class PackagedSound:
    """A recording inside a Debian package, its label, and the source it was recorded from:
    files of one source share a hash group, so they land in one split."""

    package: str
    path: str
    label: str
    source: str

    @property
    def file_name(self) -> str:
        """`debian-<source>_nohash_<package>-<stem>.flac`: grouped by source for the split."""
        return f"debian-{self.source}_nohash_{self.package}-{Path(self.path).stem}.flac"


def _hedgewars_laugh(voice: str) -> PackagedSound:
    path = f"usr/share/games/hedgewars/Data/Sounds/voices/{voice}/Laugh.ogg"
    return PackagedSound("hedgewars-data", path, "laughing", f"hedgewars-{voice.lower()}")


def _ktuberling_laugh(language: str, name: str = "tux-laugh.ogg") -> PackagedSound:
    path = f"usr/share/ktuberling/sounds/{language}/{name}"
    return PackagedSound("ktuberling-data", path, "laughing", f"ktuberling-{language}")


# One file per recording: the copies some packages share (hedgewars' Classic voice is its
# Default; bambam's giggle is Tux Paint's; XEmacs' evil laugh is Crossfire's) are left out.
# The vocoded Robot voice of hedgewars is left out too: no room hears it.
PACKAGED_SOUNDS: tuple[PackagedSound, ...] = (
    PackagedSound("scratch", "usr/share/scratch/Media/Sounds/Animal/Cat.mp3", "cat", "scratch-cat"),
    PackagedSound(
        "scratch", "usr/share/scratch/Media/Sounds/Animal/Kitten.wav", "cat", "scratch-kitten"
    ),
    PackagedSound(
        "scratch", "usr/share/scratch/Media/Sounds/Animal/Meow.wav", "cat", "scratch-meow"
    ),
    PackagedSound("brainparty-data", "usr/share/games/brainparty/meow.wav", "cat", "brainparty"),
    PackagedSound("qabcs-data", "usr/share/qabcs/abcs/all/noises/cat.ogg", "cat", "qabcs"),
    PackagedSound(
        "xemacs21-basesupport",
        "usr/share/xemacs21/xemacs-packages/etc/sounds/catmeow.wav",
        "cat",
        "xemacs-catmeow",
    ),
    PackagedSound(
        "tuxpaint-stamps-default",
        "usr/share/tuxpaint/stamps/seasonal/halloween/blackcat.ogg",
        "cat",
        "tuxpaint-blackcat",
    ),
    *(
        PackagedSound(
            "scratch",
            f"usr/share/scratch/Media/Sounds/Human/{name}",
            "laughing",
            f"scratch-{name.split('.')[0].lower()}",
        )
        for name in ("Laugh-female.wav", "Laugh-male1.wav", "Laugh-male2.wav", "Laugh-male3.mp3")
    ),
    PackagedSound(
        "btanks-data", "usr/share/games/btanks/data/sounds/laugh01.ogg", "laughing", "btanks"
    ),
    PackagedSound(
        "btanks-data", "usr/share/games/btanks/data/sounds/laugh02.ogg", "laughing", "btanks"
    ),
    PackagedSound(
        "monsterz-data", "usr/share/games/monsterz/sound/laugh.wav", "laughing", "monsterz"
    ),
    PackagedSound(
        "trackballs-data", "usr/share/games/trackballs/sfx/crazylaugh.wav", "laughing", "trackballs"
    ),
    PackagedSound(
        "trackballs-data", "usr/share/games/trackballs/sfx/evillaugh.wav", "laughing", "trackballs"
    ),
    PackagedSound(
        "wesnoth-1.16-data",
        "usr/share/games/wesnoth/1.16/data/core/sounds/dwarf-laugh.wav",
        "laughing",
        "wesnoth-dwarf",
    ),
    PackagedSound(
        "wesnoth-1.16-data",
        "usr/share/games/wesnoth/1.16/data/campaigns/World_Conquest/sounds/witches-laugh.wav",
        "laughing",
        "wesnoth-witches",
    ),
    PackagedSound(
        "xemacs21-basesupport",
        "usr/share/xemacs21/xemacs-packages/etc/sounds/laugh.au",
        "laughing",
        "xemacs-laugh",
    ),
    PackagedSound(
        "crossfire-client",
        "usr/share/games/crossfire-client/sounds/Evil_Laugh.wav",
        "laughing",
        "evil-laugh",
    ),
    PackagedSound("tuxpaint-data", "usr/share/tuxpaint/sounds/giggle.wav", "laughing", "giggle"),
    *(
        _hedgewars_laugh(voice)
        for voice in (
            "Default",
            "British",
            "Default_es",
            "Default_pl",
            "Default_ru",
            "Default_uk",
            "HillBilly",
            "Mobster",
            "Pirate",
            "Russian",
            "Russian_pl",
            "Singer",
            "Surfer",
        )
    ),
    *(_ktuberling_laugh(language) for language in ("da", "lt", "ru", "uk")),
    _ktuberling_laugh("ca", "say-laugh.ogg"),
    _ktuberling_laugh("nn", "tux-laugh.opus"),
)

# From each package's /usr/share/doc/<package>/copyright.
PACKAGE_LICENSES = {
    "scratch": "CC-BY-SA-3.0 (Media/*, MIT)",
    "brainparty-data": "GPL-3+",
    "qabcs-data": "GPL-3+",
    "xemacs21-basesupport": "GPL",
    "tuxpaint-stamps-default": "GPL-2",
    "tuxpaint-data": "GPL-2+",
    "btanks-data": "GPL with the Battle Tanks exception",
    "monsterz-data": "GPL-2+",
    "trackballs-data": "GPL-2+",
    "wesnoth-1.16-data": "GPL-2+",
    "crossfire-client": "GPL-2+",
    "hedgewars-data": "GFDL-1.3 (Data/Sounds/*)",
    "ktuberling-data": "GPL-2+",
}


def fetch_packaged_sounds(
    data_dir: Path, *, cache_dir: Path, sounds: tuple[PackagedSound, ...] = PACKAGED_SOUNDS
) -> list[Path]:
    """Write each sound to `data_dir/<label>/<file_name>` and list them with their package's
    version and license in `data_dir/packaged_sounds.csv`. Packages are downloaded into
    `cache_dir` once; a `.deb` already there is used as it is."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = []
    for package in sorted({s.package for s in sounds}):
        deb = _downloaded(package, cache_dir)
        wanted = [s for s in sounds if s.package == package]
        for sound, extracted in _extracted(deb, wanted):
            audio = read_audio(extracted, sample_rate_hz=PACKAGED_SOUND_RATE_HZ)
            target = data_dir / sound.label / sound.file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            sf.write(target, audio.samples, PACKAGED_SOUND_RATE_HZ)
            written.append(target)
            license_ = PACKAGE_LICENSES.get(sound.package, "")
            rows.append((target.relative_to(data_dir), deb.name, sound.path, license_))
    with (data_dir / MANIFEST_NAME).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(("path", "package_file", "path_in_package", "license"))
        writer.writerows(rows)
    return written


def _downloaded(package: str, cache_dir: Path) -> Path:
    """The package's `.deb` in `cache_dir`, downloaded with `apt-get download` if missing."""
    if found := sorted(cache_dir.glob(f"{package}_*.deb")):
        return found[-1]
    if shutil.which("apt-get") is None:
        raise DatasetError(
            f"{package}: apt-get not found; the extra cat and laughter clips come from "
            f"Debian packages: put {package}_*.deb in {cache_dir}, or train without them"
        )
    result = subprocess.run(
        ["apt-get", "download", package], cwd=cache_dir, capture_output=True, text=True
    )
    found = sorted(cache_dir.glob(f"{package}_*.deb"))
    if result.returncode != 0 or not found:
        reason = (result.stderr.strip().splitlines() or ["no .deb written"])[-1]
        raise DatasetError(
            f"{package}: apt-get download failed ({reason}); run `apt-get update` and retry"
        )
    return found[-1]


def _extracted(deb: Path, wanted: list[PackagedSound]) -> list[tuple[PackagedSound, Path]]:
    """The wanted files of `deb`, streamed out by `dpkg-deb` into a folder beside it."""
    by_member = {f"./{s.path}": s for s in wanted}
    out_dir = deb.with_suffix("")
    unreadable = DatasetError(f"{deb}: not a readable Debian package; delete it and retry")
    found: dict[str, Path] = {}
    command = ["dpkg-deb", "--fsys-tarfile", str(deb)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as dpkg:
        try:
            with tarfile.open(fileobj=dpkg.stdout, mode="r|") as archive:
                for member in archive:
                    if member.name in by_member:
                        archive.extract(member, out_dir, filter="data")
                        found[member.name] = out_dir / member.name
        except tarfile.TarError as e:
            raise unreadable from e
    if dpkg.returncode != 0:
        raise unreadable
    if missing := sorted(set(by_member) - set(found)):
        raise DatasetError(f"{deb}: has no {missing[0][2:]}; this package version moved it")
    return [(by_member[name], path) for name, path in found.items()]
