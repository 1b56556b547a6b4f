from evsefast import EvseManager
from evsefast.testing import FakeBoard, FakePowerMeter, ManualClock, enforced_limits

clock = ManualClock()                         # the manager never reads a clock: time moves when we say
board, meter = FakeBoard(), FakePowerMeter()  # test doubles: we play the car, the contactor and the meter
mgr = EvseManager({"connector_id": 1}, board=board, powermeters=[meter], clock=clock)
mgr.subscribe("session_event", lambda ev: print(f"{clock.monotonic_ms() / 1000:6.1f} s  {ev.event.value}"))


def run_for(seconds: float) -> None:
    """Ticking: let time pass, calling tick() at every deadline the manager asks for and at the end."""
    end = clock.monotonic_ms() + 1000.0 * seconds
    while (deadline := mgr.next_deadline_ms()) is not None and deadline <= end:
        clock.set_ms(max(deadline, clock.monotonic_ms()))
        mgr.tick()
    clock.set_ms(end)
    mgr.tick()


mgr.start()
meter.publish(0.0)                          # ready once the first meter value is in
run_for(0.1)
assert mgr.ready                            # before this, cmds raise evsefast.errors.NotReady
mgr.enforce_limits(enforced_limits(16.0))   # the energy manager's limit (0 A until one arrives)
board.emit("B")                             # the car plugs in
mgr.authorize_response(
    {"id_token": {"value": "RFID1", "type": "ISO14443"}, "authorization_type": "RFID"},
    {"authorization_status": "Accepted", "tariff_messages": []},
)
run_for(1)                                  # the manager starts the 16 A PWM
board.emit("C")                             # the car sees it and asks for power
run_for(0.1)
board.emit("PowerOn")                       # the board closed the contactor
energy_Wh = 0.0
for _ in range(60):                         # one minute at 11 kW
    energy_Wh += 11_000 / 3600
    meter.publish(energy_Wh)
    run_for(1)
for event in ("B", "PowerOff", "A"):        # the car stops, the contactor opens, the car unplugs
    board.emit(event)
    run_for(0.5)
finished = mgr.session_events[-1].session_finished  # the last event: SessionFinished
assert finished is not None
print(f"charged {finished.energy_Wh_import:.0f} Wh")
