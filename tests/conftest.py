"""Shared fixtures: real models (fetched once into $HPI_HOME) and rendered images."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def det_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv4_mobile_det")


@pytest.fixture(scope="session")
def rec_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv4_mobile_rec")


@pytest.fixture(scope="session")
def cls_model():
    from hpi.backends.export_check import prepare_model

    return prepare_model("PP-OCRv2_mobile_textline_ori")


@pytest.fixture
def tmp_hpi_home(tmp_path, monkeypatch):
    """An empty, private $HPI_HOME (wheels are copied from the session cache: no download)."""
    shared = Path(os.environ.get("HPI_HOME") or Path.home() / ".cache" / "hpi") / "wheels"
    home = tmp_path / "hpi-home"
    monkeypatch.setenv("HPI_HOME", str(home))
    if shared.is_dir():
        monkeypatch.setenv("HPI_WHEEL_DIR", str(shared))
    return home


def pytest_configure(config):
    logging.getLogger("hpi").setLevel(logging.INFO)
