"""The OCR pipeline: detection → sort → crop → (textline orientation) → recognition → score filter."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any, Iterator

import numpy as np

from .. import kernels
from ..backends.select import choose_runner
from ..config import OCRConfig
from ..device import parse_device
from ..errors import ConfigError, HPIError, InputError
from ..inputs import InputItem, iter_items
from ..models.registry import MODELS, ModelSpec
from ..models.resolve import resolve_model
from ..predictors import DocOrientationClassifier, TextDetector, TextlineClassifier, TextRecognizer
from ..predictors.doc_orientation import rotate_upright
from ..predictors.text_detection import DetParams
from ..predictors.text_recognition import load_characters
from ..results import ErrorResult, OCRResult
from ..timing import StageTimes

log = logging.getLogger("hpi")

# PaddleX's per-call parameters of the OCR pipeline, and whether hpi supports them.
PREDICT_PARAMS = (
    "use_doc_orientation_classify", "use_doc_unwarping", "use_textline_orientation",
    "text_det_limit_side_len", "text_det_limit_type", "text_det_max_side_limit", "text_det_thresh",
    "text_det_box_thresh", "text_det_unclip_ratio", "text_rec_score_thresh", "return_word_box",
)
_UNSUPPORTED_WHEN_TRUE = {
    "use_doc_unwarping": "document unwarping (UVDoc)",
    "return_word_box": "word boxes",
}

_TASK_DEFAULTS = {
    "doc_orientation": "PP-LCNet_x1_0_doc_ori",
    "text_detection": "PP-OCRv4_mobile_det",
    "textline_orientation": "PP-OCRv2_mobile_textline_ori",
    "text_recognition": "PP-OCRv4_mobile_rec",
}


def sort_boxes(boxes: np.ndarray) -> np.ndarray:
    """Reading order: top-to-bottom, then left-to-right for boxes on one line (within 10 px), as PaddleX."""
    if len(boxes) == 0:
        return boxes
    order = sorted(range(len(boxes)), key=lambda i: (boxes[i][0][1], boxes[i][0][0]))
    for i in range(len(order) - 1):
        for j in range(i, -1, -1):
            a, b = boxes[order[j]], boxes[order[j + 1]]
            if abs(b[0][1] - a[0][1]) < 10 and b[0][0] < a[0][0]:
                order[j], order[j + 1] = order[j + 1], order[j]
            else:
                break
    return boxes[order]


class OCRPipeline:
    """PaddleX's OCR pipeline on hpi's engine. Create it with :func:`hpi.create_pipeline`.

    A pipeline object may be used from several threads at once: per-call
    parameters are arguments, never stored state, and the runners are
    thread-safe (see README, "Threads").
    """

    def __init__(self, config: OCRConfig, device: str | None = None) -> None:
        self.config = config
        self.device = parse_device(device)
        self._lock = threading.Lock()
        hpi = config.hpi_config
        self._runner_args = dict(
            device=self.device, backend=hpi.backend, threads=hpi.threads, precision=hpi.precision,
            measure=hpi.measure,
        )
        self.text_detector = self._load_detector()
        self.text_recognizer = self._load_recognizer()
        self._textline_classifier: TextlineClassifier | None = None
        if config.use_textline_orientation:
            self._textline_classifier = self._load_classifier()
        self._doc_orientation_classifier: DocOrientationClassifier | None = None
        if config.use_doc_preprocessor and config.doc_preprocessor.use_doc_orientation_classify:
            self._doc_orientation_classifier = self._load_doc_orientation_classifier()

    # -- model loading -----------------------------------------------------
    def _resolve(self, task: str, model_name: str, model_dir: str | None):
        default_spec = MODELS[_TASK_DEFAULTS[task]]
        if model_dir:
            artifacts = resolve_model(model_dir, default_spec=default_spec)
        elif model_name in MODELS:
            if MODELS[model_name].task != task:
                raise ConfigError(f"Model {model_name!r} is a {MODELS[model_name].task} model, not {task}.")
            artifacts = resolve_model(model_name)
        else:
            known = ", ".join(n for n, s in MODELS.items() if s.task == task and s.status == "used")
            raise ConfigError(
                f"No weights for {task} model {model_name!r}: hpi ships {known}. Set model_name to one of "
                f"those, or set model_dir to your own PaddleX model directory or .onnx file."
            )
        spec: ModelSpec = artifacts.spec or default_spec
        return artifacts, spec

    def _load_detector(self) -> TextDetector:
        cfg = self.config.text_detection
        artifacts, spec = self._resolve("text_detection", cfg.model_name, cfg.model_dir)
        return TextDetector(choose_runner(artifacts, **self._runner_args), spec)

    def _load_recognizer(self) -> TextRecognizer:
        cfg = self.config.text_recognition
        artifacts, spec = self._resolve("text_recognition", cfg.model_name, cfg.model_dir)
        use_space = bool(spec.postprocess.get("use_space_char", True))
        listed = _dict_from_model_dir(cfg.model_dir) if cfg.model_dir else None
        if listed is not None:
            # PaddleX uses the list verbatim; a list that already ends with the space gets no second one.
            characters = kernels.build_ctc_characters(listed, use_space_char=use_space and listed[-1] != " ")
        else:
            dict_path = artifacts.extra_files.get("dict") or resolve_model(
                _TASK_DEFAULTS["text_recognition"], need_onnx=False
            ).extra_files["dict"]
            characters = load_characters(dict_path, use_space)
        runner = choose_runner(artifacts, **self._runner_args)
        return TextRecognizer(runner, spec, characters, cfg.batch_size)

    def _load_classifier(self) -> TextlineClassifier:
        cfg = self.config.textline_orientation
        artifacts, spec = self._resolve("textline_orientation", cfg.model_name, cfg.model_dir)
        return TextlineClassifier(choose_runner(artifacts, **self._runner_args), spec, cfg.batch_size)

    @property
    def textline_classifier(self) -> TextlineClassifier:
        with self._lock:
            if self._textline_classifier is None:
                self._textline_classifier = self._load_classifier()
            return self._textline_classifier

    def _load_doc_orientation_classifier(self) -> DocOrientationClassifier:
        cfg = self.config.doc_preprocessor.doc_orientation_classify
        artifacts, spec = self._resolve("doc_orientation", cfg.model_name, cfg.model_dir)
        return DocOrientationClassifier(choose_runner(artifacts, **self._runner_args), spec)

    @property
    def doc_orientation_classifier(self) -> DocOrientationClassifier:
        with self._lock:
            if self._doc_orientation_classifier is None:
                self._doc_orientation_classifier = self._load_doc_orientation_classifier()
            return self._doc_orientation_classifier

    def _doc_settings(self, kwargs: dict) -> dict | None:
        """The DocPreprocessor's model_settings for this call (PaddleX's rules), or None when it does not run."""
        orientation, unwarping = kwargs.get("use_doc_orientation_classify"), kwargs.get("use_doc_unwarping")
        if orientation is None and unwarping is None:
            runs = self.config.use_doc_preprocessor
        else:
            runs = bool(orientation) or bool(unwarping)
        if not runs:
            return None
        doc = self.config.doc_preprocessor
        settings = {
            "use_doc_orientation_classify": bool(_get(kwargs, "use_doc_orientation_classify",
                                                      doc.use_doc_orientation_classify)),
            "use_doc_unwarping": bool(_get(kwargs, "use_doc_unwarping", doc.use_doc_unwarping)),
        }
        if settings["use_doc_unwarping"]:
            raise ConfigError(
                "The doc preprocessor would run with SubPipelines.DocPreprocessor.use_doc_unwarping: True, but "
                "document unwarping (UVDoc) is not supported by hpi; set it to False in the config or pass "
                "use_doc_unwarping=False."
            )
        return settings

    # -- prediction ----------------------------------------------------------
    def _call_params(self, kwargs: dict) -> tuple[DetParams, bool, float]:
        unknown = sorted(set(kwargs) - set(PREDICT_PARAMS))
        if unknown:
            raise ConfigError(
                f"Unknown predict parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
                f"Valid: {', '.join(PREDICT_PARAMS)}."
            )
        for key, what in _UNSUPPORTED_WHEN_TRUE.items():
            if kwargs.get(key):
                raise ConfigError(f"{key}=True is not supported by hpi yet ({what}); pass False or leave it out.")
        det = self.config.text_detection
        params = DetParams(
            limit_side_len=_get(kwargs, "text_det_limit_side_len", det.limit_side_len),
            limit_type=_get(kwargs, "text_det_limit_type", det.limit_type),
            max_side_limit=_get(kwargs, "text_det_max_side_limit", det.max_side_limit),
            thresh=_get(kwargs, "text_det_thresh", det.thresh),
            box_thresh=_get(kwargs, "text_det_box_thresh", det.box_thresh),
            unclip_ratio=_get(kwargs, "text_det_unclip_ratio", det.unclip_ratio),
            box_type=det.box_type,
            score_mode=det.score_mode,
        )
        # Validate overrides with the config's own rules.
        replace(det, limit_side_len=params.limit_side_len, limit_type=params.limit_type,
                max_side_limit=params.max_side_limit, thresh=params.thresh, box_thresh=params.box_thresh,
                unclip_ratio=params.unclip_ratio).validate("predict")
        use_tlo = _get(kwargs, "use_textline_orientation", self.config.use_textline_orientation)
        score_thresh = _get(kwargs, "text_rec_score_thresh", self.config.text_recognition.score_thresh)
        replace(self.config.text_recognition, score_thresh=score_thresh).validate("predict")
        return params, bool(use_tlo), float(score_thresh)

    def predict(self, input: Any, on_error: str | None = None, **kwargs) -> Iterator[OCRResult | ErrorResult]:
        """OCR each image of ``input``; yields one result per image (per page for PDFs).

        ``input``: an image or PDF path, a directory, a numpy array (H×W×3 BGR
        uint8) or a list of those. A bad input raises :class:`InputError`
        when it is the only input; inside a batch it is yielded as an
        :class:`ErrorResult` and the rest go on (``on_error="raise"`` or
        ``"report"`` overrides this).
        """
        if on_error not in (None, "raise", "report"):
            raise ConfigError(f"on_error is {on_error!r}; use 'raise' or 'report'.")
        params, use_tlo, score_thresh = self._call_params(kwargs)
        doc_settings = self._doc_settings(kwargs)
        items, is_batch = iter_items(input)
        mode = on_error or ("report" if is_batch else "raise")
        for item in items:
            if item.error is None:
                try:
                    yield self._predict_one(item, params, use_tlo, score_thresh, doc_settings)
                    continue
                except HPIError as exc:  # unreadable input, a backend failing on this image, ...
                    item.error = exc
                except Exception as exc:  # a bug on one image must not end a long batch either
                    if mode == "raise":
                        raise
                    item.error = HPIError(
                        f"{item.input_path or item.stem}: processing failed ({type(exc).__name__}: {exc})"
                    )
            if mode == "raise":
                raise item.error
            log.warning("Skipped %s: %s", item.input_path or item.stem, item.error)
            yield ErrorResult(item.input_path, item.page_index, item.error, item.stem)

    __call__ = predict

    def _predict_one(self, item: InputItem, params: DetParams, use_tlo: bool, score_thresh: float,
                     doc_settings: dict | None = None) -> OCRResult:
        times = StageTimes()
        image = item.image
        doc_res = None
        if doc_settings is not None:
            # PaddleX's DocPreprocessor: classify the page, turn it upright; OCR, the result's image
            # and its boxes then refer to the turned page. -1: orientation not classified.
            angle = -1
            if doc_settings["use_doc_orientation_classify"]:
                angle, _ = self.doc_orientation_classifier.predict(image, times)
                with times.stage("doc_ori.post"):
                    image = rotate_upright(image, angle)
            doc_res = {"input_path": None, "page_index": None, "model_settings": doc_settings, "angle": angle}
        boxes, _ = self.text_detector.predict(image, params, times)
        with times.stage("det.post"):
            boxes = sort_boxes(boxes)
        with times.stage("crop"):
            crops = kernels.crop_text_regions(image, boxes) if len(boxes) else []
        angles = [-1] * len(crops)
        if use_tlo and crops:
            labels, _ = self.textline_classifier.predict(crops, times)
            angles = labels
            with times.stage("cls.post"):
                crops = [np.ascontiguousarray(c[::-1, ::-1]) if label == 1 else c for c, label in zip(crops, labels)]
        rec = self.text_recognizer.predict(crops, times) if crops else []
        keep = [i for i, (_, score) in enumerate(rec) if score >= score_thresh]
        polys = boxes.astype(np.int32) if len(boxes) else np.zeros((0, 4, 2), np.int32)
        return OCRResult(
            input_path=item.input_path,
            page_index=item.page_index,
            image=image,
            model_settings={"use_doc_preprocessor": doc_settings is not None, "use_textline_orientation": use_tlo},
            dt_polys=polys,
            text_det_params=params.as_paddlex(),
            text_type=self.config.text_type,
            textline_orientation_angles=angles,
            text_rec_score_thresh=score_thresh,
            rec_texts=[rec[i][0] for i in keep],
            rec_scores=[rec[i][1] for i in keep],
            rec_polys=polys[keep] if len(keep) else np.zeros((0, 4, 2), np.int32),
            stem=item.stem,
            timings_ms=times.as_ms(),
            doc_preprocessor_res=doc_res,
        )

    def describe_backends(self) -> dict[str, str]:
        out = {"text_detection": self.text_detector.runner.describe(),
               "text_recognition": self.text_recognizer.runner.describe()}
        if self._textline_classifier is not None:
            out["textline_orientation"] = self._textline_classifier.runner.describe()
        if self._doc_orientation_classifier is not None:
            out["doc_orientation"] = self._doc_orientation_classifier.runner.describe()
        return out

    def close(self) -> None:
        for predictor in (self.text_detector, self.text_recognizer, self._textline_classifier,
                          self._doc_orientation_classifier):
            if predictor is not None:
                predictor.runner.deactivate()

    def __enter__(self) -> "OCRPipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _get(kwargs: dict, key: str, default):
    value = kwargs.get(key)
    return default if value is None else value


def _dict_from_model_dir(model_dir: str) -> list[str] | None:
    """The characters listed in a PaddleX rec model dir's inference.yml (PostProcess.character_dict)."""
    from pathlib import Path

    import yaml

    yml = Path(model_dir) / "inference.yml"
    if not yml.is_file():
        return None
    data = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
    chars = (data.get("PostProcess") or {}).get("character_dict")
    if isinstance(chars, list) and chars:
        return [str(c) for c in chars]
    return None
