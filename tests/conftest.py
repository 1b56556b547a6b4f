"""Shared fixtures. ``kernels`` runs a test against the compiled and the plain-Python build.

The compiled build must be present unless ``EVSEFAST_NO_EXTENSIONS=1`` is set: a
silently missing extension is a test failure, not a skip.
"""
from __future__ import annotations

import os
import threading
import time

import pytest
from hypothesis import settings

from evsefast import _impl

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, max_examples=200)
# under qemu emulation everything is 10-50x slower
settings.register_profile("arm", deadline=None, max_examples=25)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

BUILDS = ("compiled", "pure")


def _load(build: str):
    if build == "compiled" and _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1: compiled build deliberately not loaded")
    return _impl.build(build)


@pytest.fixture(params=BUILDS)
def kernels(request):
    """The kernel namespace (``.pilot``, ``.pwm``, ``.limits``, ``.meter``) of one build."""
    return _load(request.param)


@pytest.fixture(scope="session")
def both_builds():
    """(compiled, pure) kernel namespaces, for differential tests."""
    if _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        pytest.skip("EVSEFAST_NO_EXTENSIONS=1: compiled build deliberately not loaded")
    return _impl.compiled(), _impl.pure()


def _pty_fds():
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/dev/pts/") or target == "/dev/ptmx":
            out.add(fd)
    return out


@pytest.fixture
def no_serial_leaks():
    """Fail a test that leaves an evsefast thread or a pty (serial port) open behind it."""
    fds = _pty_fds()
    yield
    deadline = time.monotonic() + 5.0
    threads = []
    while time.monotonic() < deadline:
        threads = [t.name for t in threading.enumerate() if t.name.startswith("evsefast-")]
        if not threads and _pty_fds() <= fds:
            break
        time.sleep(0.02)
    assert not threads, f"threads left running: {threads}"
    assert _pty_fds() <= fds, "pty file descriptors left open"


# -- MQTT: one real mosquitto for the whole test session (evsefast.everest tests) --------------------
@pytest.fixture(scope="session")
def mosquitto():
    """A real mosquitto broker (Debian package) on a free port; skipped without the binary, except
    under CI=true, where a missing broker is a failure."""
    from evsefast.everest.broker import Mosquitto, find_mosquitto

    if find_mosquitto() is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("mosquitto is not installed (.ci/run installs the Debian package)")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    broker = Mosquitto(unix_socket=True).start()
    yield broker
    broker.close()
