"""Power-loss recovery (spec §2.7(k)) with the SQLite store, in-process and across a real SIGKILL."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from evsefast.store import MemoryStore, SessionStore, open_store
from evsefast.testing import ManagerHarness


def test_sqlite_store_roundtrip(tmp_path):
    path = tmp_path / "s.db"
    s = SessionStore(path)
    assert s.load() is None
    s.begin("u1", 10.0)
    s.update_energy(12.5, 1.0)
    s.close()
    s2 = SessionStore(path)
    assert tuple(s2.load()) == ("u1", 12.5, 1.0)
    mode = s2._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode.lower() == "wal"
    s2.clear()
    s2.close()
    assert SessionStore(path).load() is None


def test_open_store_accepts_path_object_or_none(tmp_path):
    assert open_store(None) is None
    mem = MemoryStore()
    assert open_store(mem) is mem
    assert isinstance(open_store(str(tmp_path / "x.db")), SessionStore)


def test_update_without_transaction_is_ignored(tmp_path):
    s = SessionStore(tmp_path / "s.db")
    s.update_energy(5.0)
    assert s.load() is None


def _charge(h, energy_steps):
    h.start_charging()
    for e in energy_steps:
        h.advance(1_000)
        h.sample(e)


@pytest.mark.arm
def test_power_loss_in_process(kernels, tmp_path):
    path = tmp_path / "session.db"
    h = ManagerHarness(kernels=kernels, store=str(path))
    _charge(h, [10.0, 20.0, 30.0])
    uuid = h.mgr.session_events[1].uuid
    h.mgr._store.close()  # the power goes: no unplug, no stop

    h2 = ManagerHarness(kernels=kernels, store=str(path), start=False)
    h2.mgr.start()
    h2.sample(31.0)  # first meter value: start-up continues
    names = h2.event_names()
    assert names == ["SessionCancelled", "Enabled"]
    cancelled = h2.mgr.session_events[0]
    assert cancelled.uuid == uuid
    assert cancelled.session_cancelled.reason.value == "PowerLoss"
    # P10: the meter kept counting while we were off: the start-up sample, not the persisted 30.0
    assert cancelled.session_cancelled.energy_Wh_import == 31.0
    assert h2.meter.requests == [("stop_transaction", uuid), ("stop_transaction", "")]
    # the key is cleared: a third start has nothing to clean up
    h2.mgr._store.close()
    h3 = ManagerHarness(kernels=kernels, store=str(path))
    assert h3.event_names() == ["Enabled"]


def test_power_loss_without_a_startup_sample_reports_the_persisted_energy(kernels, tmp_path):
    path = tmp_path / "session.db"
    h = ManagerHarness(kernels=kernels, store=str(path))
    _charge(h, [10.0, 20.0, 30.0])
    h.mgr._store.close()
    h2 = ManagerHarness(kernels=kernels, store=str(path), start=False)
    h2.mgr.start()
    h2.advance(5_000)  # initial_meter_value_timeout_ms passes without a sample
    assert h2.event_names() == ["SessionCancelled", "Enabled"]
    assert h2.mgr.session_events[0].session_cancelled.energy_Wh_import == 30.0
    h2.sample(35.0)  # a later sample changes nothing that was already published
    assert h2.mgr.session_events[0].session_cancelled.energy_Wh_import == 30.0


@pytest.mark.parametrize("with_store", [False, True])
def test_startup_sends_the_final_stop_to_every_meter_also_without_a_stored_session(kernels, tmp_path, with_store):
    """Spec §2.7(k): stop_transaction("") at every start-up, with nothing stored and with no store."""
    from evsefast.testing import FakePowerMeter
    from evsefast.manager import EvseManager
    from evsefast.testing import FakeBoard, ManualClock

    meters = [FakePowerMeter(), FakePowerMeter()]
    store = str(tmp_path / "s.db") if with_store else None
    mgr = EvseManager({}, board=FakeBoard(), powermeters=meters, store=store, clock=ManualClock(), kernels=kernels)
    mgr.start()
    meters[0].publish(1.0)
    mgr.tick()
    assert mgr.get("ready") is True
    for meter in meters:
        assert meter.requests == [("stop_transaction", "")]
    mgr.close()


def test_normal_session_leaves_nothing(kernels, tmp_path):
    path = tmp_path / "session.db"
    h = ManagerHarness(kernels=kernels, store=str(path))
    _charge(h, [1.0, 2.0])
    h.cp("A")
    h.mgr._store.close()
    assert SessionStore(path).load() is None


def test_startup_waits_for_first_meter_value(kernels, tmp_path):
    h = ManagerHarness(kernels=kernels, start=False)
    h.mgr.start()
    assert h.mgr.get("ready") is None
    assert h.mgr.get("waiting_for_external_ready") is False
    h.advance(4_999)
    assert h.mgr.get("ready") is None
    h.advance(1)  # initial_meter_value_timeout_ms
    assert h.mgr.get("ready") is True
    assert h.event_names() == ["Enabled"]


_CHILD = textwrap.dedent("""
    import sys, time
    from evsefast.testing import ManagerHarness
    from evsefast import _impl
    h = ManagerHarness(kernels=_impl.build(sys.argv[2]), store=sys.argv[1])
    h.start_charging()
    for e in (100.0, 250.0, 400.0):
        h.advance(1000)
        h.sample(e)
    print("READY", h.mgr.session_events[1].uuid, flush=True)
    while True:
        h.advance(100)
        time.sleep(0.01)
