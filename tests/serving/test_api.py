"""PaddleX's protocol on a real ``hpi --serve --pipeline OCR`` process: results, envelope, every error case."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from .conftest import normalized, pdf_bytes, png_base64, text_metric

# PaddleX's OCR result keys (json["res"]) minus input_path / page_index, which prunedResult drops.
PRUNED_KEYS = ["model_settings", "dt_polys", "text_det_params", "text_type", "textline_orientation_angles",
               "text_rec_score_thresh", "return_word_box", "rec_texts", "rec_scores", "rec_polys", "rec_boxes"]


def _ocr(server, image, **fields):
    return server.post("/ocr", {"file": png_base64(image), "fileType": 1, **fields})


def test_health(ocr_server):
    answer = ocr_server.post("/health", None)
    assert answer.status == 200
    assert answer.body["errorCode"] == 0 and answer.body["errorMsg"] == "Healthy" and answer.body["logId"]


def test_ocr_texts_and_envelope(ocr_server, pages):
    page = pages[0]
    answer = _ocr(ocr_server, page.image, visualize=False, logId="request-42")
    assert answer.status == 200, answer.body
    body = answer.body
    assert list(body) == ["logId", "result", "errorCode", "errorMsg"]
    assert (body["logId"], body["errorCode"], body["errorMsg"]) == ("request-42", 0, "Success")
    assert list(body["result"]) == ["ocrResults", "dataInfo"]
    assert body["result"]["dataInfo"] == {"width": page.image.shape[1], "height": page.image.shape[0], "type": "image"}
    (entry,) = body["result"]["ocrResults"]
    assert list(entry) == ["prunedResult"]  # visualize false: no pictures, and null fields are left out
    pruned = entry["prunedResult"]
    assert list(pruned) == PRUNED_KEYS
    assert pruned["text_rec_score_thresh"] == 0.01  # hpi --serve ... --text_rec_score_thresh 0.01
    assert normalized(pruned["rec_texts"]) == normalized(page.texts)
    assert all(isinstance(v, int) for poly in pruned["dt_polys"] for point in poly for v in point)
    assert len(pruned["rec_boxes"]) == len(pruned["rec_texts"]) == len(pruned["rec_scores"])


def test_visualize_default_returns_jpeg_pictures(ocr_server, pages):
    import cv2

    answer = _ocr(ocr_server, pages[1].image)  # visualize absent: the server's default (True, as PaddleX)
    assert answer.status == 200, answer.body
    (entry,) = answer.result["ocrResults"]
    assert set(entry) == {"prunedResult", "ocrImage", "inputImage"}  # no doc preprocessor ran
    for key in ("ocrImage", "inputImage"):
        data = base64.b64decode(entry[key])
        assert data[:3] == b"\xff\xd8\xff", key  # JPEG
        picture = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert picture is not None and picture.shape[0] == pages[1].image.shape[0]


def test_per_call_parameters_and_doc_orientation(ocr_server, pages):
    import cv2

    turned = cv2.rotate(pages[0].image, cv2.ROTATE_90_CLOCKWISE)
    answer = _ocr(ocr_server, turned, useDocOrientationClassify=True, textDetThresh="0.35", visualize=True)
    assert answer.status == 200, answer.body
    (entry,) = answer.result["ocrResults"]
    pruned = entry["prunedResult"]
    assert pruned["text_det_params"]["thresh"] == pytest.approx(0.35)  # "0.35" parses as a number (pydantic)
    assert pruned["model_settings"]["use_doc_preprocessor"] is True
    assert list(pruned["doc_preprocessor_res"]) == ["model_settings", "angle"]  # input_path/page_index pruned
    assert pruned["doc_preprocessor_res"]["angle"] in (90, 270)
    assert normalized(pruned["rec_texts"]) == normalized(pages[0].texts)
    assert set(entry) == {"prunedResult", "ocrImage", "docPreprocessingImage", "inputImage"}


def test_paddlex_documented_client(ocr_server, pages, tmp_path):
    """PaddleX's documented client for its OCR service (base64 + fileType, then ocrResults), unchanged."""
    import cv2
    import urllib.request

    image_path = tmp_path / "demo.jpg"
    cv2.imwrite(str(image_path), pages[2].image)
    file_bytes = image_path.read_bytes()
    file_data = base64.b64encode(file_bytes).decode("ascii")
    payload = {"file": file_data, "fileType": 1}
    request = urllib.request.Request(ocr_server.url + "/ocr", data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        assert response.status == 200
        result = json.loads(response.read())["result"]
    for i, res in enumerate(result["ocrResults"]):
        assert normalized(res["prunedResult"]["rec_texts"]) == normalized(pages[2].texts)
        (tmp_path / f"ocr_{i}.jpg").write_bytes(base64.b64decode(res["ocrImage"]))
    assert (tmp_path / "ocr_0.jpg").stat().st_size > 0


def test_hpi_client(ocr_server, pages, tmp_path):
    import cv2

    from hpi.serving.client import Client, ServiceError

    path = tmp_path / "page.png"
    cv2.imwrite(str(path), pages[3].image)
    client = Client(ocr_server.url)
    assert client.health()["errorMsg"] == "Healthy"
    result = client.predict(path, text_det_box_thresh=0.5, visualize=False)
    assert normalized(result["ocrResults"][0]["prunedResult"]["rec_texts"]) == normalized(pages[3].texts)
    assert result["ocrResults"][0]["prunedResult"]["text_det_params"]["box_thresh"] == 0.5
    with pytest.raises(ServiceError) as info:
        client.predict(b"not an image")
    assert info.value.status == 422 and info.value.message.startswith("Invalid input file")


def test_pdf_pages_and_page_limit(ocr_server, pages):
    blank = np.full_like(pages[0].image, 255)
    data = pdf_bytes([pages[0].image, blank, pages[0].image])  # 3 pages; this server renders 2 (--max_pdf_pages)
    answer = ocr_server.post("/ocr", {"file": base64.b64encode(data).decode(), "fileType": 0, "visualize": False})
    assert answer.status == 200, answer.body
    info = answer.result["dataInfo"]
    assert info["type"] == "pdf" and info["numPages"] == 2
    height, width = pages[0].image.shape[:2]
    assert info["pages"] == [{"width": width * 2, "height": height * 2}] * 2  # PaddleX's render scale 2.0
    first, second = answer.result["ocrResults"]
    assert normalized(first["prunedResult"]["rec_texts"]) == normalized(pages[0].texts)
    assert second["prunedResult"]["rec_texts"] == []


def _error(answer, status: int) -> str:
    assert answer.status == status, answer.body
    assert set(answer.body) == {"logId", "errorCode", "errorMsg"}
    assert answer.body["errorCode"] == status
    return answer.body["errorMsg"]


def _loc_types(message: str) -> list[tuple[str, str]]:
    return [(e["loc"], e["type"]) for e in json.loads(message)]


def test_invalid_requests_get_paddlex_422s(ocr_server, pages):
    post = ocr_server.post
    image = png_base64(pages[0].image)
    assert _loc_types(_error(post("/ocr", {"fileType": 1}), 422)) == [("body.file", "missing")]
    assert _loc_types(_error(post("/ocr", {"file": image, "fileType": 1, "textDetThresh": "high"}), 422)) == [
        ("body.textDetThresh", "float_parsing")]
    assert _loc_types(_error(post("/ocr", {"file": image, "fileType": 3}), 422)) == [("body.fileType", "literal_error")]
    assert _loc_types(_error(post("/ocr", {"file": image, "fileType": 1, "textDetLimitType": "mx"}), 422)) == [
        ("body.textDetLimitType", "value_error")]
    out_of_range = _error(post("/ocr", {"file": image, "fileType": 1, "textRecScoreThresh": 1.5}), 422)
    assert "text_rec_score_thresh is 1.5" in out_of_range
    unsupported = _error(post("/ocr", {"file": image, "fileType": 1, "returnWordBox": True}), 422)
    assert "return_word_box=True is not supported" in unsupported
    assert _error(post("/ocr", {"file": image}), 422) == "File type cannot be determined"
    assert _error(post("/ocr", b"{not json"), 422).startswith('[{"type": "json_invalid"')
    # a logId in an invalid request is still echoed
    assert post("/ocr", {"file": image, "logId": "mine"}).body["logId"] == "mine"


def test_unreadable_files_get_422(ocr_server):
    post = ocr_server.post
    assert _error(post("/ocr", {"file": "abc", "fileType": 1}), 422).startswith("Invalid input file")  # bad base64
    not_image = base64.b64encode(b"hello, this is text").decode()
    assert _error(post("/ocr", {"file": not_image, "fileType": 1}), 422).startswith("Invalid input file")
    assert _error(post("/ocr", {"file": not_image, "fileType": 0}), 422).startswith("Invalid input file")
    url = _error(post("/ocr", {"file": "http://127.0.0.1:9/page.png"}), 422)  # URLs need --allow-url
    assert "--allow-url" in url


def test_limits(ocr_server):
    post = ocr_server.post
    big = np.full((2100, 2000, 3), 255, np.uint8)  # 4.2 M pixels > this server's 4 M
    message = _error(post("/ocr", {"file": png_base64(big), "fileType": 1}), 422)
    assert message == "Image pixel count 4200000 (width=2000, height=2100) exceeds maximum allowed 4000000."
    body = json.dumps({"file": "A" * (3 * 1024 * 1024), "fileType": 1}).encode()  # over the 2 MiB limit
    assert "Request body too large" in _error(post("/ocr", body), 413)


def test_unknown_fields_are_ignored(ocr_server, pages):
    answer = _ocr(ocr_server, pages[1].image, visualize=False, someFutureField={"x": 1}, useLayoutDetection=True)
    assert answer.status == 200, answer.body
    assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"]) == normalized(pages[1].texts)


def test_unknown_route_is_an_envelope(ocr_server):
    assert _error(ocr_server.post("/layout-parsing", {"file": "x"}), 404) == "Not Found"


def test_concurrent_requests_each_get_their_own_result(ocr_server, pages):
    jobs = [pages[i % len(pages)] for i in range(12)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda p: _ocr(ocr_server, p.image, visualize=False, logId=str(id(p))), jobs))
    for page, answer in zip(jobs, answers):
        assert answer.status == 200, answer.body
        assert answer.body["logId"] == str(id(page))
        assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"]) == normalized(page.texts)
    metrics = text_metric(ocr_server.url)
    assert 'hpi_requests_total{code="200",endpoint="/ocr"}' in metrics
    assert 'hpi_batch_size_bucket{le="1.0",slot="text_recognition"}' in metrics
    merged = [line for line in metrics.splitlines() if line.startswith('hpi_batch_requests_count{slot="text_recognition"}')]
    assert merged, metrics


def test_one_failing_request_does_not_affect_others(ocr_server, pages):
    good = {"file": png_base64(pages[0].image), "fileType": 1, "visualize": False}
    bad = {"file": base64.b64encode(b"\x89PNG\r\n\x1a\nbroken").decode(), "fileType": 1}
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda p: ocr_server.post("/ocr", p), [good, bad] * 3))
    for i, answer in enumerate(answers):
        if i % 2:
            assert answer.status == 422
        else:
            assert answer.status == 200
            assert normalized(answer.result["ocrResults"][0]["prunedResult"]["rec_texts"]) == normalized(pages[0].texts)
