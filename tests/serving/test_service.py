"""The Service without HTTP: admission (queue bound, timeouts), isolation of failures, closing, settings.

The pipeline is a real ``doc_preprocessor`` with orientation off (no model), whose ``predict_item`` a
test subclass slows down or breaks per image (the first pixel says how), so these run in milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import numpy as np
import pytest

from hpi.errors import ConfigError
from hpi.pipelines.doc_preprocessor import DocPreprocessorPipeline
from hpi.pipelines.doc_preprocessor.config import DocPreprocessorConfig
from hpi.pipelines.params import Param
from hpi.serving.app import Service
from hpi.serving.settings import ServingSettings

SLOW, BROKEN = 1, 2


class Scripted(DocPreprocessorPipeline):
    """Pixel (0, 0, 0) == SLOW: sleeps 0.4 s; == BROKEN: raises; else the real (model-free) result."""

    def predict_item(self, item, call):
        marker = int(item.image[0, 0, 0])
        if marker == SLOW:
            time.sleep(0.4)
        if marker == BROKEN:
            raise RuntimeError("a bug on this image")
        return super().predict_item(item, call)


class Refusing(Scripted):
    """With a per-call switch it cannot do (as OCR's return_word_box): True is a 422 before any image."""

    params = (*Scripted.params, Param("return_word_box", (), "word boxes", init=False, call=True,
                                      unsupported="word boxes", annotation=bool, default=False))


def _service(pipeline_class: type = Scripted, **settings) -> Service:
    config = DocPreprocessorConfig.from_dict({"pipeline_name": "doc_preprocessor", "use_doc_orientation_classify": False})
    return Service(pipeline_class(config), ServingSettings(visualize=False, **settings))


def _body(marker: int = 0, **fields) -> bytes:
    import cv2

    image = np.full((32, 32, 3), 200, np.uint8)
    image[0, 0] = marker
    data = base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()
    return json.dumps({"file": data, "fileType": 1, **fields}).encode()


def _run(service: Service, bodies: list[bytes], stagger_s: float = 0.05):
    async def scenario():
        async def one(i, body):
            await asyncio.sleep(i * stagger_s)
            status, content, headers = await service.handle(body)
            return status, json.loads(content), headers

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))

    return asyncio.run(scenario())


def test_queue_bound_gives_503_at_once_and_the_rest_finish():
    service = _service(concurrency=1, max_queue=1)
    answers = _run(service, [_body(SLOW), _body(SLOW), _body(), _body()])
    statuses = [a[0] for a in answers]
    assert statuses[:2] == [200, 200] and statuses[2:] == [503, 503]
    assert answers[2][1]["errorCode"] == 503 and "overloaded" in answers[2][1]["errorMsg"]
    assert answers[2][2] == {"Retry-After": "1"}
    assert list(answers[0][1]["result"]) == ["docPreprocessingResults", "dataInfo"]


def test_timeout_while_queued_and_while_running():
    service = _service(concurrency=1, max_queue=4, timeout_s=0.25)

    async def scenario():
        first = asyncio.ensure_future(service.handle(_body(SLOW)))
        await asyncio.sleep(0.05)
        second = asyncio.ensure_future(service.handle(_body()))
        answers = [await first, await second]
        while service.running:  # the slow work ends on its own (0.4 s); its slot comes back
            await asyncio.sleep(0.05)
        return answers, await service.handle(_body())

    (first, second), after = asyncio.run(scenario())
    # the first runs past its 0.25 s; the second waits behind it past its own
    assert (first[0], second[0]) == (503, 503)
    assert all("timeout" in json.loads(a[1])["errorMsg"] for a in (first, second))
    assert after[0] == 200  # a request that fits in the timeout is fine afterwards


def test_a_failing_request_is_500_alone():
    service = _service(concurrency=2, max_queue=4)
    answers = _run(service, [_body(), _body(BROKEN), _body()], stagger_s=0)
    assert [a[0] for a in answers] == [200, 500, 200]
    assert answers[1][1]["errorMsg"] == "Internal server error"


