#!/usr/bin/env bash
# Build evsefast's sdist on the host, install it inside an emulated Debian bookworm
# ARM system (qemu user-mode + binfmt_misc + chroot, no docker) the way a user
# would, and run the ARM-marked tests against the compiled package and once more
# against a pure-Python install.  Needs root (CI runs as root).  See docs/ARM.md.
#
#   usage: bash tools/arm_emu_test.sh {arm64|armhf} [project_dir]
#
# environment (all optional):
#   ARM_EMU_CACHE        cache dir, outside the repo (default /var/cache/evsefast-arm-emu): base rootfs
#                        tarball, venv tarball, wheelhouse of dependency wheels built for the arch
#   ARM_EMU_MIRROR       Debian mirror for debootstrap (default: the host's, if the host is Debian)
#   ARM_EMU_SDIST        use this sdist instead of building one with `python -m build --sdist`
#   ARM_EMU_PYTHON       host python used to build the sdist (default python3)
#   ARM_EMU_CFLAGS       CFLAGS for evsefast's own build inside the emulated system.  Unset = Python's
#                        defaults (-O2 + setup.py's -O2 -g0).  Any value REPLACES Python's default
#                        flags ("-g -fwrapv -O2 -Wall ..."), it does not append; never set it empty.
#   ARM_EMU_DEPS_CFLAGS  the same, for the dependency wheels built once into the wheelhouse
#                        (msgspec on armhf, cobs on both), e.g. "-O1 -g0 -fwrapv -DNDEBUG"
#   ARM_EMU_JOBS         parallel C compiles for the extension build (default: nproc)
#   ARM_EMU_PYTEST       extra pytest arguments (default: none; the script passes -m arm)
#   ARM_EMU_MARK         pytest -m expression (default "arm")
#   ARM_EMU_TESTS_FROM   "sdist" (default: run the tests shipped in the sdist, which also proves the
#                        sdist is complete) or "tree" (the project dir's tests/ and the files beside it)
#   ARM_EMU_PURE=0       skip the second round (pure-Python install + EVSEFAST_NO_EXTENSIONS=1)
#   ARM_EMU_INSTRUCTIONS=1  arm64 only: also install valgrind in the chroot and run
#                        benches/instructions.py there on the compiled install (+ ~1 min for apt,
#                        ~35 s per valgrind run, 13 min for all; ARM_EMU_INSTRUCTIONS_ARGS e.g. "--only 'pwm.*'")
#   ARM_EMU_REFRESH=1    rebuild the cached rootfs, venv and wheelhouse for this arch
#   ARM_EMU_KEEP=1       keep the temporary work dir (rootfs + logs) for debugging
#   PIP_INDEX_URL        passed into the emulated system if set
#
# exit status: 0 only if every step and every test round passed (an empty test
# selection counts as a failure).
set -euo pipefail

ARCH=${1:-}
SRC=$(realpath "${2:-.}")
case $ARCH in
  arm64) QEMU=qemu-aarch64 ;;
  armhf) QEMU=qemu-arm ;;
  *) echo "usage: $0 {arm64|armhf} [project_dir]" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "$0: needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 2; }

