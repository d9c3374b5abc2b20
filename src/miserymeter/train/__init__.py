"""Training: dataset → augment → train → evaluate → export. Needs the `train` extra."""

from miserymeter.errors import MissingExtraError


def require_torch() -> None:
    """Fail with a clear message when the `train` extra (PyTorch) is not installed."""
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise MissingExtraError(
            "training needs PyTorch: install the train extra with "
            "`pip install 'miserymeter[train]'` (torch==2.13.0)"
        ) from e
