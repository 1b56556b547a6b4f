"""Type checkers see evsefast's real API: ``mypy --strict`` passes on ``examples/`` and reports every
deliberate misuse in ``tests/typing_cases/api_usage.py`` (cmd signatures with the interface's
argument names and result types, per-var ``subscribe``/``get``, ``events()``/``wait_ready()``);
and the typed var overloads cannot drift from the interface's var table."""
from __future__ import annotations

import ast
import os
import pathlib
import re
import subprocess
import sys
import typing

import pytest

import evsefast
from evsefast.types.interface import CMDS, VARS

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CASES = pathlib.Path(__file__).resolve().parent / "typing_cases" / "api_usage.py"
VAR_ACCESS = pathlib.Path(evsefast.__file__).parent / "manager" / "var_access.py"


def _mypy_env() -> dict:
    """A source checkout installed in editable mode is not importable for mypy (setuptools' import
    hook): point MYPYPATH at it. An installed package is found in site-packages (it ships py.typed)."""
    env = dict(os.environ)
    package_root = pathlib.Path(evsefast.__file__).resolve().parent.parent
    if package_root.name == "src":
        env["MYPYPATH"] = str(package_root)
    return env


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install '.[test]'")
    if not EXAMPLES.is_dir():
        pytest.skip("examples/ is not beside the tests (an installed test tree without the examples)")
    cache = tmp_path_factory.mktemp("mypy-cache")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--show-absolute-path", f"--cache-dir={cache}", str(EXAMPLES), str(CASES)],
        capture_output=True, text=True, env=_mypy_env(), timeout=300, cwd=str(ROOT))
    assert proc.returncode in (0, 1), proc.stderr  # 2: mypy itself failed
    errors = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"(.+?):(\d+): error: (.*)", line)
        if m:
            errors.setdefault(pathlib.Path(m.group(1)).resolve(), {})[int(m.group(2))] = m.group(3)
    return errors, proc.stdout


def test_examples_pass_mypy_strict(mypy_report):
    errors, output = mypy_report
    in_examples = {path: lines for path, lines in errors.items() if EXAMPLES in path.parents}
    assert in_examples == {}, output
    assert len(list(EXAMPLES.glob("*.py"))) >= 4


def test_every_misuse_is_reported_and_nothing_else(mypy_report):
    errors, output = mypy_report
    reported = set(errors.get(CASES.resolve(), {}))
    source = CASES.read_text(encoding="utf-8").splitlines()
    marked = {i for i, line in enumerate(source, 1) if re.search(r"\S.*#\s*error\s*$", line)}
    assert "type: ignore" not in CASES.read_text(encoding="utf-8")
    assert len(marked) >= 25
    assert sorted(marked - reported) == [], f"misuse mypy did not report:\n{output}"
    assert sorted(reported - marked) == [], f"correct usage mypy rejected:\n{output}"


def test_the_usage_file_calls_every_cmd_with_the_interface_argument_names():
    source = CASES.read_text(encoding="utf-8")
    for cmd, spec in CMDS.items():
        call = re.search(rf"mgr\.{cmd}\(([^#]*?)\)\s*$", source, re.M | re.S)
        assert call, f"{cmd} is not called in the typing cases"
        for arg in spec.arguments:
            assert f"{arg}=" in call.group(1), f"{cmd}: the argument {arg} is not passed by name"


def _overloads(method: str):
    """(var name, annotation source) of each ``@overload`` of ``method`` in var_access.py with a Literal name."""
    tree = ast.parse(VAR_ACCESS.read_text(encoding="utf-8"))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "VarAccess")
    out = []
    for fn in cls.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == method and fn.decorator_list:
            name_ann = ast.unparse(fn.args.args[1].annotation)
            m = re.fullmatch(r"Literal\['(\w+)'\]", name_ann)
            if m:
                if method == "get":
                    ann = ast.unparse(fn.returns)
                else:
                    ann = ast.unparse(fn.args.args[2].annotation)
                out.append((m.group(1), ann))
    return out


def _type_text(tp) -> str:
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) is list:
        return f"List[{typing.get_args(tp)[0].__name__}]"
    return tp.__name__


@pytest.mark.parametrize("method,pattern", [("get", r"Optional\[(.+)\]"), ("subscribe", r"Callable\[\[(.+)\], object\]")])
def test_typed_var_overloads_mirror_the_interface(method, pattern):
    found = _overloads(method)
    assert [name for name, _ in found] == list(VARS)
    for name, ann in found:
        inner = re.fullmatch(pattern, ann)
        assert inner, (name, ann)
        assert inner.group(1) == _type_text(VARS[name]), name


def test_var_name_literal_lists_every_var():
    from evsefast.manager.var_access import VarName

    assert list(typing.get_args(VarName)) == list(VARS)