CACHE=${ARM_EMU_CACHE:-/var/cache/evsefast-arm-emu}
case "$CACHE/" in "$SRC"/*) echo "ARM_EMU_CACHE must live outside the project ($CACHE)" >&2; exit 2 ;; esac
SUITE=bookworm
RECIPE=v1                      # bump when the rootfs recipe below changes
DEB_PACKAGES=python3,python3-venv,python3-dev,gcc,libc6-dev
JOBS=${ARM_EMU_JOBS:-$(nproc)}
MARK=${ARM_EMU_MARK:-arm}
HOSTPY=${ARM_EMU_PYTHON:-python3}
# test tools inside the emulated venv: no numpy / matplotlib (no armv7l wheels)
TEST_DEPS="pytest>=7 hypothesis>=6.80 pytest-timeout>=2"

T0=$SECONDS
TIMES=()
SUMMARY=()
FAILED=()
t() { echo "[arm-emu $ARCH] $(date -u +%T) $*"; }
phase_start() { PHASE=$1; PHASE_T=$SECONDS; t "$1"; }
phase_end() { TIMES+=("$(printf '%-34s %4ds' "$PHASE" $((SECONDS - PHASE_T)))"); }

mkdir -p "$CACHE"
exec 9>"$CACHE/$ARCH.lock"
flock 9                        # one run per arch at a time (cache writers)

WORK=$(mktemp -d -t "evsefast-arm-emu-$ARCH.XXXXXX")
cleanup() {
  local rc=$?
  if [ -n "${ARM_EMU_KEEP:-}" ]; then t "work dir kept: $WORK"
  else rm -rf --one-file-system "$WORK"; fi   # no mount is ever left in $WORK (see run_in)
  exit $rc
}
trap cleanup EXIT

# ---------------------------------------------------------------- 1. host tools + binfmt_misc
need=()
for p in qemu-user-static binfmt-support debootstrap zstd; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if ((${#need[@]})); then
  phase_start "host: apt-get install ${need[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  phase_end
fi
# per boot, idempotent, machine-global (harmless to other jobs).  Flag F: the kernel keeps the
# interpreter open, so no qemu binary is copied into the rootfs.
mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
[ -e "/proc/sys/fs/binfmt_misc/$QEMU" ] || update-binfmts --enable "$QEMU" || true

# Run a bash script inside a rootfs: private mount + pid namespace (the /proc mount vanishes with
# it, nothing is bind-mounted from the host), clean environment, host DNS and host CA bundle.
# Extra NAME=value pairs may precede the script: run_in ROOT [NAME=value ...] SCRIPT
run_in() {
  local r=$1; shift
  local envs=()
  while [ $# -gt 1 ]; do envs+=("$1"); shift; done
  [ -n "${PIP_INDEX_URL:-}" ] && envs+=("PIP_INDEX_URL=$PIP_INDEX_URL")
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  cp -L /etc/ssl/certs/ca-certificates.crt "$r/etc/ssl/host-ca-bundle.crt"
  unshare --mount --pid --fork --mount-proc="$r/proc" \
    chroot "$r" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
      PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      PIP_CERT=/etc/ssl/host-ca-bundle.crt SSL_CERT_FILE=/etc/ssl/host-ca-bundle.crt \
      PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 PIP_ROOT_USER_ACTION=ignore \
      PIP_NO_CACHE_DIR=1 \
      "${envs[@]}" \
      /bin/bash -ec "$1"
}
# never hand an empty CFLAGS to setuptools: it would then drop Python's default -O2
cflags_env() { [ -n "${1:-}" ] && echo "CFLAGS=$1" || echo "EVSEFAST_ARM_EMU=1"; }

hash_of() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

# ---------------------------------------------------------------- 2. cached base rootfs
BASE=$CACHE/rootfs-$SUITE-$ARCH-$RECIPE.tar.zst
[ -n "${ARM_EMU_REFRESH:-}" ] && rm -f "$BASE"
if [ ! -s "$BASE" ]; then
  phase_start "cold: debootstrap $ARCH"
  # the host's own Debian mirror (never hardcoded); on a non-Debian host, debootstrap's default
  mirror=${ARM_EMU_MIRROR:-}
  if [ -z "$mirror" ] && grep -qx 'ID=debian' /etc/os-release 2>/dev/null; then
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    [ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $0 ~ / main/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  fi
  t "mirror: ${mirror:-debootstrap default}"
  B=$WORK/bootstrap
  debootstrap --arch="$ARCH" --variant=minbase --include="$DEB_PACKAGES" \
    "$SUITE" "$B" ${mirror:+"$mirror"} >"$WORK/debootstrap.log" 2>&1 \
    || { tail -30 "$WORK/debootstrap.log"; exit 1; }
  chroot "$B" apt-get clean
  rm -rf "$B"/var/lib/apt/lists/* "$B"/usr/share/doc/* "$B"/usr/share/man/* \
         "$B"/usr/share/locale/* "$B"/root/.cache "$B"/tmp/* "$B"/var/log/*.log
  tar -C "$B" --numeric-owner -cf - . | zstd -q -T0 -10 -o "$BASE.tmp"
  mv "$BASE.tmp" "$BASE"
  rm -rf --one-file-system "$B"
  phase_end
fi

R=$WORK/rootfs
mkdir "$R"
phase_start "unpack rootfs"
zstd -q -d -c "$BASE" | tar -C "$R" -xf -
phase_end
if ! chroot "$R" /bin/true; then
  echo "cannot execute $ARCH binaries: is binfmt_misc mounted and $QEMU registered?" >&2
  exit 1
fi

# ---------------------------------------------------------------- 3. sdist (host)
if [ -n "${ARM_EMU_SDIST:-}" ]; then
  SDIST=$(realpath "$ARM_EMU_SDIST")
else
  phase_start "host: python -m build --sdist"
  "$HOSTPY" -m build --sdist --outdir "$WORK/dist" "$SRC" >"$WORK/sdist.log" 2>&1 \
    || { tail -30 "$WORK/sdist.log"; exit 1; }
  SDIST=$(ls "$WORK"/dist/evsefast-*.tar.gz)
  phase_end
fi
t "sdist: $(basename "$SDIST")"
SDIST_DIR=$(basename "$SDIST" .tar.gz)     # sdists unpack into name-version/
# build and run-time requirements, read from the sdist itself
BUILD_DEPS=$(tar -xzOf "$SDIST" "$SDIST_DIR/pyproject.toml" | "$HOSTPY" -c '
import sys
try:
    import tomllib
except ImportError:  # Python < 3.11: the copy pip vendors
    from pip._vendor import tomli as tomllib
print(" ".join(tomllib.loads(sys.stdin.read())["build-system"]["requires"]))')
RUN_DEPS=$(tar -xzOf "$SDIST" "$SDIST_DIR/PKG-INFO" | "$HOSTPY" -c '
import sys, email
msg = email.message_from_string(sys.stdin.read())
print("\n".join(r for r in msg.get_all("Requires-Dist") or [] if "extra ==" not in r))')

# ---------------------------------------------------------------- 4. cached venv (build + test tools)
VENV_KEY=$(hash_of "$RECIPE" "$BUILD_DEPS" "$TEST_DEPS")
VENV=$CACHE/venv-$SUITE-$ARCH-$VENV_KEY.tar.zst
[ -n "${ARM_EMU_REFRESH:-}" ] && rm -f "$CACHE"/venv-"$SUITE"-"$ARCH"-*.tar.zst
if [ ! -s "$VENV" ]; then
  phase_start "cold: venv + build/test tools"
  # wheel: Debian's venv setuptools has no bdist_wheel without it (and we upgrade setuptools anyway)
  # shellcheck disable=SC2086
  run_in "$R" "python3 -m venv /opt/venv && pip install -q -U pip wheel $(printf "'%s' " $BUILD_DEPS $TEST_DEPS)"
  rm -rf "$R/root/.cache"
  rm -f "$CACHE"/venv-"$SUITE"-"$ARCH"-*.tar.zst
  tar -C "$R" --numeric-owner -cf - opt/venv | zstd -q -T0 -10 -o "$VENV.tmp"
  mv "$VENV.tmp" "$VENV"
  phase_end
else
  phase_start "unpack venv"
  zstd -q -d -c "$VENV" | tar -C "$R" -xf -
  phase_end
fi

# ---------------------------------------------------------------- 5. wheelhouse of dependency wheels
# msgspec has no armv7l wheel and cobs >= 1.2.1 has no wheel at all: build them once for this arch
# and keep them (without --prefer-binary here, so the newest release is what gets built).
WH=$CACHE/wheelhouse-$SUITE-$ARCH
[ -n "${ARM_EMU_REFRESH:-}" ] && rm -rf "$WH"
mkdir -p "$WH" "$R/wheelhouse"
STAMP=$WH/.stamp-$(hash_of wh2 "$RUN_DEPS" "${ARM_EMU_DEPS_CFLAGS:-}")
cp -p "$WH"/*.whl "$R/wheelhouse/" 2>/dev/null || true
if [ ! -e "$STAMP" ]; then
  phase_start "cold: dependency wheels"
  printf '%s\n' "$RUN_DEPS" >"$R/wheelhouse/requirements.txt"
  run_in "$R" "$(cflags_env "${ARM_EMU_DEPS_CFLAGS:-}")" \
    'pip wheel -q --find-links /wheelhouse -w /wheelhouse -r /wheelhouse/requirements.txt'
  cp -p "$R"/wheelhouse/*.whl "$WH/"
  rm -f "$WH"/.stamp-*
  touch "$STAMP"
  phase_end
fi
t "wheelhouse: $(cd "$R/wheelhouse" && echo *.whl)"

# ---------------------------------------------------------------- 6. install the sdist like a user
mkdir -p "$R/dist"
cp "$SDIST" "$R/dist/"
SDIST_IN=/dist/$(basename "$SDIST")
if [ "${ARM_EMU_TESTS_FROM:-sdist}" = tree ]; then
  # the working tree's tests (and tools/, benches/, ... they may load), never its src/ or build products
  mkdir "$R/dist/tree"
  tar -C "$SRC" --exclude=./.git --exclude=./src --exclude=./build --exclude=./dist --exclude='*.so' \
      --exclude='*.c' --exclude=__pycache__ --exclude=.venv --exclude='*.egg-info' -cf - . \
    | tar -C "$R/dist/tree" -xf -
  TESTS_IN=/dist/tree/tests
else
  tar -C "$R/dist" -xzf "$SDIST"        # its own tests/: the sdist must ship what they need
  TESTS_IN=/dist/$SDIST_DIR/tests
fi
# [build_ext] parallel=N through distutils' DIST_EXTRA_CONFIG: the kernels compile side by side
printf '[build_ext]\nparallel = %s\n' "$JOBS" >"$R/dist/build-jobs.cfg"

# pip install of the sdist tarball, dependencies from PyPI with the wheelhouse as extra find-links.
# --no-build-isolation: setuptools + Cython are preinstalled in the cached venv (saves ~25 s of
# re-downloading them per build under emulation); --prefer-binary keeps the cached dependency wheels.
PIP_INSTALL="pip install -q --no-build-isolation --prefer-binary --find-links /wheelhouse"

phase_start "pip install sdist (compiled)"
run_in "$R" "$(cflags_env "${ARM_EMU_CFLAGS:-}")" DIST_EXTRA_CONFIG=/dist/build-jobs.cfg \
  "$PIP_INSTALL $SDIST_IN"
phase_end

INFO='import platform, sys, sysconfig, importlib.metadata as md
import evsefast
from pathlib import Path
core = Path(evsefast.__file__).parent / "_core"
print("machine:", platform.machine(), "| python", platform.python_version(), "|", sysconfig.get_platform())
print("evsefast", evsefast.__version__, "USING_EXTENSIONS =", evsefast.USING_EXTENSIONS,
      "| extensions:", " ".join(sorted(p.name for p in core.glob("*.so"))) or "none")
print("deps:", ", ".join(f"{d} {md.version(d)}" for d in ("msgspec", "cobs", "protobuf", "pyserial")))'

# run_round NAME ENV... : print the machine, run pytest from tests/ (so the installed package
# is imported, not the source tree), record the counts
run_round() {
  local name=$1; shift
  local log=$WORK/pytest-$name.log rc=0
  phase_start "pytest ($name)"
  # shellcheck disable=SC2086
  run_in "$R" "$@" HYPOTHESIS_PROFILE=arm \
    "cd $TESTS_IN && python -c '$INFO' && python -m pytest -q -rfEX -p no:cacheprovider -m '$MARK' ${ARM_EMU_PYTEST:-}" \
    2>&1 | tee "$log" || rc=$?
  phase_end
  local counts
  counts=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error|deselected|xfailed|xpassed)|no tests ran' "$log" | tail -1 | sed 's/^=* *//; s/ *=*$//')
  SUMMARY+=("$(printf '%-9s %s' "$name:" "${counts:-no pytest summary} (exit $rc)")")
  [ "$rc" = 0 ] || FAILED+=("$name")
}

