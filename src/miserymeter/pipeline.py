"""The one place that wires a source to the sinks: audio → hops → model → detector → records.

Every hop (1 s by default) of audio at the model's rate gets a loudness; the model scores the
latest window of its clip duration unless the loudness gate finds it quiet (`frontend.
loudness_gate`: within `gate_db` of the crying band's noise floor) and no episode is open (or the
listener has fallen behind live input, when stale windows are dropped and counted); the
detector turns the scores into episodes; every fact becomes a record handed to the sinks.
Time comes from sample counts, anchored to the wall clock once per run of the input (and on a
microphone, slewed back toward it when the device's clock drifts: `capture.clock_slew`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import soxr

from miserymeter.audio.episode_clips import ClipSettings, EpisodeClipKeeper
from miserymeter.capture.clock_slew import ClockSlew
from miserymeter.capture.sources import AudioSource, FileSource, SourceBlock
from miserymeter.clock import utc_now
from miserymeter.constants import (
    DEFAULT_GATE_DB,
    DEFAULT_HOP_S,
    DEFAULT_MAX_LAG_S,
    DEFAULT_ROOM,
)
from miserymeter.detect.episodes import (
    DetectedEpisode,
    EpisodeConfirmed,
    EpisodeDetector,
    n_lead_hops,
)
from miserymeter.detect.minutes import MinuteSummarizer
from miserymeter.detect.settings import DetectorSettings
from miserymeter.errors import AudioError, ConfigError, MiseryMeterError
from miserymeter.frontend.hops import HopFramer, SlidingWindow
from miserymeter.frontend.level_meter import LevelMeter
from miserymeter.frontend.loudness import rms_dbfs
from miserymeter.frontend.loudness_gate import LoudnessGate
from miserymeter.frontend.noise_floor import NoiseFloor
from miserymeter.inference.labels import crying_label
from miserymeter.inference.model import Classifier, ModelInfo, Scorer
from miserymeter.listener_status import (
    STARTED,
    STATUS_EVERY_S,
    StatusReporter,
    started_message,
)
from miserymeter.records import (
    STOPPED,
    CryingContinues,
    CryingStarted,
    Episode,
    ListenerEvent,
    Record,
    RecordSink,
    SecondRecord,
)


@dataclass(frozen=True)
class ListenSettings:
    """How the listener turns audio into records (see `miserymeter listen --help`)."""

    room: str = DEFAULT_ROOM
    detector: str = "model"
    hop_s: float = DEFAULT_HOP_S
    crying_label: str | None = None
    gate_db: float | None = DEFAULT_GATE_DB
    max_lag_s: float = DEFAULT_MAX_LAG_S
    duration_s: float | None = None
    detection: DetectorSettings = field(default_factory=DetectorSettings)
    clips: ClipSettings | None = None
    status_every_s: float = STATUS_EVERY_S


@dataclass(frozen=True)
class ListenSummary:
    """What a listening session did."""

    n_hops: int
    n_scored: int
    n_gated: int
    n_dropped: int
    n_episodes: int
    n_sink_failures: int


@dataclass
class _Run:
    """State of one uninterrupted run of the input."""

    offset_s: float
    resampler: soxr.ResampleStream | None
    framer: HopFramer
    window: SlidingWindow
    n_hops: int = 0
    n_samples: int = 0


def check_settings_fit(settings: ListenSettings, info: ModelInfo) -> None:
    """A ConfigError naming the option when `settings` do not fit the model: a hop longer
    than its window, a crying label it does not know."""
    if settings.hop_s <= 0 or settings.hop_s * 1000 > info.clip_duration_ms:
        raise ConfigError(
            f"--hop_s {settings.hop_s}: must be above 0 and at most the model's window "
            f"({info.clip_duration_ms / 1000:g} s)"
        )
    crying_label(info.labels, settings.crying_label)


class Listener:
    """Listens to one source with one classifier until the input ends or `stop` is set.

    `level_meter` (the dashboard's, in `listen --serve`) gets every block as it arrives.
    """

    def __init__(
        self,
        source: AudioSource,
        classifier: Scorer,
        settings: ListenSettings,
        *,
        sinks: Sequence[RecordSink],
        clock: Callable[[], datetime] = utc_now,
        level_meter: LevelMeter | None = None,
    ) -> None:
        info = classifier.info
        check_settings_fit(settings, info)
        self.source = source
        self.classifier = classifier
        self.settings = settings
        self._sinks = sinks
        self._clock = clock
        self._level_meter = level_meter
        self._n_hop = round(settings.hop_s * info.sample_rate_hz)
        self._crying_index = info.labels.index(crying_label(info.labels, settings.crying_label))
        self._detector = EpisodeDetector(settings.detection, hop_s=settings.hop_s)
        self._minutes = MinuteSummarizer()
        self._noise_floor = NoiseFloor(hop_s=settings.hop_s)
        self._gate = LoudnessGate(
            gate_db=settings.gate_db, sample_rate_hz=info.sample_rate_hz, hop_s=settings.hop_s
        )
        self._clips = (
            EpisodeClipKeeper(
                settings.clips,
                sample_rate_hz=info.sample_rate_hz,
                lookback_s=(n_lead_hops(settings.detection, hop_s=settings.hop_s) + 2)
                * settings.hop_s,
            )
            if settings.clips is not None
            else None
        )
        self._run: _Run | None = None
        self._minutes_told: tuple[float, int] | None = None  # (confirmed episode's start_s, n)
        self._first_start: datetime | None = None
        self._next_offset_s = 0.0
        self._slew = ClockSlew(hop_s=settings.hop_s)
        self._pending: list[Record] = []
        self._reports: list[ListenerEvent] = []
        self._reports_lock = threading.Lock()
        self._counts = {"scored": 0, "gated": 0, "dropped": 0, "episodes": 0, "sink_failures": 0}
        self._n_hops = 0
        self._behind = False
        self._status = StatusReporter(settings.room, every_s=settings.status_every_s, clock=clock)

    def run(self, stop: threading.Event) -> ListenSummary:
        """Read the source to its end (or until `stop`), handing records to the sinks."""
        room, source = self.settings.room, self.source
        self.event(STARTED, started_message(source.name, room, is_live=source.is_live))
        broke_off: AudioError | None = None
        try:
            for block in self.source.blocks(stop):
                self._take(block)
                if self._status.is_due:
                    status = self._status.status(n_dropped_total=self._counts["dropped"])
                    self._pending.append(status)
                self._deliver()
                if self._is_done():
                    break
        except AudioError as e:  # what was heard is ended and stored all the same
            broke_off = e
        self._end_run()
        self._pending.append(self._status.status(n_dropped_total=self._counts["dropped"]))
        heard = f"after {self._n_hops * self.settings.hop_s:.0f} s"
        self.event(STOPPED, f"stopped {heard}" + (": the input broke off" if broke_off else ""))
        self._deliver()
        if broke_off is not None:
            raise broke_off
        c = self._counts
        return ListenSummary(
            self._n_hops, c["scored"], c["gated"], c["dropped"], c["episodes"], c["sink_failures"]
        )

    def _is_done(self) -> bool:
        duration_s = self.settings.duration_s
        return duration_s is not None and self._n_hops * self.settings.hop_s >= duration_s

    def hand_over(self, records: Sequence[Record]) -> None:
        """Records from before this run (the episode a killed run left open), handed to the
        sinks with this run's first."""
        self._pending += records

    def event(self, kind: str, message: str) -> None:
        """Report something that happened to the listener (or its source) to the sinks now."""
        self._pending.append(ListenerEvent(self.settings.room, self._clock(), kind, message))
        self._deliver()

    def report(self, kind: str, message: str) -> None:
        """Like `event`, from any thread (a courier's): goes to the sinks with the next records."""
        with self._reports_lock:
            self._reports.append(ListenerEvent(self.settings.room, self._clock(), kind, message))

    def _take(self, block: SourceBlock) -> None:
        if self._level_meter is not None:
            floor_dbfs = self._noise_floor.floor_dbfs
            rate_hz = self.source.sample_rate_hz
            self._level_meter.add(block.samples, sample_rate_hz=rate_hz, floor_dbfs=floor_dbfs)
        if block.run_start is not None:
            self._end_run()
            self._start_run(block.run_start)
        if self._run is None:
            if len(block.samples):
                self._start_run(self._clock())
            else:
                return
        run = self._run
        assert run is not None
        samples = block.samples
        if run.resampler is not None:
            samples = run.resampler.resample_chunk(samples, last=block.ends_run)
        run.n_samples += len(samples)
        for hop in run.framer.push(samples):
            if self._is_done():
                return
            self._hop(hop)
        if block.ends_run:
            self._end_run()

    def _start_run(self, start: datetime) -> None:
        info = self.classifier.info
        is_first_run = self._first_start is None
        if self._first_start is None:
            self._first_start = start
        wall_offset_s = (start - self._first_start).total_seconds()
        offset_s = max(self._next_offset_s, wall_offset_s)
        if not is_first_run and offset_s - self._next_offset_s > self.settings.hop_s:
            self.event("input_gap", f"no audio for {offset_s - self._next_offset_s:.1f} s")
        if wall_offset_s >= self._next_offset_s:  # anchored to the wall clock anew
            self._slew = ClockSlew(hop_s=self.settings.hop_s)
        resampler = None
        if self.source.sample_rate_hz != info.sample_rate_hz:
            resampler = soxr.ResampleStream(
                self.source.sample_rate_hz, info.sample_rate_hz, 1, dtype="float32", quality="HQ"
            )
        self._run = _Run(
            offset_s=offset_s,
            resampler=resampler,
            framer=HopFramer(self._n_hop),
            window=SlidingWindow(info.n_window),
        )

    def _end_run(self) -> None:
        """The input broke off or ended: close what is open."""
        if self._run is None:
            return
        self._handle_detector(self._detector.flush())
        self._pending += self._minutes.flush()
        if self._clips is not None:
            self._clips.forget()
        run_duration_s = self._run.n_samples / self.classifier.info.sample_rate_hz
        self._next_offset_s = self._run.offset_s + run_duration_s
        self._run = None

    def _hop(self, hop: np.ndarray) -> None:
        run = self._run
        assert run is not None
        settings = self.settings
        start_s = run.offset_s + run.n_hops * settings.hop_s
        run.n_hops += 1
        self._n_hops += 1
        run.window.advance(hop)
        level_dbfs = rms_dbfs(hop)
        self._noise_floor.add(level_dbfs)
        self._gate.add_hop(hop)
        probability, top_label, detector_input = self._score(run.window, level_dbfs)
        second = SecondRecord(
            settings.room,
            self._at(start_s),
            round(start_s, 3),
            round(level_dbfs, 2),
            probability,
            top_label,
        )
        self._pending.append(second)
        self._pending += self._minutes.add(second)
        if self._clips is not None:
            self._clips.add(hop, start_s=start_s, open_since_s=self._detector.open_since_s)
        self._handle_detector(self._detector.feed(detector_input, end_s=start_s + settings.hop_s))
        self._tell_if_continuing(start_s + settings.hop_s)
        if self.source.is_device_paced:
            self._observe_lateness(start_s + settings.hop_s)

    def _score(
        self, window: SlidingWindow, level_dbfs: float
    ) -> tuple[float | None, str | None, float | None]:
        """The second's crying probability and top label, and what the detector is fed."""
        settings = self.settings
        if settings.detector == "rms":
            crying = level_dbfs >= settings.detection.rms_threshold_dbfs
            return None, None, 1.0 if crying else 0.0
        if not window.is_full:
            return None, None, 0.0
        if self._is_quiet(window):
            self._counts["gated"] += 1
            return None, None, 0.0
        if self.source.is_live and self.source.backlog_s > settings.max_lag_s:
            self._counts["dropped"] += 1
            if not self._behind:
                self._behind = True
                self.event(
                    "falling_behind",
                    f"{self.source.backlog_s:.1f} s of audio wait: dropping windows to catch up",
                )
            return None, None, None
        self._behind = False
        probabilities = self.classifier.score(window.samples[None, :])[0]
        self._counts["scored"] += 1
        probability = round(float(probabilities[self._crying_index]), 4)
        top_label = self.classifier.info.labels[int(np.argmax(probabilities))]
        return probability, top_label, probability

    def _is_quiet(self, window: SlidingWindow) -> bool:
        """Whether the loudness gate may skip the model for this window."""
        if self._detector.open_since_s is not None:
            return False  # never cut an episode short to save CPU
        return self._gate.is_quiet(window.samples)

    def _handle_detector(self, outputs: Sequence[EpisodeConfirmed | DetectedEpisode]) -> None:
        for output in outputs:
            if isinstance(output, EpisodeConfirmed):
                self._minutes_told = (output.start_s, 0)
                self._pending.append(
                    CryingStarted(
                        self.settings.room,
                        self._at(output.start_s),
                        self._at(output.confirmed_s),
                        output.start_s,
                        output.confirmed_s,
                        self.settings.detector,
                    )
                )
            else:
                self._minutes_told = None
                episode = self._episode(output)  # may deliver (a clip that failed): then append
                self._pending.append(episode)
                self._counts["episodes"] += 1

    def _tell_if_continuing(self, end_s: float) -> None:
        """Once per whole minute of the confirmed episode in progress, while the crying is on
        (not in a pause that may yet end it): it goes on."""
        if self._minutes_told is None or not self._detector.is_crying:
            return
        start_s, n_told = self._minutes_told
        n_minutes = int((end_s - start_s) // 60)
        if n_minutes <= n_told:
            return
        self._minutes_told = (start_s, n_minutes)
        self._pending.append(
            CryingContinues(
                self.settings.room,
                self._at(start_s),
                self._at(end_s),
                round(end_s - start_s, 3),
                round(start_s, 3),
                round(end_s, 3),
                self.settings.detector,
            )
        )

    def _episode(self, detected: DetectedEpisode) -> Episode:
        episode = Episode(
            room=self.settings.room,
            start=self._at(detected.start_s),
            end=self._at(detected.end_s),
            start_offset_s=round(detected.start_s, 3),
            end_offset_s=round(detected.end_s, 3),
            confirmed_offset_s=round(detected.confirmed_s, 3),
            peak_probability=round(detected.peak_probability, 4),
            mean_probability=round(detected.mean_probability, 4),
            detector=self.settings.detector,
        )
        if self._clips is None:
            return episode
        try:
            clip_path = self._clips.write(
                room=episode.room,
                start=episode.start,
                start_s=detected.start_s,
                end_s=detected.end_s,
            )
        except MiseryMeterError as e:
            self.event("clip_not_saved", str(e))
            return episode
        return replace(episode, clip_path=clip_path)

    def _observe_lateness(self, end_s: float) -> None:
        """Tell the clock slew how far the wall clock is past this hop's end."""
        assert self._first_start is not None
        end = self._first_start + timedelta(seconds=end_s)
        lateness_s = (self._clock() - end).total_seconds() - self.source.backlog_s
        self._slew.observe(lateness_s)

    def _at(self, offset_s: float) -> datetime:
        first = self._first_start if self._first_start is not None else self._clock()
        return first + timedelta(seconds=offset_s + self._slew.correction_s)

    def _deliver(self) -> None:
        """Hand the pending records to every sink (even none: a sink may report a failure)."""
        with self._reports_lock:
            reports, self._reports = self._reports, []
        records, self._pending = self._pending + reports, []
        for sink in self._sinks:
            try:
                sink.handle(records)
            except MiseryMeterError as e:
                self._counts["sink_failures"] += 1
                self._pending.append(
                    ListenerEvent(self.settings.room, self._clock(), "sink_failed", str(e))
                )


class _Collector:
    def __init__(self) -> None:
        self.episodes: list[Episode] = []

    def handle(self, records: Sequence[Record]) -> None:
        self.episodes += [r for r in records if isinstance(r, Episode)]


def detect_file(
    path: Path,
    *,
    classifier: Classifier,
    detector: str = "model",
    settings: DetectorSettings | None = None,
    gate_db: float | None = DEFAULT_GATE_DB,
    crying_label: str | None = None,
) -> list[Episode]:
    """The episodes `miserymeter listen --input path` finds (offsets from the file's start)."""
    collector = _Collector()
    listen_settings = ListenSettings(
        detector=detector,
        gate_db=gate_db,
        detection=settings or DetectorSettings(),
        crying_label=crying_label,
    )
    source = FileSource(path, clock=utc_now)
    Listener(source, classifier, listen_settings, sinks=[collector]).run(threading.Event())
    return collector.episodes
