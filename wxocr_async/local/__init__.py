"""The local engine: WeChat's OCR replies computed offline (extra ``[local]``).

RapidOCR (ONNX Runtime, models inside its wheel) finds and reads the text lines; the
extractors in :mod:`wxocr_async.local.extract` turn them into WeChat's reply fields.
"""

from .backend import LocalBackend
from .engine import EngineBusy, LocalEngine, default_workers
from .recognizer import model_available

__all__ = ["EngineBusy", "LocalBackend", "LocalEngine", "default_workers", "model_available"]