""")


def test_power_loss_across_sigkill(tmp_path, kernels):
    build = kernels.name  # the child process runs the same build
    path = tmp_path / "session.db"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), build], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "READY", proc.stderr.read()
        uuid = line[1]
        os.kill(proc.pid, signal.SIGKILL)  # mid-charge, no clean-up of any kind
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    h = ManagerHarness(kernels=kernels, store=str(path), energy_Wh=412.0)  # the meter counted on
    assert h.event_names() == ["SessionCancelled", "Enabled"]
    ev = h.mgr.session_events[0]
    assert ev.uuid == uuid
    assert ev.session_cancelled.reason.value == "PowerLoss"
    assert ev.session_cancelled.energy_Wh_import == 412.0
    # a car still plugged in starts a new session when the board reports B again
    h.plug_in()
    assert h.event_names()[-2:] == ["SessionStarted", "AuthRequired"]
    assert h.mgr.session_events[-1].uuid != uuid


# --------------------------------------------------------------------------------------------------
# A store that cannot be used: StoreError naming the path and what is wrong, never a raw sqlite3 error
# --------------------------------------------------------------------------------------------------

from evsefast.errors import EvseError, StoreError  # noqa: E402


def test_missing_directory_is_a_store_error_naming_it(tmp_path):
    path = tmp_path / "nope" / "session.db"
    with pytest.raises(StoreError) as info:
        SessionStore(path)
    assert isinstance(info.value, EvseError) and info.value.path == str(path)
    assert str(tmp_path / "nope") in str(info.value) and "does not exist" in str(info.value)
    assert not (tmp_path / "nope").exists()


def test_a_directory_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="is a directory"):
        SessionStore(tmp_path)


def test_the_manager_reports_a_bad_store_path_at_construction(tmp_path):
    from evsefast.manager import EvseManager
    from evsefast.testing import FakeBoard

    with pytest.raises(StoreError, match="does not exist"):
        EvseManager({}, board=FakeBoard(), store=str(tmp_path / "missing" / "s.db"))


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_database_is_moved_aside_and_the_store_starts_empty(tmp_path, caplog, damage):
    path = tmp_path / "session.db"
    s = SessionStore(path)
    s.begin("u1", 10.0)
    s.close()
    data = path.read_bytes()
    path.write_bytes(b"not a database at all " * 200 if damage == "garbage" else data[: len(data) // 2 + 100])
    with caplog.at_level("WARNING", logger="evsefast.store"):
        s2 = SessionStore(path)
    assert s2.load() is None
    s2.begin("u2", 1.0)  # it works: fresh
    s2.close()
    aside = [p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(aside) == 1 and aside[0].startswith("session.db.corrupt-")
    assert any("moved aside" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)
    assert SessionStore(path).load().uuid == "u2"


@pytest.fixture
def read_only_dir(tmp_path):
    """A real read-only file system (tmpfs remounted ro); needs root (CI runs as root)."""
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        if os.environ.get("CI"):
            pytest.fail("cannot mount a tmpfs under CI (the read-only store test needs root)")
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_read_only_file_system_is_an_error_at_construction(read_only_dir):
    path = read_only_dir / "session.db"
    s = SessionStore(path)
    s.begin("u1", 5.0)
    s.close()
    assert subprocess.run(["mount", "-o", "remount,ro", str(read_only_dir)], capture_output=True).returncode == 0
    with pytest.raises(StoreError) as info:
        SessionStore(path)
    assert str(read_only_dir) in str(info.value) and "not writable" in str(info.value)
    assert path.exists()  # nothing moved: the file is fine, the file system is read-only
