"""What the Ray tests run inside their network namespaces (``python ray_driver.py MODE WORKDIR ...``).

It prints one JSON line (``RESULT {...}``) that the test reads; every wait is bounded.
``single``: a local Ray instance; the Ray Serve deployment answers PaddleX requests (texts, an
error, 503 under overload) and the Ray Data batch job runs and resumes.
``cluster ADDRESS``: joins a running two-node cluster and runs the batch job across both nodes.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for rendering

import numpy as np  # noqa: E402

from rendering import PAGE_TEXTS, latin_fonts, render_lines  # noqa: E402

TEXTS = [PAGE_TEXTS[1], PAGE_TEXTS[2], PAGE_TEXTS[3], PAGE_TEXTS[5]]


def make_inputs(folder: Path) -> dict[str, list[str]]:
    """Rendered pages (and a PDF, and a broken file) in ``folder``; relative path → texts per page."""
    import cv2
    from PIL import Image

    font = latin_fonts()[0]
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for i in range(4):
        page = render_lines([TEXTS[i], TEXTS[(i + 1) % 4]], font, size=28)
        name = f"page_{i}.png" if i < 3 else "sub/page_3.png"
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / name), page.image)
        expected[name] = [page.texts]
    pages = [render_lines([TEXTS[0]], font, size=28), render_lines([TEXTS[2]], font, size=28)]
    pictures = [Image.fromarray(p.image[:, :, ::-1]) for p in pages]
    pictures[0].save(folder / "doc.pdf", format="PDF", save_all=True, append_images=pictures[1:], resolution=72)
    expected["doc.pdf"] = [p.texts for p in pages]
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    expected["broken.png"] = None
    return expected


def read_outputs(out_dir: Path, expected: dict) -> dict:
    """Per input: whether its result file holds the expected texts (None: expected to fail)."""
    checks = {}
    for relative, pages in expected.items():
        record = json.loads((out_dir / f"{relative}.json").read_text())
        if pages is None:
            checks[relative] = all("error" in page for page in record["pages"])
        else:
            got = [["".join(t.split()) for t in page.get("rec_texts", [])] for page in record["pages"]]
            checks[relative] = got == [["".join(t.split()) for t in texts] for texts in pages]
    return checks


def _post(url: str, payload: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw.decode(errors="replace")[:300]}


def serve_checks(port: int) -> dict:
    import cv2
    from ray import serve

    from hpi.serving.ray_serve import build_app
    from hpi.serving.settings import ServingSettings

    serve.start(http_options={"host": "127.0.0.1", "port": port})
    settings = ServingSettings(concurrency=2, max_queue=0, visualize=False, max_wait_ms=20)
    serve.run(build_app("OCR", settings=settings, num_replicas=1, num_cpus=1, max_queued_requests=1),
              name="hpi", route_prefix="/")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:  # the proxy may answer before the route is ready
        try:
            with urllib.request.urlopen(base + "/health", timeout=5) as response:
                health = json.loads(response.read())
                break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    page = render_lines(TEXTS[:2], latin_fonts()[0], size=28)
    data = base64.b64encode(cv2.imencode(".png", page.image)[1].tobytes()).decode()
    status, answer = _post(base + "/ocr", {"file": data, "fileType": 1, "logId": "ray-1"})
    texts = answer["result"]["ocrResults"][0]["prunedResult"]["rec_texts"] if status == 200 else None
    error_status, error = _post(base + "/ocr", {"file": data})
    big = render_lines(PAGE_TEXTS * 3, latin_fonts()[0], size=30)
    big_data = base64.b64encode(cv2.imencode(".png", big.image)[1].tobytes()).decode()
    with ThreadPoolExecutor(max_workers=10) as pool:
        burst = list(pool.map(lambda _: _post(base + "/ocr", {"file": big_data, "fileType": 1}), range(10)))
    metrics = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
    serve.shutdown()
    return {
        "health": health.get("errorMsg"), "status": status, "log_id": answer.get("logId"),
        "texts_ok": texts is not None and ["".join(t.split()) for t in texts] == ["".join(t.split()) for t in page.texts],
        "error": [error_status, error.get("errorCode"), error.get("errorMsg")],
        "burst": sorted(code for code, _ in burst),
        "burst_503_envelopes": all(body.get("errorCode") == 503 for code, body in burst if code == 503 and "raw" not in body),
        "metrics_have_batches": "hpi_batch_size_bucket" in metrics,
    }


def batch_checks(workdir: Path, actors: int) -> dict:
    from hpi.serving import ray_batch

    inputs, out = workdir / "inputs", workdir / "out"
    expected = make_inputs(inputs)
    first = ray_batch.run_ray("OCR", str(inputs), str(out), actors=actors, cpus_per_actor=1)
    checks = read_outputs(out, expected)
    (out / "page_1.png.json").unlink()
    second = ray_batch.run_ray("OCR", str(inputs), str(out), actors=1, cpus_per_actor=1)
    return {"first": first.as_dict(), "second": second.as_dict(), "checks": checks,
            "resumed_ok": read_outputs(out, expected)["page_1.png"]}


def main() -> None:
    import ray

    mode, workdir = sys.argv[1], Path(sys.argv[2])
    if mode == "single":
        port = int(sys.argv[3])
        ray.init(num_cpus=3, include_dashboard=False, object_store_memory=128 * 2**20,
                 _temp_dir=str(workdir / "ray"), log_to_driver=False)
        try:
            result = {"serve": serve_checks(port), "batch": batch_checks(workdir, actors=2)}
        finally:
            ray.shutdown()
    else:
        address = sys.argv[3]
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
        try:
            deadline = time.monotonic() + 90
            while sum(1 for n in ray.nodes() if n["Alive"]) < 2:
                if time.monotonic() > deadline:
                    raise SystemExit("the worker node did not join within 90 s")
                time.sleep(0.5)
            from hpi.serving import ray_batch

            inputs, out = workdir / "inputs", workdir / "out"
            expected = make_inputs(inputs)
            report = ray_batch.run_ray("OCR", str(inputs), str(out), actors=2, cpus_per_actor=1.5)  # one per node
            result = {"report": report.as_dict(), "checks": read_outputs(out, expected),
                      "nodes": sorted(n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"])}
        finally:
            ray.shutdown()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
