"""One serving app per pipeline: PaddleX's endpoint, request schema and result entries.

The request schema is generated from the pipeline's parameter declaration
(its per-call :class:`hpi.pipelines.params.Param` objects, by
``serving_name``), so a parameter added to a pipeline is served without
touching this file. What is written here per pipeline is only what PaddleX's
serving schema says that the declaration cannot: the endpoint path, the name
of the results list and the pictures of each result
(``paddlex/inference/serving/schemas/<pipeline>.py``).

Adding a pipeline to :data:`hpi.pipelines.PIPELINES` needs one row in
:data:`SERVING_APPS` (a test checks that every pipeline has one).
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Callable, Literal, Optional

import numpy as np

from ..errors import ConfigError
from ..results.base import to_jsonable

# (picture, max size) → base64 string; ``ext`` ".jpg" (default) or ".png".
Encoder = Callable[..., str]


def prune_result(value: Any) -> Any:
    """PaddleX's ``prunedResult``: ``input_path`` and ``page_index`` removed at every level, JSON types."""
    if isinstance(value, dict):
        return {k: prune_result(v) for k, v in value.items() if k not in ("input_path", "page_index")}
    if isinstance(value, (list, tuple)):
        return [prune_result(v) for v in value]
    return to_jsonable(value)


def _ocr_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    entry: dict[str, Any] = {"prunedResult": prune_result(result.json["res"])}
    if visualize:
        entry["ocrImage"] = encode(result.img["ocr_res_img"])
        doc = result.doc_preprocessor_res
        if doc is not None:
            from ..predictors.doc_orientation import rotate_upright
            from ..results import DocPreprocessorResult

            # The OCR result keeps the page the preprocessor output (turned upright, then unwarped); the
            # request has the original, and the turned page is the original turned by the angle.
            rotated = rotate_upright(image, doc["angle"]) if doc["angle"] != -1 else image
            picture = DocPreprocessorResult(
                input_path=None, page_index=None, input_img=image, model_settings=doc["model_settings"],
                angle=doc["angle"], rot_img=rotated, output_img=result.image,
            ).img["preprocessed_img"]
            entry["docPreprocessingImage"] = encode(picture)
        entry["inputImage"] = encode(image)
    return entry


def _doc_preprocessor_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX always returns the output page, as PNG; the pictures only with visualize.
    entry: dict[str, Any] = {"outputImage": encode(result.output_img, ext=".png"),
                             "prunedResult": prune_result(result.json["res"])}
    if visualize:
        entry["docPreprocessingImage"] = encode(result.img["preprocessed_img"])
        entry["inputImage"] = encode(image)
    return entry


def _layout_detection_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX serves no layout_detection pipeline; this follows its layout-parsing entries
    # (prunedResult, outputImages by picture name, inputImage).
    entry: dict[str, Any] = {"prunedResult": prune_result(result.json["res"])}
    if visualize:
        entry["outputImages"] = {"layout_det_res": encode(result.img["res"])}
        entry["inputImage"] = encode(image)
    return entry


def _output_images_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's entry for its document pipelines (tableRecResults, sealRecResults, layoutParsingResults):
    # prunedResult, then outputImages (every picture of the result by name: layout_det_res, preprocessed_img,
    # table_cell_img, seal_res_region<N>, ...) and inputImage.
    entry: dict[str, Any] = {"prunedResult": prune_result(result.json["res"])}
    if visualize:
        entry["outputImages"] = {name: encode(picture) for name, picture in result.img.items()}
        entry["inputImage"] = encode(image)
    return entry


def _categories_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /image-classification result: categories [{id, name, score}], image (or null).
    categories = [{"id": int(i), "name": str(n), "score": float(s)}
                  for i, n, s in zip(result.class_ids, result.label_names, result.scores)]
    return {"categories": categories, "image": encode(result.img["res"]) if visualize else None}


