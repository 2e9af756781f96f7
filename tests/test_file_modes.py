"""Files hpi writes (results, cache entries) get the permissions a plain write would give, not mkstemp's 0600."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from hpi.cache import atomic_write_bytes, plain_file_mode


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_atomic_writes_follow_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    assert plain_file_mode() == mode
    atomic_write_bytes(tmp_path / "a.json", b"{}")
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == mode


def test_a_saved_result_is_readable_by_others(tmp_path, umask):
    from hpi.results.modules import TopkResult

    result = TopkResult(class_ids=[0], scores=[0.9], label_names=["a"], input_path="x.png", page_index=None,
                        input_img=np.zeros((8, 8, 3), np.uint8), stem="x")
    result.save_to_json(str(tmp_path))
    result.save_to_img(str(tmp_path))
    for name in ("x_res.json", "x_res.png"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
