"""Document orientation (PaddleX's DocPreprocessor with doc_text_orientation) alone and in the OCR pipeline.

Pages are rendered upright and turned with np.rot90 (counter-clockwise). The
classifier's label is the counter-clockwise turn that makes a page upright, as
in PaddleX (scipy.ndimage.rotate(image, angle) == np.rot90(image, angle // 90)),
so a page turned by k·90° must be classified (360 - k·90) % 360.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from rendering import PAGE_TEXTS, latin_fonts, render_lines

from .conftest import normalize_text

PADDLEX_KEYS_WITH_DOC = [
    "input_path", "page_index", "model_settings", "doc_preprocessor_res", "dt_polys", "text_det_params", "text_type",
    "textline_orientation_angles", "text_rec_score_thresh", "return_word_box", "rec_texts", "rec_scores",
    "rec_polys", "rec_boxes",
]
# Lines the PP-OCRv4 rec model reads exactly (whitespace aside) on the upright DejaVu page below.
OCR_LINES = [PAGE_TEXTS[2], PAGE_TEXTS[4], PAGE_TEXTS[5], PAGE_TEXTS[7]]


def expected_angle(turns: int) -> int:
    return (360 - 90 * turns) % 360


def _fonts():
    fonts = latin_fonts()
    if not fonts:
        pytest.skip("no DejaVu fonts (Debian package fonts-dejavu-core) to render test pages")
    return fonts


@pytest.fixture(scope="module")
def classifier():
    from hpi.backends.select import choose_runner
    from hpi.backends.export_check import prepare_model
    from hpi.predictors import DocOrientationClassifier

    artifacts = prepare_model("PP-LCNet_x1_0_doc_ori")
    runner = choose_runner(artifacts, device="cpu")
    yield DocOrientationClassifier(runner, artifacts.spec)
    runner.deactivate()


@pytest.fixture(scope="module")
def pages():
    fonts = _fonts()
    out = [(f"{font.rsplit('/', 1)[-1]}-{size}", render_lines(PAGE_TEXTS, font, size=size).image)
           for font, size in zip(fonts, (20, 28, 36, 24))]
    out.append(("two-column", render_lines(PAGE_TEXTS, fonts[0], size=22, columns=2).image))
    out.append(("three-lines", render_lines(PAGE_TEXTS[:3], fonts[-1], size=30).image))
    return out


# -- the classifier alone ---------------------------------------------------------------------------


def test_four_orientations_on_rendered_pages(classifier, pages):
    from hpi.predictors.doc_orientation import rotate_upright

    wrong = []
    for name, page in pages:
        for turns in range(4):
            turned = np.ascontiguousarray(np.rot90(page, turns))
            angle, score = classifier.predict(turned)
            if angle != expected_angle(turns) or score < 0.5:
                wrong.append((name, turns * 90, angle, round(score, 3)))
                continue
            # Turning back by the predicted angle restores the page pixel for pixel.
            assert np.array_equal(rotate_upright(turned, angle), page)
    assert not wrong, f"misclassified (page, turned CCW, predicted, score): {wrong}"


def test_preprocess_is_paddlex_recipe(classifier):
    """RGB order, ImageNet mean/std at 1/255, short side to 256, centre crop 224, NCHW."""
    image = np.zeros((512, 1024, 3), np.uint8)
    image[:, :, 2] = 255  # pure red in BGR
    image[:, :287] = 0    # left band: outside the centre crop (resized x < 144 ⇔ source x < 288)
    tensor = classifier.preprocess(image)
    assert tensor.shape == (1, 3, 224, 224) and tensor.dtype == np.float32
    red = (1.0 - 0.485) / 0.229
    np.testing.assert_allclose(tensor[0, 0], red, rtol=1e-5)         # channel 0 is R
    np.testing.assert_allclose(tensor[0, 2], -0.406 / 0.225, rtol=1e-5)  # channel 2 is B
    np.testing.assert_allclose(tensor[0, 1], -0.456 / 0.224, rtol=1e-5)


def test_very_long_image_is_cut_to_the_centre_first(classifier, monkeypatch):
    import cv2

    from hpi.kernels import _reference  # the classifier's resize/crop kernel (both backends use it)

    rng = np.random.default_rng(0)
    strip = rng.integers(0, 256, (40, 12000, 3), dtype=np.uint8)
    resized_from = []
    real_resize = cv2.resize

    def spy(image, *args, **kwargs):
        resized_from.append(image.shape[1])
        return real_resize(image, *args, **kwargs)

    monkeypatch.setattr(cv2, "resize", spy)
    cut = classifier.preprocess(strip)  # resized long side would be 76800 px
    monkeypatch.setattr(_reference, "_CLASSIFY_MAX_RESIZED_LONG_SIDE", 10 ** 9)
    full = classifier.preprocess(strip)
    assert resized_from == [320, 12000]  # 2048 / 6.4 source columns around the centre, then all of them
    assert cut.shape == full.shape == (1, 3, 224, 224)
    # Same pixels up to the sub-pixel shift the centre cut may introduce at this 6.4× upscale.
    assert np.abs(cut - full).max() < 0.05


def test_rotate_upright_convention():
    from hpi.predictors.doc_orientation import rotate_upright

    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert rotate_upright(image, 0) is image
    turned = rotate_upright(image, 90)
    assert turned.shape == (3, 2, 3) and turned.flags["C_CONTIGUOUS"]
    assert np.array_equal(turned[0, 0], image[0, 2])  # counter-clockwise: top-right corner goes top-left
    assert np.array_equal(rotate_upright(rotate_upright(image, 90), 270), image)
    with pytest.raises(ValueError):
        rotate_upright(image, 45)


def test_bad_image_is_an_input_error(classifier):
    from hpi.errors import InputError

    with pytest.raises(InputError, match="H×W×3 uint8"):
        classifier.predict(np.zeros((10, 10), np.uint8))


# -- in the OCR pipeline ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ocr_page():
    return render_lines(PAGE_TEXTS, _fonts()[0], size=28)


# Textline orientation is off in these calls: the crop kernel turns tall crops by 90° and the textline
# classifier flips 180° lines, so with it on, OCR alone reads some lines of a page turned 270° or 180°
# (in reversed order, with vertical boxes). Off, only the document orientation can set the page right.
NO_TLO = {"use_textline_orientation": False}


@pytest.fixture(scope="module")
def upright_result(ocr_pipeline, ocr_page):
    result = next(ocr_pipeline.predict(ocr_page.image, **NO_TLO))
    read = {normalize_text(t) for t in result.rec_texts}
    assert {normalize_text(t) for t in OCR_LINES} <= read, result.rec_texts
    return result


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_pipeline_reads_a_turned_page(ocr_pipeline, ocr_page, upright_result, turns):
    turned = np.ascontiguousarray(np.rot90(ocr_page.image, turns))
    result = next(ocr_pipeline.predict(turned, use_doc_orientation_classify=True, **NO_TLO))
    res = result.json["res"]
    assert res["doc_preprocessor_res"]["angle"] == expected_angle(turns)
    # The page was turned back exactly, so the OCR is that of the upright page: same texts, same boxes,
    # and the result's image (save_to_img) is the upright page.
    assert result.rec_texts == upright_result.rec_texts
    assert np.array_equal(result.rec_polys, upright_result.rec_polys)
    assert np.array_equal(result.image, ocr_page.image)
    assert "doc_ori.model" in result.timings_ms


@pytest.mark.parametrize("turns", [1, 2])
def test_turned_page_without_doc_orientation_is_misread(ocr_pipeline, ocr_page, turns):
    """The control: on a page turned 90° or 180°, OCR alone does not read the lines."""
    turned = np.ascontiguousarray(np.rot90(ocr_page.image, turns))
    result = next(ocr_pipeline.predict(turned, use_doc_orientation_classify=False, **NO_TLO))
    read = {normalize_text(t) for t in result.rec_texts}
    assert not {normalize_text(t) for t in OCR_LINES} & read
    assert "doc_preprocessor_res" not in result.json["res"]
    assert result.model_settings["use_doc_preprocessor"] is False


def test_result_keys_and_files(ocr_pipeline, ocr_page, tmp_path):
    import cv2
    from PIL import Image

    path = tmp_path / "turned.png"
    cv2.imwrite(str(path), np.rot90(ocr_page.image, 1))
    result = next(ocr_pipeline.predict(str(path), use_doc_orientation_classify=True))
    res = result.json["res"]
    assert list(res) == PADDLEX_KEYS_WITH_DOC
    assert res["model_settings"] == {"use_doc_preprocessor": True, "use_textline_orientation": True}
    assert res["doc_preprocessor_res"] == {
        "input_path": None, "page_index": None,
        "model_settings": {"use_doc_orientation_classify": True, "use_doc_unwarping": False},
        "angle": 270,
    }
    data = json.loads(result.save_to_json(tmp_path).read_text())
    assert list(data) == PADDLEX_KEYS_WITH_DOC and data["doc_preprocessor_res"]["angle"] == 270
    height, width = ocr_page.image.shape[:2]  # the upright page, not the turned file
    with Image.open(result.save_to_img(tmp_path)) as img:
        assert img.size == (2 * width, height)
    x1, y1, x2, y2 = res["rec_boxes"].T
    assert x2.max() <= width and y2.max() <= height and (x2 - x1 > y2 - y1).all()  # horizontal lines


# -- config ---------------------------------------------------------------------------------------------

PADDLEX_DOC_YAML = """
pipeline_name: OCR
text_type: general
use_doc_preprocessor: True
use_textline_orientation: False
SubPipelines:
  DocPreprocessor:
    pipeline_name: doc_preprocessor
    use_doc_orientation_classify: True
    use_doc_unwarping: False
    SubModules:
      DocOrientationClassify: {module_name: doc_text_orientation, model_name: PP-LCNet_x1_0_doc_ori, model_dir: null}
      DocUnwarping: {module_name: image_unwarping, model_name: UVDoc, model_dir: null}
