"""Fingerprints of every pipeline's and module's outputs on rendered inputs: a refactor's before/after check.

Each pipeline (and create_model for each module) runs on the same rendered page, turned page, table,
layout page and seal; the result's full JSON and a hash of each picture are written to a JSON file.
Run it in the tree before a refactor and after it (same $HPI_HOME, so the same backend decisions), then
compare:

    git worktree add /tmp/before <commit> && cp hpi/kernels/*.so /tmp/before/hpi/kernels/
    python benchmarks/output_fingerprints.py /tmp/before before.json
    python benchmarks/output_fingerprints.py . after.json
    python benchmarks/output_fingerprints.py --compare before.json after.json
"""
import hashlib, json, sys
from pathlib import Path

if sys.argv[1] == "--compare":
    before, after = (json.load(open(p)) for p in sys.argv[2:4])
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    print("identical" if not changed else f"changed: {', '.join(changed)}", f"({len(before)} outputs)")
    sys.exit(1 if changed else 0)
root = Path(sys.argv[1]).resolve(); out = sys.argv[2]
sys.path.insert(0, str(root)); sys.path.insert(0, str(root / "tests"))
import numpy as np
from rendering import PAGE_TEXTS, latin_fonts, render_lines, rotate_page
from table_rendering import grid, render_table
from layout_rendering import render_page
from seal_rendering import seal_set
from hpi import create_pipeline, create_model
from hpi.results.base import to_jsonable

def h(a):
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a)).tobytes()).hexdigest()[:16]

font = latin_fonts()[0]
page = render_lines(PAGE_TEXTS[:6], font, size=28).image
turned = rotate_page(render_lines(PAGE_TEXTS[:4], font, size=28), 90).image
table = render_table(grid(4, 3, seed=1)).image
layout = render_page(seed=3).image
seal = seal_set(1, seed=5)[0].image
results = {}
def record(name, pipeline, image, **kw):
    res = next(pipeline.predict(image, **kw))
    j = json.loads(json.dumps(to_jsonable(res.json)))
    imgs = {k: h(np.asarray(v)) for k, v in sorted(res.img.items())} if hasattr(res, "img") else {}
    results[name] = {"json": j, "img": imgs}

with create_pipeline("OCR") as p:
    record("OCR", p, page); record("OCR-doc", p, turned, use_doc_orientation_classify=True)
with create_pipeline("OCR", use_textline_orientation=True, use_doc_preprocessor=True) as p:
    record("OCR-tlo", p, turned)
with create_pipeline("doc_preprocessor") as p:
    record("doc", p, turned)
with create_pipeline("doc_preprocessor", use_doc_unwarping=True) as p:
    record("doc-unwarp", p, page)
with create_pipeline("table_recognition", use_layout_detection=False) as p:
    record("table", p, table)
with create_pipeline("layout_detection") as p:
    record("layout", p, layout)
with create_pipeline("layout_parsing") as p:
    record("layout_parsing", p, layout)
with create_pipeline("seal_recognition") as p:
    record("seal", p, seal)
for name, image, kw in (("PP-OCRv6_small_det", page, {}), ("PP-OCRv6_small_rec", page[:60], {}),
                        ("PP-LCNet_x1_0_textline_ori", page[:60], {}), ("PP-LCNet_x1_0_doc_ori", turned, {}),
                        ("PicoDet_layout_CDLA", layout, {"threshold": 0.4}), ("SLANet_plus", table, {}),
                        ("UVDoc", page, {}), ("PP-OCRv4_mobile_seal_det", seal, {})):
    with create_model(name) as m:
        record("model:" + name, m, image, **kw)
json.dump(results, open(out, "w"), indent=1, sort_keys=True)
print("done", len(results))
