"""A tiny CSMS built with the ``ocpp`` package: accepts every charge point and prints what it sends.

    python examples/ocpp_csms.py --port 9000                  # OCPP 1.6J
    python examples/ocpp_csms.py --port 9000 --ocpp 2.0.1
    evsefast chargepoint --csms ws://localhost:9000/CP001     # in another shell

``--stop-after S`` stops every transaction S seconds after it started (RemoteStopTransaction /
RequestStopTransaction), to show a CSMS-initiated request.  ``--exit-after S`` ends the CSMS.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from datetime import datetime, timezone
from typing import Any, Dict, Optional

import ocpp.v16
import ocpp.v201
from ocpp.routing import on
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

TX_IDS = itertools.count(1)


def now() -> str:
    """The time now as OCPP text."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def show(cp_id: str, action: str, payload: Dict[str, Any]) -> None:
    """Print one message from a charge point."""
    print(f"{cp_id} -> {action} {json.dumps(payload, default=str, separators=(',', ':'))}", flush=True)


class ChargePoint16(ocpp.v16.ChargePoint):
    """The CSMS side of one OCPP 1.6J connection."""
    stop_after: Optional[float] = None

    @on("BootNotification")
    def boot(self, **kw: Any) -> Any:
        """Print and answer the charge point's boot."""
        show(self.id, "BootNotification", kw)
        return result16.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on("Heartbeat")
    def heartbeat(self, **kw: Any) -> Any:
        """Print and answer the charge point's heartbeat."""
        return result16.Heartbeat(current_time=now())

    @on("StatusNotification")
    def status(self, **kw: Any) -> Any:
        """Print and answer the charge point's status."""
        show(self.id, "StatusNotification", kw)
        return result16.StatusNotification()

    @on("Authorize")
    def authorize(self, **kw: Any) -> Any:
        """Print and answer the charge point's authorize."""
        show(self.id, "Authorize", kw)
        return result16.Authorize(id_tag_info={"status": "Accepted"})

    @on("StartTransaction")
    def start_transaction(self, **kw: Any) -> Any:
        """Print and answer the charge point's start transaction."""
        tx = next(TX_IDS)
        show(self.id, "StartTransaction", dict(kw, assigned_transaction_id=tx))
        if self.stop_after is not None:
            asyncio.get_running_loop().call_later(self.stop_after, self.remote_stop, tx)
        return result16.StartTransaction(transaction_id=tx, id_tag_info={"status": "Accepted"})

    def remote_stop(self, tx: int) -> None:
        """Stop transaction ``tx`` from the CSMS."""
        async def stop() -> None:
            res = await self.call(call16.RemoteStopTransaction(transaction_id=tx))
            print(f"{self.id} <- RemoteStopTransaction {tx}: {res.status if res else 'error'}", flush=True)
        asyncio.ensure_future(stop())

    @on("StopTransaction")
    def stop_transaction(self, **kw: Any) -> Any:
        """Print and answer the charge point's stop transaction."""
        show(self.id, "StopTransaction", {k: v for k, v in kw.items() if k != "transaction_data"})
        return result16.StopTransaction()

    @on("MeterValues")
    def meter_values(self, **kw: Any) -> Any:
        """Print and answer the charge point's meter values."""
        show(self.id, "MeterValues", kw)
        return result16.MeterValues()


class ChargePoint201(ocpp.v201.ChargePoint):
    """The CSMS side of one OCPP 2.0.1 connection."""
    stop_after: Optional[float] = None

    @on("BootNotification")
    def boot(self, **kw: Any) -> Any:
        """Print and answer the charge point's boot."""
        show(self.id, "BootNotification", kw)
        return result201.BootNotification(current_time=now(), interval=300, status="Accepted")

    @on("Heartbeat")
    def heartbeat(self, **kw: Any) -> Any:
        """Print and answer the charge point's heartbeat."""
        return result201.Heartbeat(current_time=now())

    @on("StatusNotification")
    def status(self, **kw: Any) -> Any:
        """Print and answer the charge point's status."""
        show(self.id, "StatusNotification", kw)
        return result201.StatusNotification()

    @on("Authorize")
    def authorize(self, **kw: Any) -> Any:
        """Print and answer the charge point's authorize."""
        show(self.id, "Authorize", kw)
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    def transaction_event(self, **kw: Any) -> Any:
        """Print and answer the charge point's transaction event."""
        show(self.id, "TransactionEvent", kw)
        if kw["event_type"] == "Started" and self.stop_after is not None:
            tx = kw["transaction_info"]["transaction_id"]
            asyncio.get_running_loop().call_later(self.stop_after, self.remote_stop, tx)
        if "id_token" in kw:
            return result201.TransactionEvent(id_token_info={"status": "Accepted"})
        return result201.TransactionEvent()

    def remote_stop(self, tx: str) -> None:
        """Stop transaction ``tx`` from the CSMS."""
        async def stop() -> None:
            res = await self.call(call201.RequestStopTransaction(transaction_id=tx))
            print(f"{self.id} <- RequestStopTransaction {tx}: {res.status if res else 'error'}", flush=True)
        asyncio.ensure_future(stop())

    @on("MeterValues")
    def meter_values(self, **kw: Any) -> Any:
        """Print and answer the charge point's meter values."""
        show(self.id, "MeterValues", kw)
        return result201.MeterValues()


async def main() -> None:
    """Parse the arguments and serve."""
    p = argparse.ArgumentParser(description="a tiny CSMS built with the ocpp package")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--ocpp", choices=("1.6", "2.0.1"), default="1.6")
    p.add_argument("--stop-after", type=float, default=None, metavar="S")
    p.add_argument("--exit-after", type=float, default=None, metavar="S")
    args = p.parse_args()
    cls: Any = ChargePoint16 if args.ocpp == "1.6" else ChargePoint201  # both untyped (ocpp has no types)
    cls.stop_after = args.stop_after

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        cp_id = path.strip("/").rsplit("/", 1)[-1]
        try:
            await cls(cp_id, ws).start()
        except Exception:  # the charge point went away
            print(f"{cp_id} disconnected", flush=True)

    subprotocol = Subprotocol("ocpp1.6" if args.ocpp == "1.6" else "ocpp2.0.1")
    async with serve(handler, args.host, args.port, subprotocols=[subprotocol]):
        print(f"CSMS (OCPP {args.ocpp}) listening on ws://{args.host}:{args.port}/", flush=True)
        if args.exit_after is None:
            await asyncio.Future()
        else:
            await asyncio.sleep(args.exit_after)


if __name__ == "__main__":
    asyncio.run(main())