SubModules:
  TextDetection: {module_name: text_detection, model_name: PP-OCRv4_mobile_det, model_dir: null}
  TextRecognition: {module_name: text_recognition, model_name: PP-OCRv4_mobile_rec, model_dir: null}
"""


def test_config_round_trip_with_doc_preprocessor():
    from hpi.pipelines.ocr import OCRConfig

    config = OCRConfig.from_dict(yaml.safe_load(PADDLEX_DOC_YAML))
    assert config.use_doc_preprocessor is True
    doc = config.doc_preprocessor
    assert doc.use_doc_orientation_classify is True and doc.use_doc_unwarping is False
    assert doc.doc_orientation_classify.model_name == "PP-LCNet_x1_0_doc_ori"
    assert doc.doc_unwarping is not None and doc.doc_unwarping.model_name == "UVDoc"
    dumped = config.to_dict()
    assert dumped["SubPipelines"]["DocPreprocessor"]["SubModules"]["DocUnwarping"]["model_name"] == "UVDoc"
    assert OCRConfig.from_dict(yaml.safe_load(yaml.safe_dump(dumped))) == config


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["SubPipelines"]["DocPreprocessor"].update(use_doc_orientaton_classify=True),
         "Unknown key 'use_doc_orientaton_classify' in SubPipelines.DocPreprocessor. Valid keys:"),
        (lambda d: d["SubPipelines"]["DocPreprocessor"]["SubModules"]["DocOrientationClassify"].update(topk=2),
         "Unknown key 'topk' in SubPipelines.DocPreprocessor.SubModules.DocOrientationClassify"),
        (lambda d: d["SubPipelines"]["DocPreprocessor"]["SubModules"].update(Layout={}),
         "Unknown SubModules 'Layout' in SubPipelines.DocPreprocessor"),
        (lambda d: d["SubPipelines"]["DocPreprocessor"].update(use_doc_orientation_classify="yes"),
         "use_doc_orientation_classify is 'yes'; it must be True or False"),
        (lambda d: d["SubPipelines"]["DocPreprocessor"].update(pipeline_name="layout_parsing"),
         "pipeline_name is 'layout_parsing'"),
        (lambda d: d["SubPipelines"]["DocPreprocessor"]["SubModules"]["DocUnwarping"].update(model_name=3),
         "SubModules.DocUnwarping.model_name is 3"),
    ],
)
def test_bad_doc_preprocessor_configs(mutate, message):
    from hpi.pipelines.ocr import OCRConfig
    from hpi.errors import ConfigError

    data = yaml.safe_load(PADDLEX_DOC_YAML)
    mutate(data)
    with pytest.raises(ConfigError, match=message):
        OCRConfig.from_dict(data)


@pytest.mark.own_process  # on a fresh cache it prepares and measures models (Paddle Inference among them): 1.2 GB
def test_config_switch_lazy_load_and_per_call_override(ocr_page):
    """use_doc_preprocessor: False with unwarping set in the YAML: accepted (unused), the models load
    only when asked for. use_doc_preprocessor: True runs the classifier by default;
    use_doc_orientation_classify=False turns it off for one call."""
    from hpi import create_pipeline
    from hpi.errors import ConfigError

    data = yaml.safe_load(PADDLEX_DOC_YAML)
    data["use_doc_preprocessor"] = False
    data["SubPipelines"]["DocPreprocessor"]["use_doc_unwarping"] = True
    turned = np.ascontiguousarray(np.rot90(ocr_page.image, 3))
    with create_pipeline(config=data, device="cpu") as pipeline:
        assert pipeline.doc_preprocessor.loaded("doc_orientation") is None
        assert "doc_preprocessor_res" not in next(pipeline.predict(turned)).json["res"]
        assert pipeline.doc_preprocessor.loaded("doc_orientation") is None
        result = next(pipeline.predict(turned, use_doc_orientation_classify=True, use_doc_unwarping=False))
        assert result.json["res"]["doc_preprocessor_res"]["angle"] == 90
        assert pipeline.doc_preprocessor.loaded("doc_orientation") is not None
        assert pipeline.doc_preprocessor.loaded("doc_unwarping") is None

    with create_pipeline(config=yaml.safe_load(PADDLEX_DOC_YAML), device="cpu") as pipeline:
        assert "doc_preprocessor.doc_orientation" in pipeline.describe_backends()
        res = next(pipeline.predict(turned)).json["res"]
        assert res["model_settings"]["use_doc_preprocessor"] is True and res["doc_preprocessor_res"]["angle"] == 90
        assert {normalize_text(t) for t in OCR_LINES} <= {normalize_text(t) for t in res["rec_texts"]}
        off = next(pipeline.predict(turned, use_doc_orientation_classify=False)).json["res"]
        assert off["model_settings"]["use_doc_preprocessor"] is False and "doc_preprocessor_res" not in off


def test_constructor_flags_like_paddleocr():
    """create_pipeline(use_doc_orientation_classify=...) as PaddleOCR's constructor takes it."""
    from hpi.config import load_pipeline_config
    from hpi.pipelines.ocr import OCRConfig, OCRPipeline
    from hpi.errors import ConfigError

    on = OCRConfig.from_dict(OCRPipeline.apply_overrides(load_pipeline_config("OCR"), {"use_doc_orientation_classify": True}))
    assert on.use_doc_preprocessor and on.doc_preprocessor.use_doc_orientation_classify
    off = OCRConfig.from_dict(OCRPipeline.apply_overrides(load_pipeline_config("OCR"), {"use_doc_orientation_classify": False}))
    assert not off.use_doc_preprocessor
    unwarp = OCRConfig.from_dict(OCRPipeline.apply_overrides(load_pipeline_config("OCR"), {"use_doc_unwarping": True}))
    assert unwarp.use_doc_preprocessor and unwarp.doc_preprocessor.use_doc_unwarping
