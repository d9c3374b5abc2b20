"""Every audio and model constant, defined once; derived values are computed from these."""

# Training defaults (the Simple Audio Recognition tutorial's flags keep their meaning).
DEFAULT_SAMPLE_RATE_HZ = 16_000
DEFAULT_CLIP_DURATION_MS = 1_000
DEFAULT_WINDOW_SIZE_MS = 30.0
DEFAULT_WINDOW_STRIDE_MS = 10.0
DEFAULT_FEATURE_BIN_COUNT = 40
DEFAULT_MIN_FREQUENCY_HZ = 60.0
DEFAULT_MAX_FREQUENCY_HZ = 8_000.0
DEFAULT_ARCHITECTURE = "tcresnet"

# The shortest window any exported model accepts.
MIN_WINDOW_MS = 1_000

# Log-mel floor, in power relative to a full-scale sine: keeps log() finite on digital silence.
LOG_MEL_FLOOR = 1e-6

# Label names the tutorial reserves.
SILENCE_LABEL = "_silence_"
UNKNOWN_LABEL = "_unknown_"
BACKGROUND_NOISE_DIR = "_background_noise_"

# Files in a dataset folder that are audio (what soundfile reads).
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aiff", ".aif", ".caf")
# Audio soundfile cannot read (phones' voice memos, video): left out of a dataset, and said.
UNREADABLE_AUDIO_SUFFIXES = (".m4a", ".aac", ".wma", ".webm", ".mp4", ".amr", ".3gp")

# The metadata key that marks an ONNX file as a Misery Meter classifier, and its format version.
MODEL_FORMAT_KEY = "miserymeter_format"
MODEL_FORMAT_VERSION = "1"
# A model whose crying is confirmed by YAMNet names the label here (metadata), and the opinion.
SECOND_OPINION_KEY = "second_opinion"
SECOND_OPINION_LABEL_KEY = "second_opinion_label"
SECOND_OPINION_HEAD_KEY = "second_opinion_head"
# The fingerprints of the clips a model was trained on (`prepare.fingerprints`), in its metadata.
TRAINING_CLIPS_KEY = "training_clips"
YAMNET_OPINION = "yamnet"

# The loudness gate listens where crying is loud (a fundamental of 300-600 Hz and its first
# harmonics): a white-noise machine's hiss and rumble outside it cannot mask a cry from the gate.
CRY_BAND_HZ = (250.0, 4_000.0)
# The listener: a room's name until one is given; it scores every hop (s), listens to the model
# only in seconds this many dB over the crying band's noise floor, and drops windows rather than
# fall further behind live input than the lag (s).
DEFAULT_ROOM = "nursery"
DEFAULT_HOP_S = 1.0
DEFAULT_GATE_DB = 3.0
DEFAULT_MAX_LAG_S = 5.0

# A microphone records at this rate or more: below it a cry's harmonics are gone (and a
# stream's hops would be a few samples long).
MIN_SAMPLE_RATE_HZ = 8_000

# Continuous capture (`miserymeter record`): the original project's rate, 30 s segments.
DEFAULT_CAPTURE_SAMPLE_RATE_HZ = 22_050
DEFAULT_SEGMENT_S = 30.0
# Watchdog: a capture that delivers no frames, or only one constant value, for this long is dead.
DEFAULT_NO_FRAMES_S = 5.0
DEFAULT_FLAT_S = 10.0
# Reopening a lost microphone: the first wait, doubled after each failure up to the last.
FIRST_RETRY_S = 1.0
LONGEST_RETRY_S = 60.0

# The dashboard (`serve`, `listen --serve`): loopback unless a password lets others in.
DEFAULT_DASHBOARD_HOST = "127.0.0.1"
DEFAULT_DASHBOARD_PORT = 8000
