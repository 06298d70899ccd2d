"""RapidOCR 3.x in one worker: the pinned models, loaded once, and the two ways we call it.

The ``[local]`` extra is ``rapidocr`` (3.10 or newer 3.x) with ``onnxruntime``;
``[local-openvino]`` runs the same models on OpenVINO instead (``WXOCR_LOCAL_RUNTIME``
chooses when both are installed; ONNX Runtime by default). The models
are the PP-OCRv6 "small" detector and recogniser that rapidocr ships inside its wheel,
named by file and by version: a rapidocr whose bundled or default models change fails at
:func:`load` (a missing file, or rapidocr refusing the version), never reads differently
in silence, and never downloads (a ``model_path`` skips rapidocr's download step).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .lines import Line

#: the pinned models: rapidocr's OCRVersion and ModelType, and the files in its wheel
OCR_VERSION = "PP-OCRv6"
MODEL_TYPE = "small"
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
#: the angle classifier stays off: on generated documents it read the same fields, cost
#: about half as much time again per image, and turned short crops upside down ("¥98"
#: read as "86夫")
USE_ANGLE_CLASSIFIER = False
#: the detector keeps text boxes scoring at least this (RapidOCR's default 0.5 drops whole
#: rows of light print, such as a business licence's 名称 row; 0.3 keeps them at no cost)
DET_BOX_THRESH = float(os.environ.get("WXOCR_DET_BOX_THRESH", "0.3"))

#: the inference runtimes the models run on, in order of preference
RUNTIMES = ("onnxruntime", "openvino")

_engine: Any = None


def available() -> bool:
    """Whether rapidocr and one of its runtimes (the ``[local]`` extra) are installed."""
    return runtime() is not None


def runtime() -> str | None:
    """The runtime the models run on: ``WXOCR_LOCAL_RUNTIME`` if set, else the first of
    :data:`RUNTIMES` installed; None when rapidocr or every runtime is missing."""
    import importlib.util

    if importlib.util.find_spec("rapidocr") is None:
        return None
    wanted = os.environ.get("WXOCR_LOCAL_RUNTIME", "").strip().lower()
    if wanted and wanted not in RUNTIMES:
        raise ValueError(f"WXOCR_LOCAL_RUNTIME={wanted!r}: expected one of {', '.join(RUNTIMES)}")
    for name in (wanted,) if wanted else RUNTIMES:
        if importlib.util.find_spec(name) is not None:
            return name
    return None


def models_dir() -> Path:
    """Where rapidocr keeps the models of its wheel."""
    import rapidocr

    return Path(rapidocr.__file__).resolve().parent / "models"


def load(threads: int = 1) -> None:
    """Load both models into this worker (once); ``threads`` for ONNX Runtime.

    rapidocr 3.x loads a model on its first use: both are run once here on a blank image,
    so that a missing or broken model fails the engine's start, not a user's first image.
    """
    global _engine
    if _engine is not None:
        return
    import numpy as np
    from rapidocr import EngineType, ModelType, OCRVersion, RapidOCR

    chosen = runtime()
    if chosen is None:
        raise ModuleNotFoundError(
            "the local engine needs rapidocr and onnxruntime: pip install 'wxocr_async[local]'"
        )
    models = models_dir()
    for name in (DET_MODEL, REC_MODEL):
        if not (models / name).is_file():
            raise FileNotFoundError(
                f"rapidocr no longer ships {name} in {models}: wxocr_async pins the"
                f" {OCR_VERSION} {MODEL_TYPE} models (install rapidocr>=3.10,<4)"
            )
    pinned = {
        "engine_type": EngineType(chosen),
        "ocr_version": OCRVersion(OCR_VERSION),
        "model_type": ModelType(MODEL_TYPE),
    }
    engine = RapidOCR(
        params={
            "Global.use_cls": USE_ANGLE_CLASSIFIER,
            "Global.log_level": "error",  # not an INFO line per model on stderr
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            "EngineConfig.openvino.inference_num_threads": threads,
            "Det.box_thresh": DET_BOX_THRESH,
            "Det.model_path": str(models / DET_MODEL),
            **{f"Det.{key}": value for key, value in pinned.items()},
            "Rec.model_path": str(models / REC_MODEL),
            **{f"Rec.{key}": value for key, value in pinned.items()},
        }
    )
    engine(np.full((64, 64, 3), 255, np.uint8), use_det=True, use_cls=False, use_rec=False)
    engine(np.full((48, 192, 3), 255, np.uint8), use_det=False, use_cls=False, use_rec=True)
    if engine.text_det is None or engine.text_rec is None:
        raise RuntimeError("rapidocr did not load its models")
    _engine = engine


def read_page(image: Any) -> list[Line]:
    """Every text line the detector finds in ``image`` (an OpenCV BGR array), as read."""
    load()
    # every step is named on every call: rapidocr 3.x keeps a call's use_det / use_cls /
    # use_rec for the calls after it
    found = _engine(image, use_det=True, use_cls=USE_ANGLE_CLASSIFIER, use_rec=True)
    if found.boxes is None or found.txts is None:  # nothing found
        return []
    items = zip(found.boxes, found.txts, found.scores, strict=True)
    return [Line.from_rapidocr(item) for item in items]


def read_line(crop: Any) -> tuple[str, float]:
    """The text of ``crop``, taken as one line (the recogniser alone), and its score."""
    load()
    found = _engine(crop, use_det=False, use_cls=False, use_rec=True)
    if not found.txts:
        return "", 0.0
    return str(found.txts[0]), float(found.scores[0])
