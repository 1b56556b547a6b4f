"""Every way an ``evsefast`` command can go wrong ends in one line on stderr, the right exit code and
no traceback (issue 10): unusable paths and ports, bad fault times, a closed stdout, limits that the
messages state truthfully."""
from __future__ import annotations

import errno
import io
import subprocess
import sys

import pytest

from evsefast.cli import EXIT_OK, EXIT_PIPE, EXIT_USAGE, guard, main
from evsefast.cli_args import MAX_DURATION_S
from evsefast.cli_simulate import build_parser, simulate
from evsefast.errors import CommandRejected

pytestmark = pytest.mark.timeout(60)


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = simulate(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str, prog: str = "evsefast simulate") -> str:
    """The whole of stderr is one line starting with the command's name, without a traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(prog + ": ")
    return lines[0]


def cli(*argv, timeout=60, **kw):
    return subprocess.run([sys.executable, "-m", "evsefast", *argv], capture_output=True, text=True,
                          timeout=timeout, **kw)


# -- paths ------------------------------------------------------------------------------------------
def test_plot_into_a_missing_directory_fails_before_the_run():
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (evsefast[plot])")
    code, out, err = run(["--plot", "/nonexistent/x.png"])
    assert code == EXIT_USAGE
    line = one_line(err)
    assert "argument --plot" in line and "/nonexistent/x.png" in line and "does not exist" in line
    assert out == ""  # refused before the run: no summary


def test_plot_onto_a_directory_is_refused(tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib (evsefast[plot])")
    target = tmp_path / "dir.png"
    target.mkdir()
    code, out, err = run(["--plot", str(target)])
    assert code == EXIT_USAGE
    assert "is a directory" in one_line(err)


def test_a_missing_serial_port_names_the_argument():
    code, out, err = run(["--board", "yeti", "--port", "/dev/nonexistent"])
    assert code == EXIT_USAGE
    line = one_line(err)
    assert "argument --port" in line and "/dev/nonexistent" in line
    assert out == ""


def test_a_port_that_is_not_a_tty_names_the_argument(tmp_path):
    plain = tmp_path / "not-a-tty"
    plain.write_text("")
    code, out, err = run(["--board", "yeti", "--port", str(plain), "--quiet"])
    assert code == EXIT_USAGE
    line = one_line(err)
    assert "argument --port" in line and str(plain) in line


def test_virtual_board_link_into_a_missing_directory():
    proc = cli("virtual-board", "--link", "/nonexistent/dir/pty", "--run-for", "0")
    assert proc.returncode == EXIT_USAGE
    line = one_line(proc.stderr, "evsefast virtual-board")
    assert "argument --link" in line and "/nonexistent/dir" in line
    assert proc.stdout == ""


# -- faults -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", ["rcd@nan", "rcd@-5", "rcd@1e12", "rcd@inf", "rcd@soon", "rcd@1801"])
def test_fault_times_are_finite_non_negative_and_within_the_duration(spec):
    code, out, err = run(["--fault", spec])
    assert code == EXIT_USAGE
    line = one_line(err)
    assert "argument --fault" in line and repr(spec) in line


def test_fault_time_limits_are_inclusive():
    """The message says "from 0 to the duration": both ends are accepted."""
    from evsefast.cli_args import parse_fault

    assert parse_fault("rcd@0", duration_s=60.0, link=False).t_s == 0.0
    assert parse_fault("rcd@60", duration_s=60.0, link=False).t_s == 60.0
    assert parse_fault("rcd@1m", duration_s=60.0, link=False).t_s == 60.0
    assert parse_fault("rcd:off@30", duration_s=60.0, link=False).active is False


def test_virtual_board_uses_the_same_fault_syntax():
    for spec in ("rcd@nan", "rcd@-5", "rcd@1e12"):
        proc = cli("virtual-board", "--fault", spec, "--run-for", "0")
        assert proc.returncode == EXIT_USAGE
        assert "argument --fault" in one_line(proc.stderr, "evsefast virtual-board")
    proc = cli("virtual-board", "--fault", "30:rcd", "--run-for", "0")  # the old T:KIND form
    assert proc.returncode == EXIT_USAGE
    assert "KIND[:ARG][@TIME]" in one_line(proc.stderr, "evsefast virtual-board")
    proc = cli("virtual-board", "--fault", "rcd@30", "--fault", "silence:5@40", "--fault", "rcd:off@50",
               "--run-for", "0")
    assert proc.returncode == EXIT_OK, proc.stderr
    assert proc.stdout.strip().startswith("/dev/")


def test_link_faults_need_the_virtual_mcu():
    code, out, err = run(["--fault", "crc@10"])
    assert code == EXIT_USAGE
    assert "--board yeti" in one_line(err)
    code, out, err = run(["--board", "yeti", "--port", "/dev/null", "--fault", "rcd@10"])
    assert code == EXIT_USAGE
    assert "virtual-board --fault" in one_line(err)


# -- limits stated in messages are the limits checked ----------------------------------------------------
@pytest.mark.parametrize("option,ok,bad", [
    ("--limit", ["6", "80"], ["5.99", "80.01", "nan", "inf"]),
    ("--speed", ["0.001", "1e6"], ["0.0009", "1000001", "nan", "inf"]),
    ("--duration", ["1", "1s", "7d", "168h", str(MAX_DURATION_S)], ["0.99", "7.01d", "8d", "nan", "inf", "1y"]),
])
def test_every_stated_limit_is_the_checked_limit(option, ok, bad):
    parser = build_parser()
    for value in ok:
        parser.parse_args([option, value])
    for value in bad:
        code, out, err = run([option, value])
        assert code == EXIT_USAGE, value
        assert f"argument {option}" in one_line(err)


def test_duration_7d_is_accepted_as_the_message_promises():
    assert build_parser().parse_args(["--duration", "7d"]).duration == 7 * 86400.0
    code, out, err = run(["--duration", "8d"])
    assert "from 1 s to 7 d (604800 s)" in one_line(err)


# -- the top-level handler ----------------------------------------------------------------------------
def test_guard_turns_os_and_evsefast_errors_into_one_line():
    def missing():
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/y")

    def rejected():
        raise CommandRejected("max_current: must be >= 0, got -1\nmore detail", "max_current")

    for fn, needle in ((missing, "evsefast test: /x/y: No such file or directory"),
                       (rejected, "evsefast test: max_current: must be >= 0, got -1")):
        err = io.StringIO()
        assert guard("evsefast test", fn, err) == EXIT_USAGE
        assert one_line(err.getvalue(), "evsefast test") == needle


def test_unknown_command_and_help_and_version(capsys):
    assert main(["frobnicate"]) == EXIT_USAGE
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main(["--help"]) == EXIT_OK
    text = capsys.readouterr().out
    for needle in ("-h, --help", "-V, --version", "simulate", "virtual-board", "exit codes:"):
        assert needle in text
    assert main(["-V"]) == EXIT_OK
    from evsefast import __version__

    assert capsys.readouterr().out == f"evsefast {__version__}\n"


def test_help_says_what_board_yeti_does_with_time(capsys):
    from evsefast.cli_simulate import build_parser

    text = " ".join(build_parser().format_help().split())
    assert "lockstep" in text and "as fast as the link allows" in text
    assert "--port PATH runs in real time (--speed 1) by default" in text
    for option in ("--car", "--limit", "--phases", "--duration", "--speed", "--json", "--plot", "--seed", "--board",
                   "--port", "--fault", "--socket", "--quiet", "--verbose"):
        assert option in text


def test_python_dash_m_evsefast():
    proc = cli("-V")
    assert proc.returncode == 0 and proc.stdout.startswith("evsefast ")
    proc = cli("simulate", "--duration", "60", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "SessionFinished" in proc.stdout


# -- a closed stdout ----------------------------------------------------------------------------------
@pytest.mark.parametrize("extra", [["--json", "--quiet"], []])
def test_closed_stdout_ends_the_run_quietly(extra):
    """``evsefast simulate --json --quiet | head -1``: the run stops early, nothing on stderr (without
    ``--json`` the event lines and the summary go to stdout too)."""
    proc = subprocess.Popen([sys.executable, "-m", "evsefast", "simulate", *extra], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    assert first
    proc.stdout.close()  # the reader goes away, as head does
    _, err = proc.communicate(timeout=60)
    assert err.decode() == ""
    assert proc.returncode == EXIT_PIPE


def test_a_closed_stream_passed_in_stops_the_run():
    class Closing(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    err = io.StringIO()
    assert simulate(["--json"], stdout=Closing(), stderr=err) == EXIT_PIPE
    assert "Traceback" not in err.getvalue()
