"""One small error hierarchy; the CLI turns these into one line and an exit code."""


class MiseryMeterError(Exception):
    """Base of every error a user can cause and fix."""


class AudioError(MiseryMeterError):
    """An audio file is missing, unreadable, empty or of an unusable shape."""


class DatasetError(MiseryMeterError):
    """A dataset folder does not hold what training needs."""


class ModelError(MiseryMeterError):
    """A model or checkpoint file is not usable."""


class ConfigError(MiseryMeterError):
    """An option or flag has an invalid value."""


class MissingExtraError(MiseryMeterError):
    """An optional extra (e.g. `train`) is not installed."""


class RunInterrupted(MiseryMeterError):
    """The user stopped a long run (Ctrl-C); its state was saved and can be resumed."""


class MicrophoneError(MiseryMeterError):
    """A microphone cannot be found, opened or read."""


class StorageError(MiseryMeterError):
    """An archive, clip folder or database cannot be written."""


class ServerUnreachable(StorageError):
    """A database's server cannot be reached now (down, restarting, out of the network): a
    failure expected to pass. `reason` is the driver's, in one line."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