run_round compiled EVSEFAST_REQUIRE_EXTENSIONS=1

# ---------------------------------------------------------------- optional: instruction counts (on the compiled install)
if [ -n "${ARM_EMU_INSTRUCTIONS:-}" ]; then
  if [ "$ARCH" != arm64 ]; then
    t "ARM_EMU_INSTRUCTIONS: arm64 only, skipped"
  elif [ ! -e "$R$TESTS_IN/../benches/instructions.py" ]; then
    t "ARM_EMU_INSTRUCTIONS: benches/instructions.py not in the sdist, skipped"
  else
    phase_start "instruction counts (valgrind, arm64)"
    rc=0
    # x86 budgets do not apply to AArch64 code: the counts are printed, over-budget (exit 1) is not
    # a failure here, a crash or a missing valgrind is
    run_in "$R" \
      "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q valgrind >/dev/null
       cd $TESTS_IN/../benches && { python instructions.py ${ARM_EMU_INSTRUCTIONS_ARGS:-} || [ \$? = 1 ]; }" || rc=$?
    phase_end
    SUMMARY+=("$(printf '%-9s exit %s' "instr:" "$rc")")
    [ "$rc" = 0 ] || FAILED+=("instructions")
  fi
fi

if [ "${ARM_EMU_PURE:-1}" != 0 ]; then
  # the no-compiler install path: EVSEFAST_NO_EXTENSIONS=1 at install time gives a pure-Python
  # package; the tests then run with it set at run time too
  phase_start "pip install sdist (pure)"
  run_in "$R" EVSEFAST_NO_EXTENSIONS=1 "$PIP_INSTALL --force-reinstall --no-deps $SDIST_IN"
  phase_end
  run_round pure EVSEFAST_NO_EXTENSIONS=1
fi

# ---------------------------------------------------------------- summary
echo
t "summary ($ARCH, total $((SECONDS - T0)) s)"
printf '  %s\n' "${TIMES[@]}" "${SUMMARY[@]}"
if ((${#FAILED[@]})); then
  t "FAILED: ${FAILED[*]}"
  exit 1
fi
t "OK"
