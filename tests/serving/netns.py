"""Network namespaces for the Ray tests: Ray dials the machine's own non-loopback address even when
told 127.0.0.1, so Ray runs only inside namespaces these helpers make (root, ``ip``): one with only
``lo`` up, or two joined by a veth pair with addresses the test assigns. Nothing leaves them.

Teardown ends exactly the processes inside the namespace (``ip netns pids``), by id, then deletes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from typing import Iterator


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if os.geteuid() != 0:
        return "Ray tests run inside a network namespace with only lo (Ray dials non-loopback addresses); " \
               "making one needs root (CI runs as root)"
    if shutil.which("ip") is None:
        return "Ray tests need the ip command (iproute2) to make a network namespace"
    name = f"hpi-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot make a network namespace here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", name], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _end_processes(name: str, grace_s: float = 10.0) -> None:
    """SIGTERM, then SIGKILL, every process inside namespace ``name`` (by pid)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        deadline = time.monotonic() + grace_s
        while True:
            listed = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
            pids = [int(p) for p in listed if p.isdigit() and int(p) != os.getpid()]
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if time.monotonic() > deadline:
                break
            time.sleep(0.2)


@contextlib.contextmanager
def namespace(prefix: str = "hpi") -> Iterator[str]:
    """A fresh namespace with only ``lo`` up; its name."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        yield name
    finally:
        _end_processes(name)
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def link(a: str, b: str, address_a: str, address_b: str, prefix_len: int = 24) -> None:
    """Join namespaces ``a`` and ``b`` with a veth pair: ``address_a`` in a, ``address_b`` in b."""
    tag = uuid.uuid4().hex[:6]
    end_a, end_b = f"hv{tag}a", f"hv{tag}b"  # interface names are at most 15 characters
    _ip("link", "add", end_a, "type", "veth", "peer", "name", end_b)
    _ip("link", "set", end_a, "netns", a)
    _ip("link", "set", end_b, "netns", b)
    for space, end, address in ((a, end_a, address_a), (b, end_b, address_b)):
        _ip("-n", space, "addr", "add", f"{address}/{prefix_len}", "dev", end)
        _ip("-n", space, "link", "set", end, "up")


def command(name: str, *argv: str) -> list[str]:
    """``argv`` run inside namespace ``name``."""
    return ["ip", "netns", "exec", name, *argv]


def ray_environment(extra: dict | None = None) -> dict:
    """The environment Ray runs with in these tests: no usage stats, no auth token file."""
    env = dict(os.environ)
    env.update({"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled", "RAY_DISABLE_DOCKER_CPU_WARNING": "1"})
    env.update(extra or {})
    return env
