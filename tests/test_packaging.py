"""The package installs as designed: kernels under evsefast._core, the compiled build live."""
import importlib.util
import os
import subprocess
import sys

import pytest

import evsefast
from evsefast import _impl


def test_no_top_level_core_module_is_installed():
    # the kernels' sources live in src/_core but must install as evsefast._core only
    assert importlib.util.find_spec("_core") is None
    assert importlib.util.find_spec("evsefast._core") is not None


@pytest.mark.arm
def test_compiled_build_is_live_unless_disabled():
    if _impl._env_flag("EVSEFAST_NO_EXTENSIONS"):
        assert evsefast.USING_EXTENSIONS is False
        assert _impl.ACTIVE is _impl.pure()
    else:
        assert evsefast.USING_EXTENSIONS is True
        for name in _impl._available_names():
            module = getattr(_impl.compiled(), name)
            assert _impl._is_extension(module), module.__file__


@pytest.mark.arm
def test_pure_build_is_plain_python():
    for name in _impl._available_names():
        module = getattr(_impl.pure(), name)
        assert module.__file__.endswith(f"{name}.py")


def test_env_var_forces_plain_path_in_a_fresh_interpreter():
    code = "import evsefast; print(evsefast.USING_EXTENSIONS)"
    env = dict(os.environ, EVSEFAST_NO_EXTENSIONS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_build_name_is_rejected():
    with pytest.raises(ValueError, match="compiled"):
        _impl.build("fast")
