"""Extension modules only; all metadata lives in pyproject.toml.

Environment toggles:
  EVSEFAST_NO_EXTENSIONS=1   build a pure-Python package (no compiler needed)
  EVSEFAST_DEBUG_BUILD=1     bounds checks on, -O0 -g
  CIBUILDWHEEL=1             (set by cibuildwheel) a failed extension build is an error
Without CIBUILDWHEEL the extensions are optional: a machine without a C compiler
still installs a working package that runs the same kernels as plain Python.
"""
import glob
import os
import shutil

from setuptools import Extension, setup

KERNELS = ["pilot", "pilotstream", "cpsignal", "pwm", "limits", "meter", "framing"]
# per-kernel flags on top of the common ones, not in a debug build (measured: benches/README.md
# "Compiler flags"): cpsignal's run loop and noise batches are ~8 % faster at -O3 (and 2 % fewer Ir)
EXTRA_CFLAGS = {"cpsignal": ["-O3"]}


def _extensions():
    if os.environ.get("EVSEFAST_NO_EXTENSIONS"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:  # pragma: no cover - Cython is a build requirement
        return []
    debug = bool(os.environ.get("EVSEFAST_DEBUG_BUILD"))
    mandatory = bool(os.environ.get("CIBUILDWHEEL"))
    # -g0 keeps the .so small on flash-constrained controllers.  -ffp-contract=off: no fused
    # multiply-add (GCC's default on aarch64), so every float result is the plain-Python twin's
    cflags = (["-O0", "-g"] if debug else ["-O2", "-g0"]) + ["-ffp-contract=off"]
    # Cython finds a module's augmenting .pxd by its qualified name
    # (evsefast/_core/<name>.pxd under the root package dir), but the sources live
    # in src/_core. Mirror them into a package-shaped tree and compile from there.
    mirror = os.path.join("build", "cython_src")
    core = os.path.join(mirror, "evsefast", "_core")
    os.makedirs(core, exist_ok=True)
    for pkg_init in (os.path.join(mirror, "evsefast", "__init__.py"), os.path.join(core, "__init__.py")):
        open(pkg_init, "a").close()
    names = [n for n in KERNELS if os.path.exists(f"src/_core/{n}.py")]
    # hand-written C helpers (src/_core/*.h, e.g. pilotscan.h) sit beside the generated .c, and
    # .pxd-only modules (rawbuf.pxd: inline C for the kernels' buffer access) beside the kernels'
    headers = sorted(glob.glob("src/_core/*.h"))
    shared_pxd = [p for p in sorted(glob.glob("src/_core/*.pxd"))
                  if os.path.splitext(os.path.basename(p))[0] not in KERNELS]
    sources = [f"src/_core/{name}{ext}" for name in names for ext in (".py", ".pxd")] + headers + shared_pxd
    for src in sources:
        dst = os.path.join(core, os.path.basename(src))
        if os.path.exists(src) and (
            not os.path.exists(dst) or open(src, "rb").read() != open(dst, "rb").read()
        ):
            shutil.copyfile(src, dst)  # copy only on change: keeps cythonize incremental
    depends = [os.path.join(core, os.path.basename(h)) for h in headers + shared_pxd]
    exts = [
        Extension(f"evsefast._core.{name}", [os.path.join(core, f"{name}.py")],
                  extra_compile_args=cflags + ([] if debug else EXTRA_CFLAGS.get(name, [])), depends=depends)
        for name in names
    ]
    built = cythonize(
        exts,
        compiler_directives={
            "language_level": 3,
            "boundscheck": debug,
            "wraparound": debug,
            "initializedcheck": debug,
            "cdivision": True,
            "embedsignature": True,
            "infer_types": True,
        },
        quiet=True,
    )
    # cythonize() drops Extension(optional=...): set it afterwards
    for ext in built:
        ext.optional = not mandatory
    return built


setup(ext_modules=_extensions())
