"""``hpi batch INPUT_DIR OUT_DIR`` without Ray: one result file per input, failures listed, resumable."""

from __future__ import annotations

import json

from .ray_driver import make_inputs, read_outputs


def test_batch_writes_results_and_resumes(tmp_path, fonts, capsys):
    from hpi.cli import main

    inputs, out = tmp_path / "in", tmp_path / "out"
    expected = make_inputs(inputs)
    assert main(["batch", str(inputs), str(out), "--text_det_box_thresh", "0.5"]) == 1  # broken.png failed
    report = json.loads(capsys.readouterr().out)
    assert (report["total"], report["done"], report["skipped"]) == (6, 6, 0)
    assert report["failed_inputs"] == ["broken.png"]
    assert all(read_outputs(out, expected).values())
    record = json.loads((out / "doc.pdf.json").read_text())
    assert record["input_path"] == "doc.pdf" and [p["page_index"] for p in record["pages"]] == [0, 1]
    assert record["pages"][0]["text_det_params"]["box_thresh"] == 0.5  # per-call flags reach predict
    (out / "sub" / "page_3.png.json").unlink()
    assert not list(out.rglob("*.tmp"))  # written atomically
    assert main(["batch", str(inputs), str(out)]) == 0  # only the missing one runs, and it succeeds
    report = json.loads(capsys.readouterr().out)
    assert (report["done"], report["skipped"]) == (1, 5)
    assert read_outputs(out, expected)["sub/page_3.png"]
