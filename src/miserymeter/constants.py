"""Every audio and model constant, defined once; derived values are computed from these."""

# Training defaults (the Simple Audio Recognition tutorial's flags keep their meaning).
DEFAULT_SAMPLE_RATE_HZ = 16_000
DEFAULT_CLIP_DURATION_MS = 1_000
DEFAULT_WINDOW_SIZE_MS = 30.0
DEFAULT_WINDOW_STRIDE_MS = 10.0
DEFAULT_FEATURE_BIN_COUNT = 40
DEFAULT_MIN_FREQUENCY_HZ = 60.0
DEFAULT_MAX_FREQUENCY_HZ = 8_000.0

# The shortest window any exported model accepts.
MIN_WINDOW_MS = 1_000

# Log-mel floor, in power relative to a full-scale sine: keeps log() finite on digital silence.
LOG_MEL_FLOOR = 1e-6

# Label names the tutorial reserves.
SILENCE_LABEL = "_silence_"
UNKNOWN_LABEL = "_unknown_"
BACKGROUND_NOISE_DIR = "_background_noise_"

# Files in a dataset folder that are audio.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

# The metadata key that marks an ONNX file as a Misery Meter classifier, and its format version.
MODEL_FORMAT_KEY = "miserymeter_format"
MODEL_FORMAT_VERSION = "1"
