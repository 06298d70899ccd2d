"""The local engine: WeChat's OCR replies computed offline (extra ``[local]``).

RapidOCR (ONNX Runtime, models inside its wheel) finds and reads the text lines; the
extractors in :mod:`wxocr_async.local.extract` turn them into WeChat's reply fields.
"""

from pathlib import Path

from .backend import LocalBackend
from .engine import EngineBusy, LocalEngine, default_workers
from .recognizer import model_available

__all__ = [
    "EngineBusy",
    "LocalBackend",
    "LocalEngine",
    "default_workers",
    "model_available",
    "sample_photo",
]


def sample_photo(name: str = "idcard_front_photo.jpg") -> Path:
    """A shipped phone photo of a synthetic document (a fake identity), for trying the
    engine out."""
    path = Path(__file__).parent / "samples" / name
    if not path.is_file():
        raise FileNotFoundError(f"no shipped sample photo {name!r}")
    return path
