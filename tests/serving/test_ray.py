"""Ray: the Serve deployment and the Ray Data batch job, inside network namespaces only (tests/serving/netns.py).

One namespace with only lo for a local Ray instance; two namespaces joined by a veth pair (addresses
made here, 10.213.x.0/24) for a head and a worker node, to show the batch job spreads over nodes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import netns
from .conftest import free_port

pytest.importorskip("ray", reason='the Ray tests need Ray: pip install "hpi[ray]"')

DRIVER = str(Path(__file__).with_name("ray_driver.py"))
TIMEOUT_S = 420


@pytest.fixture(scope="module")
def namespaces_possible():
    reason = netns.unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def ray_dir(tmp_path_factory) -> Path:
    # Short: Ray's socket paths (<temp dir>/session_<date>_<pid>/sockets/plasma_store) must stay < 108 bytes.
    return tmp_path_factory.mktemp("ray")


def _result(completed: subprocess.CompletedProcess) -> dict:
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise AssertionError(f"no result (exit {completed.returncode}):\n{completed.stdout[-4000:]}\n{completed.stderr[-6000:]}")


def test_ray_serve_and_batch_on_one_node(namespaces_possible, ray_dir):
    with netns.namespace("hpi-ray") as space:
        completed = subprocess.run(netns.command(space, sys.executable, DRIVER, "single", str(ray_dir), str(free_port())),
                                   capture_output=True, text=True, timeout=TIMEOUT_S, env=netns.ray_environment())
    result = _result(completed)
    served = result["serve"]
    assert served["health"] == "Healthy"
    assert served["status"] == 200 and served["log_id"] == "ray-1" and served["texts_ok"]
    assert served["error"] == [422, 422, "File type cannot be determined"]
    # 10 requests at once on a replica taking 2 at a time with no queue: some served, the rest 503 at once.
    assert set(served["burst"]) <= {200, 503} and 200 in served["burst"] and 503 in served["burst"], served["burst"]
    assert served["burst_503_envelopes"] and served["metrics_have_batches"]
    batch = result["batch"]
    assert batch["first"]["total"] == 6 and batch["first"]["done"] == 6 and batch["first"]["skipped"] == 0
    assert batch["first"]["failed_inputs"] == ["broken.png"]
    assert all(batch["checks"].values()), batch["checks"]
    assert batch["second"]["skipped"] == 5 and batch["second"]["done"] == 1 and batch["resumed_ok"]


def test_ray_batch_spreads_over_two_nodes(namespaces_possible, ray_dir):
    port = 6390
    head_ip, worker_ip = "10.213.57.1", "10.213.57.2"
    ray_bin = str(Path(sys.executable).with_name("ray"))
    env = netns.ray_environment()
    common = ["--num-cpus", "2", "--object-store-memory", str(128 * 2**20), "--disable-usage-stats", "--block"]
    with netns.namespace("hpi-head") as head_ns, netns.namespace("hpi-work") as worker_ns:
        netns.link(head_ns, worker_ns, head_ip, worker_ip)
        logs = [open(ray_dir / "head.log", "w"), open(ray_dir / "worker.log", "w")]
        head = subprocess.Popen(netns.command(head_ns, ray_bin, "start", "--head", "--node-ip-address", head_ip,
                                              "--port", str(port), "--include-dashboard", "false",
                                              "--temp-dir", str(ray_dir / "t"), *common),
                                stdout=logs[0], stderr=subprocess.STDOUT, env=env)
        worker = None
        try:
            time.sleep(3)
            worker = subprocess.Popen(netns.command(worker_ns, ray_bin, "start", "--address", f"{head_ip}:{port}",
                                                    "--node-ip-address", worker_ip, *common),
                                      stdout=logs[1], stderr=subprocess.STDOUT, env=env)
            completed = subprocess.run(
                netns.command(head_ns, sys.executable, DRIVER, "cluster", str(ray_dir / "job"), f"{head_ip}:{port}"),
                capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
        finally:
            for process in (worker, head):
                if process is not None and process.poll() is None:
                    process.terminate()
            for process in (worker, head):
                if process is not None:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            for log in logs:
                log.close()
    result = _result(completed)
    assert result["nodes"] == [head_ip, worker_ip]
    report = result["report"]
    assert report["done"] == 6 and report["failed_inputs"] == ["broken.png"]
    assert len(report["nodes"]) == 2, report  # both nodes' actors wrote results
    assert all(result["checks"].values()), result["checks"]