def test_invalid_values_are_paddlex_422s_with_the_field():
    service = _service(Refusing)
    status, body, _ = _run(service, [_body(returnWordBox=True)])[0]
    assert status == 422
    (error,) = json.loads(body["errorMsg"])
    assert error["loc"] == "body.returnWordBox" and error["type"] == "value_error"
    status, body, _ = _run(service, [b"[1, 2]"])[0]
    assert status == 422 and json.loads(body["errorMsg"])[0]["type"] == "model_type"


def test_close_waits_for_running_requests_then_refuses():
    service = _service(concurrency=2)

    async def scenario():
        running = asyncio.ensure_future(service.handle(_body(SLOW)))
        await asyncio.sleep(0.1)
        await service.close()  # returns only once the running request is done
        assert running.done()
        late = await service.handle(_body())
        return (await running)[0], late[0], json.loads(late[1])["errorMsg"]

    first, late, message = asyncio.run(scenario())
    assert first == 200 and late == 503 and "shutting down" in message


def test_settings_from_a_paddlex_serving_section():
    settings = ServingSettings.from_paddlex({"visualize": False, "extra": {"max_num_input_imgs": 3,
                                                                          "max_output_img_size": [800, 600]}})
    assert (settings.visualize, settings.max_pdf_pages, settings.max_output_image_size) == (False, 3, (800, 600))
    assert ServingSettings.from_paddlex({"concurrency": 2}).concurrency == 2
    with pytest.raises(ConfigError, match="Unknown Serving key 'concurency' \\(did you mean 'concurrency'\\?\\)"):
        ServingSettings.from_paddlex({"concurency": 2})
    with pytest.raises(ConfigError, match="max_batch_size is 0"):
        ServingSettings(max_batch_size=0)


def test_yaml_serving_values_are_typed_as_command_line_ones():
    """Text in a YAML is parsed as the CLI parses it; a value of the wrong type is an error naming the key."""
    settings = ServingSettings.from_paddlex({"visualize": "false", "timeout_s": 5,
                                             "extra": {"max_output_img_size": "1000,800", "concurrency": "3"}})
    assert (settings.visualize, settings.timeout_s, settings.max_output_image_size, settings.concurrency) == \
        (False, 5.0, (1000, 800), 3)
    for section, message in (({"visualize": "maybe"}, "visualize is 'maybe'; it must be true or false"),
                             ({"visualize": None}, "visualize is 'None'"),
                             ({"extra": {"max_output_img_size": [1000]}}, "two whole numbers"),
                             ({"concurrency": 2.5}, "concurrency is '2.5'; it must be a whole number"),
                             ({"max_queue": True}, "max_queue is 'True'")):
        with pytest.raises(ConfigError, match=message):
            ServingSettings.from_paddlex(section)


def test_every_pipeline_has_a_serving_app_with_generated_fields():
    from hpi.pipelines import PIPELINES, pipeline_class
    from hpi.serving.apps import COMMON_FIELDS, SERVING_APPS, request_model

    assert set(PIPELINES) <= set(SERVING_APPS)
    for name in PIPELINES:
        cls = pipeline_class(name)
        protocol = SERVING_APPS[name].protocol
        fields = set(request_model(cls, protocol).model_fields)
        declared = {p.serving_name for p in cls.params if p.call}
        assert fields == declared | {f for f, _ in protocol.fields} | set(COMMON_FIELDS), name
    ocr = request_model(pipeline_class("OCR")).model_fields
    # PaddleX 3.7.2's OCR request fields (paddlex/inference/serving/schemas/ocr.py)
    assert {"file", "fileType", "useDocOrientationClassify", "useDocUnwarping", "useTextlineOrientation",
            "textDetLimitSideLen", "textDetLimitType", "textDetThresh", "textDetBoxThresh", "textDetUnclipRatio",
            "textRecScoreThresh", "returnWordBox", "visualize", "logId"} <= set(ocr)
    assert SERVING_APPS["OCR"].endpoint == "/ocr"
    assert SERVING_APPS["doc_preprocessor"].endpoint == "/document-preprocessing"


