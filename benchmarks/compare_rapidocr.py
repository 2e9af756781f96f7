"""hpi vs RapidOCR (1.4.4 with PP-OCRv4, or 3.x with PP-OCRv6_small: same models as hpi) on a rendered set with exact ground truth.

Run (writes the images, then the JSON report and prints a table)::

    HPI_HOME=/tmp/hpihome /work/venv/bin/python benchmarks/compare_rapidocr.py \
        --rapid-python /work/venv-rapid/bin/python --repeat 3 --json benchmarks/compare_rapidocr.json

How it measures:

* Two long-lived worker processes, one per engine (``--worker hpi`` and
  ``--worker rapid``, JSON lines over stdin/stdout), each with its engine
  warm. RapidOCR needs ``opencv-python`` and hpi ``opencv-python-headless``,
  which cannot share one environment, hence ``--rapid-python``.
* Interleaved per image: A, B for one image, then the next image; the order
  flips every repeat (A,B then B,A) so neither engine always runs right after
  the other. One untimed warm-up pass; the reported time of an image is the
  minimum over ``--repeat`` passes; speed ratio = sum of RapidOCR's minima /
  sum of hpi's. Each worker times only the engine call (image already decoded).
* Accuracy: each ground-truth line is matched to the predicted line whose box
  overlaps it most (IoU ≥ 0.3). Line accuracy = share of ground-truth lines
  read exactly; CER = edit distance / ground-truth characters (an unmatched
  line counts as all characters wrong). Whitespace is ignored: the PP-OCRv4
  rec model drops spaces between English words in both engines.
* Peak RSS: each worker's VmHWM at the end (``/proc/self/status``).

The image set (``--set``): ``full`` (default) renders documents, receipts,
pages with 40–80 lines, single-line crops, and pages rotated a few degrees,
with fonts from the Debian packages fonts-dejavu-core and fonts-wqy-microhei
(tests/rendering.py); ``quick`` is a small subset for smoke tests.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- worker side


def _peak_rss_mb() -> float:
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


class _HpiEngine:
    name = "hpi"

    def __init__(self, options: dict) -> None:
        from hpi import create_pipeline

        self.pipeline = create_pipeline("OCR", device="cpu", **options)
        self.info = {"backends": self.pipeline.describe_backends()}
        try:
            from importlib import metadata

            from hpi import kernels

            self.info.update(kernels=kernels.BACKEND, openvino=metadata.version("openvino"),
                             onnxruntime=metadata.version("onnxruntime"))
        except Exception:  # versions are informative only
            pass

    def __call__(self, image) -> tuple[list[dict], dict]:
        result = next(self.pipeline.predict(image))
        lines = [{"text": t, "score": float(s), "box": [float(v) for v in b]}
                 for t, s, b in zip(result.rec_texts, result.rec_scores, result.rec_boxes)]
        return lines, dict(result.timings_ms)


class _RapidEngine:
    """RapidOCR in its own venv: 1.4.x (``rapidocr_onnxruntime``, PP-OCRv4) or 3.x (``rapidocr``, PP-OCRv6_small
    by default), whichever is installed there."""

    name = "rapid"

    def __init__(self, options: dict) -> None:
        from importlib import metadata

        try:
            from rapidocr_onnxruntime import RapidOCR

            package = "rapidocr_onnxruntime"
        except ImportError:
            from rapidocr import RapidOCR

            package = "rapidocr"
        self.engine = RapidOCR(**options)
        self.v3 = package == "rapidocr"
        self.info = {package: metadata.version(package), "onnxruntime": metadata.version("onnxruntime")}

    def __call__(self, image) -> tuple[list[dict], dict]:
        if self.v3:
            output = self.engine(image)
            triples = zip(output.boxes if output.boxes is not None else [], output.txts or (), output.scores or ())
            elapsed = getattr(output, "elapse_list", None) or []
        else:
            result, elapsed = self.engine(image)
            triples = result or []
        lines = []
        for box, text, score in triples:
            xs = [float(p[0]) for p in box]
            ys = [float(p[1]) for p in box]
            lines.append({"text": text, "score": float(score), "box": [min(xs), min(ys), max(xs), max(ys)]})
        stages = {}
        if elapsed:
            stages = {k: float(v or 0.0) * 1e3 for k, v in zip(("det", "cls", "rec"), elapsed)}
        return lines, stages


def worker(kind: str, options: dict) -> int:
    """Serve JSON-line requests: {"path": ...} → {"ms", "lines", "stages"}; {"cmd": "rss"}; {"cmd": "quit"}."""
    # Libraries print to stdout; keep the protocol on a private copy of it and send their noise to stderr.
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    import cv2

    start = time.perf_counter()
    engine = _HpiEngine(options) if kind == "hpi" else _RapidEngine(options)
    protocol.write(json.dumps({"ready": True, "init_ms": (time.perf_counter() - start) * 1e3,
                               "rss_after_init_mb": _peak_rss_mb(), "info": engine.info}) + "\n")
    images: dict[str, object] = {}
    for raw in sys.stdin:
        request = json.loads(raw)
        if request.get("cmd") == "quit":
            break
        if request.get("cmd") == "rss":
            protocol.write(json.dumps({"peak_rss_mb": _peak_rss_mb()}) + "\n")
            continue
        path = request["path"]
        try:
            if path not in images:
                image = cv2.imread(path, cv2.IMREAD_COLOR)
                if image is None:
                    raise ValueError(f"cannot read {path}")
                images[path] = image
            t0 = time.perf_counter()
            lines, stages = engine(images[path])
            ms = (time.perf_counter() - t0) * 1e3
            protocol.write(json.dumps({"ms": ms, "lines": lines, "stages": stages}, ensure_ascii=False) + "\n")
        except Exception as exc:  # one bad image must not end the comparison
            protocol.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
    return 0


class WorkerProcess:
    def __init__(self, kind: str, python: str, options: dict, env: dict | None = None) -> None:
        self.kind = kind
        cmd = [python, str(Path(__file__).resolve()), "--worker", kind, "--options", json.dumps(options)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     encoding="utf-8", env=env, bufsize=1)
        self.hello = self._read()
        if not self.hello.get("ready"):
            raise RuntimeError(f"{kind} worker did not start: {self.hello}")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.kind} worker exited (code {self.proc.poll()}); see its stderr above")
        return json.loads(line)

    def request(self, payload: dict) -> dict:
        self.proc.stdin.write(json.dumps(payload) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


# --------------------------------------------------------------------------- the image set

_WORDS = (
    "invoice order total amount payment delivery address customer account number date due balance "
    "service product quantity price tax discount shipping reference contract period report summary "
    "revenue cost budget project status review meeting office support contact phone email street city "
    "north south market station bank card receipt store item value level system network model engine "
    "inference speed memory detection recognition document page table figure section chapter result"
).split()
_CHINESE = ("高性能推理引擎", "文本检测与识别", "发票金额合计人民币", "欢迎使用飞桨", "北京市海淀区中关村大街",
            "订单编号与发货日期", "请保留此收据", "会议纪要第三章")


def _sentence(rng: random.Random) -> str:
    kind = rng.random()
    words = [rng.choice(_WORDS) for _ in range(rng.randint(3, 7))]
    words[0] = words[0].capitalize()
    if kind < 0.25:
        words.append(f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}")
    elif kind < 0.4:
        words.append(f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    elif kind < 0.5:
        words.insert(1, f"No.{rng.randint(100, 99999)}")
    return " ".join(words)


def build_set(out_dir: Path, which: str = "full", seed: int = 7) -> list[dict]:
    """Render the image set into ``out_dir``; returns [{name, category, path, lines: [{text, box}]}]."""
    sys.path.insert(0, str(REPO / "tests"))
    import cv2

    from rendering import (
        CHINESE_TEXTS, PAGE_TEXTS, RenderedImage, cjk_font, latin_fonts, render_lines, render_receipt,
        render_single_line, rotate_page,
    )

    fonts = latin_fonts()
    if not fonts:
        raise SystemExit("No DejaVu fonts: install the Debian package fonts-dejavu-core (and fonts-wqy-microhei).")
    cjk = cjk_font()
    rng = random.Random(seed)
    cases: list[tuple[str, str, RenderedImage]] = []

    def receipt(font: str, n_items: int) -> RenderedImage:
        size = rng.choice((22, 26))
        items = [("SUPERMARKET " + str(rng.randint(1, 99)), None)]
        for _ in range(n_items):
            items.append((rng.choice(_WORDS).capitalize() + " " + rng.choice(_WORDS),
                          f"{rng.randint(0, 99)}.{rng.randint(0, 99):02d}"))
        items.append(("TOTAL", f"{rng.randint(10, 500)}.{rng.randint(0, 99):02d}"))
        return render_receipt(items, font, size=size, width=440, step=2 * size)

    n_docs, n_receipts, n_pages, n_crops, n_rot = (6, 4, 3, 10, 4) if which == "full" else (1, 1, 0, 2, 1)
    for i in range(n_docs):
        texts = [_sentence(rng) for _ in range(rng.randint(8, 16))]
        if i % 3 == 0:
            texts[: len(PAGE_TEXTS)] = PAGE_TEXTS
        font = fonts[i % len(fonts)]
        cases.append((f"doc-{i}", "document", render_lines(texts, font, size=rng.choice((22, 26, 30)),
                                                           columns=2 if i == 5 else 1)))
    if cjk and which == "full":
        cases.append(("doc-chinese", "document", render_lines(list(CHINESE_TEXTS) + list(_CHINESE), cjk, size=30)))
    for i in range(n_receipts):
        cases.append((f"receipt-{i}", "receipt", receipt(fonts[(i + 1) % len(fonts)], rng.randint(5, 12))))
    for i in range(n_pages):
        n = rng.randint(40, 80)
        texts = [_sentence(rng) for _ in range(n)]
        cases.append((f"page{n}-{i}", "page", render_lines(texts, fonts[i % len(fonts)], size=rng.choice((18, 20, 22)),
                                                          columns=2 if i == 2 else 1, spacing=1.7)))
    for i in range(n_crops):
        if cjk and i % 5 == 4:
            text, font = rng.choice(_CHINESE), cjk
        else:
            text, font = _sentence(rng), fonts[i % len(fonts)]
        cases.append((f"line-{i}", "line", render_single_line(text, font, size=rng.choice((24, 32, 40)))))
    for i in range(n_rot):
        angle = rng.choice((-5, -4, -3, -2, 2, 3, 4, 5))
        texts = [_sentence(rng) for _ in range(rng.randint(5, 10))]
        cases.append((f"rotated{angle:+d}-{i}", "rotated",
                      rotate_page(render_lines(texts, fonts[i % len(fonts)], size=28), angle)))

    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for name, category, rendered in cases:
        path = out_dir / f"{name}.png"
        cv2.imwrite(str(path), rendered.image)
        records.append({"name": name, "category": category, "path": str(path),
                        "size": [int(rendered.image.shape[1]), int(rendered.image.shape[0])],
                        "lines": [{"text": ln.text, "box": [int(v) for v in ln.box]} for ln in rendered.lines]})
    (out_dir / "ground_truth.json").write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
    return records


# --------------------------------------------------------------------------- accuracy


def normalize(text: str) -> str:
    return "".join(text.split())


def edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def score_image(truth: list[dict], predicted: list[dict], min_iou: float = 0.3) -> dict:
    """Exact lines, edit distance and ground-truth characters for one image, plus the misread lines."""
    sys.path.insert(0, str(REPO / "tests"))
    from rendering import iou

    exact = errors = chars = 0
    misread = []
    for line in truth:
        gt = normalize(line["text"])
        chars += len(gt)
        overlaps = [iou(line["box"], p["box"]) for p in predicted]
        best = max(range(len(predicted)), key=overlaps.__getitem__) if predicted else None
        got = normalize(predicted[best]["text"]) if best is not None and overlaps[best] >= min_iou else ""
        distance = edit_distance(gt, got)
        errors += distance
        if distance == 0:
            exact += 1
        else:
            misread.append([line["text"], got])
    return {"lines": len(truth), "exact": exact, "edit_distance": errors, "chars": chars, "misread": misread}


# --------------------------------------------------------------------------- comparison


def _find_rapid_python(explicit: str | None) -> str:
    if explicit:
        return explicit
    probe = subprocess.run([sys.executable, "-c", "import rapidocr_onnxruntime"], capture_output=True)
    if probe.returncode == 0:
        return sys.executable
    raise SystemExit(
        "rapidocr_onnxruntime is not importable here; pass --rapid-python PATH to a Python that has it "
        "(it needs opencv-python, which conflicts with hpi's opencv-python-headless: use its own venv)."
    )


def compare(records: list[dict], rapid_python: str, hpi_python: str, repeat: int, hpi_options: dict,
            rapid_options: dict, log=print) -> dict:
    workers = {}
    try:
        workers["hpi"] = WorkerProcess("hpi", hpi_python, hpi_options)
        workers["rapid"] = WorkerProcess("rapid", rapid_python, rapid_options)
        runs = {engine: {r["name"]: [] for r in records} for engine in workers}
        outputs: dict[str, dict[str, dict]] = {engine: {} for engine in workers}
        errors: list[dict] = []
        first_pass = {engine: 0.0 for engine in workers}
        for pass_index in range(repeat + 1):  # pass 0 is the warm-up
            order = ("hpi", "rapid") if pass_index % 2 == 0 else ("rapid", "hpi")
            started = time.perf_counter()
            for record in records:
                for engine in order:
                    reply = workers[engine].request({"path": record["path"]})
                    if "error" in reply:
                        errors.append({"engine": engine, "image": record["name"], "error": reply["error"]})
                        continue
                    if pass_index == 0:
                        # First sight of every image: includes per-shape compilation (OpenVINO) and
                        # arena growth (ONNX Runtime), which a stream of new images keeps paying.
                        first_pass[engine] += reply["ms"]
                        continue
                    runs[engine][record["name"]].append(reply["ms"])
                    # Keep the fastest run's reply: its stage times add up to the reported minimum.
                    previous = outputs[engine].get(record["name"])
                    if previous is None or reply["ms"] < previous["ms"]:
                        outputs[engine][record["name"]] = reply
            log(f"pass {pass_index}{' (warm-up)' if pass_index == 0 else ''}: {time.perf_counter() - started:.1f} s")
        rss = {engine: w.request({"cmd": "rss"})["peak_rss_mb"] for engine, w in workers.items()}
        hello = {engine: w.hello for engine, w in workers.items()}
    finally:
        for w in workers.values():
            w.close()

    engines = {}
    per_image = []
    for engine in ("hpi", "rapid"):
        total = {"lines": 0, "exact": 0, "edit_distance": 0, "chars": 0}
        by_category: dict[str, dict] = {}
        for record in records:
            reply = outputs[engine].get(record["name"])
            score = score_image(record["lines"], reply["lines"] if reply else [])
            cat = by_category.setdefault(record["category"], {"lines": 0, "exact": 0, "edit_distance": 0,
                                                              "chars": 0, "ms": 0.0})
            best = min(runs[engine][record["name"]], default=float("nan"))
            for key in total:
                total[key] += score[key]
                cat[key] += score[key]
            cat["ms"] += best
            per_image.append({"engine": engine, "image": record["name"], "category": record["category"],
                              "min_ms": round(best, 2), "runs_ms": [round(v, 2) for v in runs[engine][record["name"]]],
                              "stages_ms": {k: round(v, 2) for k, v in (reply or {}).get("stages", {}).items()},
                              **{k: score[k] for k in ("lines", "exact", "edit_distance", "chars")},
                              "misread": score["misread"]})
        total_ms = sum(min(v, default=0.0) for v in runs[engine].values())
        engines[engine] = {
            "total_min_ms": round(total_ms, 1),
            "first_pass_ms": round(first_pass[engine], 1),
            "images_per_s": round(len(records) / (total_ms / 1e3), 3) if total_ms else 0.0,
            "line_accuracy": round(total["exact"] / max(1, total["lines"]), 4),
            "cer": round(total["edit_distance"] / max(1, total["chars"]), 5),
            "lines": total["lines"], "exact_lines": total["exact"],
            "peak_rss_mb": rss[engine], "init_ms": round(hello[engine]["init_ms"], 1),
            "info": hello[engine]["info"],
            "by_category": {c: {"ms": round(v["ms"], 1), "line_accuracy": round(v["exact"] / max(1, v["lines"]), 4),
                                "cer": round(v["edit_distance"] / max(1, v["chars"]), 5)}
                            for c, v in by_category.items()},
        }
    first_ratio = engines["rapid"]["first_pass_ms"] / engines["hpi"]["first_pass_ms"] if engines["hpi"]["first_pass_ms"] else 0
    ratio = engines["rapid"]["total_min_ms"] / engines["hpi"]["total_min_ms"] if engines["hpi"]["total_min_ms"] else 0
    categories = sorted({r["category"] for r in records})
    return {
        "schema": "hpi-compare-rapidocr/1",
        "images": len(records),
        "lines": sum(len(r["lines"]) for r in records),
        "repeat": repeat,
        "speed_ratio": round(ratio, 3),
        "first_pass_speed_ratio": round(first_ratio, 3),
        "speed_ratio_by_category": {
            c: round(engines["rapid"]["by_category"][c]["ms"] / engines["hpi"]["by_category"][c]["ms"], 3)
            for c in categories if engines["hpi"]["by_category"][c]["ms"]
        },
        "engines": engines,
        "per_image": per_image,
        "errors": errors,
    }


def format_report(report: dict) -> str:
    hpi, rapid = report["engines"]["hpi"], report["engines"]["rapid"]
    rows = [
        ("throughput (img/s, min per image)", f"{hpi['images_per_s']:.3f}", f"{rapid['images_per_s']:.3f}"),
        ("total time (sum of per-image minima, s)", f"{hpi['total_min_ms'] / 1e3:.2f}", f"{rapid['total_min_ms'] / 1e3:.2f}"),
        ("first pass, unseen shapes (s)", f"{hpi['first_pass_ms'] / 1e3:.2f}", f"{rapid['first_pass_ms'] / 1e3:.2f}"),
        ("line accuracy", f"{hpi['line_accuracy']:.4f} ({hpi['exact_lines']}/{hpi['lines']})",
         f"{rapid['line_accuracy']:.4f} ({rapid['exact_lines']}/{rapid['lines']})"),
        ("CER", f"{hpi['cer']:.5f}", f"{rapid['cer']:.5f}"),
        ("peak RSS (MB)", f"{hpi['peak_rss_mb']:.0f}", f"{rapid['peak_rss_mb']:.0f}"),
        ("engine init (ms)", f"{hpi['init_ms']:.0f}", f"{rapid['init_ms']:.0f}"),
    ]
    rapid_info = rapid.get("info") or {}
    rapid_label = "RapidOCR " + str(rapid_info.get("rapidocr") or rapid_info.get("rapidocr_onnxruntime") or "")
    out = [f"{report['images']} images, {report['lines']} lines, min of {report['repeat']} interleaved repeats",
           f"speed ratio hpi / RapidOCR: {report['speed_ratio']:.2f}x  "
           + "(" + ", ".join(f"{c} {v:.2f}x" for c, v in report["speed_ratio_by_category"].items()) + ")",
           f"first pass (every image new to both engines): {report['first_pass_speed_ratio']:.2f}x",
           "", f"| {'':<42} | {'hpi':>18} | {rapid_label:>18} |", f"|{'-' * 44}|{'-' * 20}|{'-' * 20}|"]
    out += [f"| {a:<42} | {b:>18} | {c:>18} |" for a, b, c in rows]
    out.append("")
    out.append(f"{'category':<10}" + "".join(f"{e + ' ' + k:>16}" for e in ("hpi", "rapid") for k in ("ms", "acc", "CER")))
    for cat in report["speed_ratio_by_category"]:
        cells = []
        for e in ("hpi", "rapid"):
            c = report["engines"][e]["by_category"][cat]
            cells += [f"{c['ms']:.0f}", f"{c['line_accuracy']:.3f}", f"{c['cer']:.4f}"]
        out.append(f"{cat:<10}" + "".join(f"{v:>16}" for v in cells))
    for err in report["errors"]:
        out.append(f"ERROR {err['engine']} {err['image']}: {err['error']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", choices=["hpi", "rapid"], help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    parser.add_argument("--rapid-python", default=None,
                        help="Python with rapidocr_onnxruntime==1.4.4 (default: this one, if it can import it)")
    parser.add_argument("--hpi-python", default=sys.executable, help="Python with hpi (default: this one)")
    parser.add_argument("--set", dest="which", default="full", choices=["full", "quick"])
    parser.add_argument("--images-dir", default=None, help="where to render the set (default: a temp dir)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--hpi-options", default="{}", help="JSON: create_pipeline keyword arguments for hpi")
    parser.add_argument("--rapid-options", default="{}", help="JSON: RapidOCR(**kwargs)")
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, json.loads(args.options))

    import tempfile

    rapid_python = _find_rapid_python(args.rapid_python)
    images_dir = Path(args.images_dir or tempfile.mkdtemp(prefix="hpi-compare-"))
    records = build_set(images_dir, args.which)
    print(f"{len(records)} images rendered into {images_dir}", file=sys.stderr)
    report = compare(records, rapid_python, args.hpi_python, args.repeat, json.loads(args.hpi_options),
                     json.loads(args.rapid_options), log=lambda m: print(m, file=sys.stderr))
    report["command"] = " ".join([os.path.basename(sys.executable), *sys.argv])
    report["hpi_options"] = json.loads(args.hpi_options)
    print(format_report(report))
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