def _detected_objects_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /object-detection and /small-object-detection result: detectedObjects [{bbox, categoryId,
    # categoryName, score}], image (or null) (paddlex/inference/serving/schemas/object_detection.py).
    objects = [{"bbox": [float(v) for v in box["coordinate"]], "categoryId": int(box["cls_id"]),
                "categoryName": str(box["label"]), "score": float(box["score"])} for box in result.boxes]
    return {"detectedObjects": objects, "image": encode(result.img["res"]) if visualize else None}


def _label_map_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /semantic-segmentation result: labelMap (the map row by row, flat), size [h, w], image (or null)
    # (paddlex/inference/serving/schemas/semantic_segmentation.py and its app).
    label_map = result.pred[0]
    return {"labelMap": label_map.ravel().tolist(), "size": [int(label_map.shape[0]), int(label_map.shape[1])],
            "image": encode(result.img["res"]) if visualize else None}


def coco_rle(mask: np.ndarray) -> str:
    """A 0/1 mask as COCO's compressed RLE string (pycocotools' ``encode`` then ``rleToString``: run lengths in
    column-major order, zeros first, each after the second as the difference to the one two before, written 5
    bits a character from ``'0'``), the form PaddleX's server sends."""
    flat = (np.asarray(mask) != 0).ravel(order="F").astype(np.int8)
    if flat.size:
        edges = np.flatnonzero(np.diff(flat)) + 1
        runs = np.diff(np.concatenate(([0], edges, [flat.size])))
        counts = ([0] if flat[0] else []) + runs.tolist()
    else:
        counts = [0]
    out = []
    for index, value in enumerate(counts):
        x = int(value) - (int(counts[index - 2]) if index > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def _instances_entry(result: Any, image: np.ndarray, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /instance-segmentation result: instances [{bbox, categoryId, categoryName, score, mask: {rleResult,
    # size}}] (each mask cut to its box, COCO RLE), image (or null) (serving/schemas/instance_segmentation.py).
    instances = [{"bbox": [float(v) for v in box["coordinate"]], "categoryId": int(box["cls_id"]),
                  "categoryName": str(box["label"]), "score": float(box["score"]),
                  "mask": {"rleResult": coco_rle(mask), "size": [int(mask.shape[0]), int(mask.shape[1])]}}
                 for box, mask in zip(result.boxes, result.masks)]
    return {"instances": instances, "image": encode(result.img["res"]) if visualize else None}


def _series_csv_entry(result: Any, frame: Any, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /time-series-forecasting and /time-series-anomaly-detection result: csv (the result DataFrame
    # with its index, base64), image (or null) (serving/schemas/ts_forecast.py, ts_anomaly_detection.py).
    import base64

    return {"csv": base64.b64encode(result.frame.to_csv().encode("utf-8")).decode("ascii"),
            "image": encode(result.img["res"]) if visualize else None}


def _series_class_entry(result: Any, frame: Any, visualize: bool, encode: Encoder) -> dict:
    # PaddleX's /time-series-classification result: label (the class id as text), score, image (or null).
    return {"label": str(result.class_id), "score": float(result.score),
            "image": encode(result.img["res"]) if visualize else None}


@dataclass(frozen=True)
class Protocol:
    """How a family of PaddleX's endpoints takes its input and lays out its result.

    ``fields``: the request's own fields (before the pipeline's parameters), name → (type, default; ``...``
    required). ``source(request)`` → (the base64 or URL text, ``"PDF"`` or ``"IMAGE"``), checked before
    the request is queued. ``one_image``: the input is one image (its first frame). ``result(app, entries,
    data_info)`` → the response's ``result``.
    """

    name: str
    fields: tuple[tuple[str, Any], ...]
    source: Callable[[Any], tuple[str, str]]
    result: Callable[["ServingApp", list[dict], dict], dict]
    one_image: bool = False
    # (bytes, settings) → (the pipeline's inputs, dataInfo); None: images and PDF pages (serving/files.py).
    decode: Callable[[bytes, Any], tuple[list, Any]] | None = None


def _document_source(request: Any) -> tuple[str, str]:
    from .files import file_kind

    return request.file, file_kind(request.file, request.fileType)


# PaddleX's document pipelines (OCR, table, seal, layout parsing, doc preprocessing): ``file`` (base64 or
# URL) + ``fileType`` (0 PDF, 1 image) → ``{<results field>: [one entry per page], dataInfo}``.
DOCUMENT = Protocol(
    "document", (("file", (str, ...)), ("fileType", (Optional[Literal[0, 1]], None))), _document_source,
    lambda app, entries, data_info: {app.results_field: entries, "dataInfo": data_info},
)
# PaddleX's image pipelines (image classification, object detection, segmentation, ...): ``image`` (base64 or
# URL, one image) → the one result's fields at the top of ``result`` (``categories``/``detectedObjects``/...,
# ``image``), no dataInfo (``paddlex/inference/serving/schemas/image_classification.py`` and its kin).
IMAGE = Protocol(
    "image", (("image", (str, ...)),), lambda request: (request.image, "IMAGE"),
    lambda app, entries, data_info: entries[0], one_image=True,
)




def _decode_csv(data: bytes, settings: Any) -> tuple[list, None]:
    from ..errors import InputError
    from ..timeseries.table import read_csv_table
    from .files import FileError

    try:
        return [read_csv_table(data, "the csv", max_rows=settings.max_csv_rows)], None
    except InputError as exc:
        raise FileError(422, f"Invalid input file: {exc}") from None


# PaddleX's time-series pipelines: ``csv`` (base64 or URL) → the one result's fields at the top of ``result``
# (``csv`` or ``label``/``score``, ``image``), no dataInfo (paddlex/inference/serving/schemas/ts_*.py).
TIME_SERIES = Protocol(
    "time_series", (("csv", (str, ...)),), lambda request: (request.csv, "CSV"),
    lambda app, entries, data_info: entries[0], one_image=True, decode=_decode_csv,
)


@dataclass(frozen=True)
class ServingApp:
    """How PaddleX serves one pipeline."""

    pipeline: str  # PaddleX's pipeline name (a key of hpi.pipelines.PIPELINES)
    endpoint: str  # PaddleX's path
    results_field: str  # the list in ``result`` (document protocol)
    entry: Callable[[Any, np.ndarray, bool, Encoder], dict]  # one result → its JSON entry
    protocol: Protocol = DOCUMENT


SERVING_APPS: dict[str, ServingApp] = {
    app.pipeline: app
    for app in (
        ServingApp("OCR", "/ocr", "ocrResults", _ocr_entry),
        ServingApp("doc_preprocessor", "/document-preprocessing", "docPreprocessingResults", _doc_preprocessor_entry),
        ServingApp("table_recognition", "/table-recognition", "tableRecResults", _output_images_entry),
        ServingApp("seal_recognition", "/seal-recognition", "sealRecResults", _output_images_entry),
        ServingApp("layout_detection", "/layout-detection", "layoutDetectionResults", _layout_detection_entry),
        ServingApp("layout_parsing", "/layout-parsing", "layoutParsingResults", _output_images_entry),
        ServingApp("image_classification", "/image-classification", "", _categories_entry, IMAGE),
        ServingApp("image_multilabel_classification", "/multilabel-image-classification", "", _categories_entry,
                   IMAGE),
        ServingApp("object_detection", "/object-detection", "", _detected_objects_entry, IMAGE),
        ServingApp("small_object_detection", "/small-object-detection", "", _detected_objects_entry, IMAGE),
        ServingApp("rotated_object_detection", "/rotated-object-detection", "", _detected_objects_entry, IMAGE),
        ServingApp("semantic_segmentation", "/semantic-segmentation", "", _label_map_entry, IMAGE),
        ServingApp("instance_segmentation", "/instance-segmentation", "", _instances_entry, IMAGE),
        ServingApp("anomaly_detection", "/image-anomaly-detection", "", _label_map_entry, IMAGE),
        ServingApp("ts_forecast", "/time-series-forecasting", "", _series_csv_entry, TIME_SERIES),
        ServingApp("ts_anomaly_detection", "/time-series-anomaly-detection", "", _series_csv_entry, TIME_SERIES),
        ServingApp("ts_classification", "/time-series-classification", "", _series_class_entry, TIME_SERIES),
    )
}


def serving_app(pipeline_name: str) -> ServingApp:
    try:
        return SERVING_APPS[pipeline_name]
    except KeyError:
        raise ConfigError(
            f"Pipeline {pipeline_name!r} has no serving app yet (served: {', '.join(SERVING_APPS)}); "
            "add a row to hpi.serving.apps.SERVING_APPS."
        ) from None


# The request fields every app has besides its protocol's and the pipeline's parameters (PaddleX's per-app
# visualize, and logId).
COMMON_FIELDS = ("visualize", "logId")


def _python_type(annotation: Any) -> Any:
    """The plain type a request field takes for a config annotation (``int | None`` → ``int``)."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) > 1 and typing.get_origin(annotation) is not Literal:
        return Any  # a number or a per-class mapping (layout_threshold): the pipeline's own check decides
    base = args[0] if typing.get_origin(annotation) is not None and args else annotation
    if typing.get_origin(base) is Literal:
        return base
    return base if base in (bool, int, float, str) else Any


def request_fields(pipeline_cls: type) -> dict[str, tuple[str, Any]]:
    """serving name → (hpi parameter name, request field type), for the pipeline's per-call parameters."""
    out: dict[str, tuple[str, Any]] = {}
    for param in pipeline_cls.params:
        if param.call:
            annotation, _ = param.field(pipeline_cls.config_class)
            out[param.serving_name] = (param.name, _python_type(annotation))
    return out


def request_model(pipeline_cls: type, protocol: Protocol = DOCUMENT):
    """The pydantic model of a pipeline's request body: the protocol's fields, then the pipeline's per-call
    parameters (generated from its declaration), ``visualize`` and ``logId``.

    Every field but the input (``file``, ``image``) is optional (None: the config's value); unknown
    fields are ignored (PaddleX's servers do the same, so clients that send
    newer fields keep working); values are parsed as pydantic does for
    PaddleX (``"0.5"`` is a number, ``"high"`` is a ``float_parsing`` error).
    """
    from pydantic import ConfigDict, create_model

    fields: dict[str, Any] = dict(protocol.fields)
    for serving_name, (_, field_type) in request_fields(pipeline_cls).items():
        fields[serving_name] = (Optional[field_type], None)
    fields["visualize"] = (Optional[bool], None)
    fields["logId"] = (Optional[str], None)
    name = "".join(part[:1].upper() + part[1:] for part in pipeline_cls.name.replace("-", "_").split("_"))
    return create_model(f"{name}InferRequest", __config__=ConfigDict(extra="ignore"), **fields)


__all__ = ["COMMON_FIELDS", "DOCUMENT", "IMAGE", "TIME_SERIES", "Protocol", "SERVING_APPS", "ServingApp", "prune_result",
           "request_fields", "request_model", "serving_app"]