def test_pdf_scale_follows_paddlex_and_the_pixel_cap():
    from hpi.serving.files import FileError, pdf_scale

    assert pdf_scale(612, 792, 178_956_970, 1) == 2.0
    scale = pdf_scale(612, 792, 1_000_000, 1)
    assert scale < 2.0 and np.ceil(612 * scale) * np.ceil(792 * scale) <= 1_000_000
    with pytest.raises(FileError, match="exceeds maximum allowed"):
        pdf_scale(1e6, 1e6, 1_000_000, 3)


def test_serve_command_refuses_bad_arguments(capsys):
    from hpi.cli import main

    assert main(["--serve", "--pipeline", "doc_preprocesor"]) == 2
    assert "did you mean 'doc_preprocessor'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--serve", "--pipeline", "OCR", "--port", "not-a-port"])


def test_the_image_protocol_adapter():
    """PaddleX's image endpoints (/image-classification, /object-detection, ...): ``image`` in (base64 or URL,
    one image), the one result's fields at the top of ``result``, no dataInfo. Served here through a real
    (model-free) doc_preprocessor, as the vision pipelines will be."""
    import cv2

    from hpi.serving.apps import IMAGE, SERVING_APPS, ServingApp

    config = DocPreprocessorConfig.from_dict({"pipeline_name": "doc_preprocessor", "use_doc_orientation_classify": False})
    spec = ServingApp("doc_preprocessor", "/image-test", "", SERVING_APPS["doc_preprocessor"].entry, protocol=IMAGE)
    service = Service(Scripted(config), ServingSettings(visualize=False), app_spec=spec)
    assert set(service.request_model.model_fields) == {"image", "useDocOrientationClassify", "useDocUnwarping",
                                                       "visualize", "logId"}
    image = np.full((24, 40, 3), 200, np.uint8)
    png = base64.b64encode(cv2.imencode(".png", image)[1].tobytes()).decode()
    [(status, body, _)] = _run(service, [json.dumps({"image": png, "logId": "a"}).encode()])
    assert status == 200 and body["logId"] == "a" and body["errorCode"] == 0
    assert set(body["result"]) == {"outputImage", "prunedResult"}  # no dataInfo, no results list
    assert body["result"]["prunedResult"]["angle"] == -1
    out = cv2.imdecode(np.frombuffer(base64.b64decode(body["result"]["outputImage"]), np.uint8), cv2.IMREAD_COLOR)
    assert out.shape == image.shape
    # The document protocol's fields are not this protocol's: "image" is missing.
    [(status, body, _)] = _run(service, [json.dumps({"file": png, "fileType": 1}).encode()])
    assert status == 422 and '"loc": "body.image"' in body["errorMsg"] and '"missing"' in body["errorMsg"]
    asyncio.run(service.close())


def test_settings_from_text_as_ray_serve_passes_them():
    """``serve run hpi.serving.ray_serve:app_builder key=value ...``: each value parsed by its setting's type."""
    settings = ServingSettings.from_text({"max_output_image_size": "1000,800", "visualize": "false",
                                          "concurrency": "4", "timeout_s": "2.5"})
    assert settings.max_output_image_size == (1000, 800) and settings.visualize is False
    assert settings.concurrency == 4 and settings.timeout_s == 2.5
    for bad, message in (({"visualize": "flase"}, "visualize is 'flase'; it must be true or false"),
                         ({"max_output_image_size": "1000"}, "two whole numbers"),
                         ({"concurency": "3"}, "did you mean 'concurrency'")):
        with pytest.raises(ConfigError, match=message):
            ServingSettings.from_text(bad)
