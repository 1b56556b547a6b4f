"""Shared fixtures. ``kernels`` runs a test against the compiled and the plain-Python build.

The compiled build must be present unless ``EVSEFAST_NO_EXTENSIONS=1`` is set: a
silently missing extension is a test failure, not a skip.
"""
from __future__ import annotations

import os

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
