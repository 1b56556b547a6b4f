"""A pyserial transport for the Yeti link, with pyserial's failure modes mapped to evsefast errors.

* ``open()`` uses ``serial_for_url(..., exclusive=True)``: any URL pyserial knows works
  (``/dev/ttyUSB0``, ``spy:///dev/ttymxc2`` to hexdump traffic, ``socket://host:port``,
  ``loop://``). Failure -> ``TransportInitError`` (raised from pyserial's error).
* ``read()`` returns what arrived within the read timeout (``b""`` for none; a short read
  is normal), and raises ``TransportClosed`` when the device disappeared or was closed.
* ``write()`` raises ``TransportClosed`` when the device is gone or the write timed out.
* ``close()`` cancels a blocked ``read`` (``cancel_read``) and closes; it is idempotent.
"""
from __future__ import annotations

import threading
from typing import Optional

from ...errors import TransportClosed, TransportInitError


class SerialTransport:
    """One serial connection (8N1, no flow control), opened exclusively."""

    def __init__(self, url: str, baudrate: int = 115200, *, read_timeout_s: float = 0.1,
                 write_timeout_s: float = 1.0) -> None:
        self.url = str(url)
        self.baudrate = int(baudrate)
        self.read_timeout_s = float(read_timeout_s)
        self.write_timeout_s = float(write_timeout_s)
        self._ser = None
        self._write_lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        """True while the port is open."""
        ser = self._ser
        return ser is not None and ser.is_open

    def open(self) -> None:
        """Open the port exclusively; ``TransportInitError`` if it is missing, busy or refused."""
        import serial  # pyserial, imported lazily: only this backend needs it

        try:
            ser = serial.serial_for_url(
                self.url, baudrate=self.baudrate, bytesize=8, parity="N", stopbits=1,
                timeout=self.read_timeout_s, write_timeout=self.write_timeout_s,
                exclusive=True, do_not_open=True,
            )
            ser.open()
        except Exception as exc:  # SerialException, OSError, termios.error, ValueError
            raise TransportInitError(f"cannot open serial port {self.url!r} at {self.baudrate} baud: "
                                     f"{exc}") from exc
        try:
            ser.reset_input_buffer()
        except Exception:  # pragma: no cover - e.g. URL handlers without buffers
            pass
        self._ser = ser

    def read(self) -> bytes:
        """Bytes that arrived within the read timeout (possibly ``b""``)."""
        ser = self._ser
        if ser is None:
            raise TransportClosed(f"serial port {self.url!r} is closed")
        try:
            data = ser.read(1)
            if data:
                waiting = ser.in_waiting
                if waiting:
                    data += ser.read(waiting)
            return data
        except Exception as exc:  # SerialException "returned no data", OSError EIO, TypeError on close
            raise TransportClosed(f"serial port {self.url!r} failed while reading: {exc}") from exc

    def write(self, data: bytes) -> None:
        """Write all of ``data``; ``TransportClosed`` if the port is gone or the write timed out."""
        ser = self._ser
        if ser is None:
            raise TransportClosed(f"serial port {self.url!r} is closed")
        with self._write_lock:
            try:
                ser.write(data)
            except Exception as exc:  # SerialTimeoutException, SerialException, OSError
                raise TransportClosed(f"serial port {self.url!r} failed while writing: {exc}") from exc

    def close(self) -> None:
        """Unblock a reader and close the port (idempotent)."""
        ser: Optional[object] = self._ser
        self._ser = None
        if ser is None:
            return
        try:
            ser.cancel_read()
        except Exception:
            pass
        try:
            ser.close()
        except Exception:
            pass

    def __enter__(self) -> "SerialTransport":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["SerialTransport"]
