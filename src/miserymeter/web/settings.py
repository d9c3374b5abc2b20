"""What the dashboard serves, and to whom."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from miserymeter.constants import DEFAULT_DASHBOARD_HOST, DEFAULT_DASHBOARD_PORT, DEFAULT_GATE_DB
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import ConfigError
from miserymeter.nights import local_zone

DEFAULT_HOST = DEFAULT_DASHBOARD_HOST
DEFAULT_PORT = DEFAULT_DASHBOARD_PORT


@dataclass(frozen=True)
class ServeSettings:
    """The store to read, the clips to play, the dataset reviews go to, and who may look.

    `password_hash` (from `miserymeter hash-password`) makes every page ask for a password;
    a host other than loopback needs one. `detection` and `gate_db` are the listener's (its
    thresholds are drawn on the timeline, its gate explained on the calibration page; None: no
    gate). `zone` is where nights run from noon to noon. `option_prefix` names the host and
    port options in messages (`serve_` for `listen --serve`'s).
    """

    db: str
    clips_dir: Path
    data_dir: Path
    model_path: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password_hash: str | None = None
    detection: DetectorSettings = field(default_factory=DetectorSettings)
    gate_db: float | None = DEFAULT_GATE_DB
    zone: tzinfo = field(default_factory=local_zone)
    option_prefix: str = ""

    def check(self) -> None:
        """Refuse to serve other machines without a password, or on an impossible port."""
        if not 0 <= self.port <= 65_535:
            raise ConfigError(
                f"--{self.option_prefix}port {self.port}: choose a port from 1 to 65535 "
                "(0: any free one)"
            )
        if self.password_hash is None and not is_loopback(self.host):
            raise ConfigError(
                f"--{self.option_prefix}host {self.host}: serving other machines needs a "
                "password; run `miserymeter hash-password --config FILE` (it writes the "
                "password_hash into FILE's [serve] table) and pass --config FILE, or serve on "
                "127.0.0.1"
            )


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.1, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
