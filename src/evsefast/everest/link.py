"""``MqttLink``: one paho-mqtt connection with routing, TCP_NODELAY, reconnect and re-subscription.

paho-mqtt (>= 2.1) does the protocol; this class adds what every evsefast MQTT part needs:

* handlers per topic filter (paho's own topic trie, ``message_callback_add``), re-subscribed on
  every (re)connect, so a broker restart is invisible to the parts;
* ``TCP_NODELAY`` on the socket (wire_protocols.md §1.9: without it Nagle and delayed ACKs cost
  80-90 ms per QoS 2 round trip) and an in-flight limit at or below mosquitto's 20;
* ``connect_async`` + paho's network thread: the first connection and every reconnect are retried
  with back-off (``reconnect_min_s`` doubling to ``reconnect_max_s``) without blocking anyone;
* connect hooks (re-publish state) and disconnect hooks, called on paho's network thread;
* ``publish`` returns False instead of queueing while disconnected: stale publications must not
  burst out after a reconnect; parts that must not lose a message buffer it themselves.

Handlers run on paho's network thread: they must be quick and must never block on another MQTT
message (hand work to a driver thread instead).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Callable, Dict, List, Optional, Tuple

import paho.mqtt.client as mqtt

from .ratelog import RateLimitedLog
from .settings import MqttSettings

__all__ = ["MqttLink"]

log = logging.getLogger("evsefast.everest.mqtt")

Handler = Callable[[str, bytes], None]


class MqttLink:
    """One broker connection; see the module docstring."""

    def __init__(self, settings: MqttSettings, *, client_id: str = "", name: str = "evsefast") -> None:
        self.settings = settings
        cid = client_id or settings.client_id or f"{name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        transport = "unix" if settings.socket_path else "tcp"
        self._client = c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, transport=transport,
                                       reconnect_on_failure=True)
        c.max_inflight_messages_set(settings.max_inflight)
        c.reconnect_delay_set(min_delay=settings.reconnect_min_s, max_delay=settings.reconnect_max_s)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_socket_open = self._on_socket_open
        c.on_message = self._on_unrouted
        c.on_subscribe = self._on_subscribe
        c.on_connect_fail = self._on_connect_fail
        self._unreachable = RateLimitedLog(log, burst=1, window_s=30.0)
        self._acked: Dict[int, bool] = {}
        self._ack_cond = threading.Condition()
        self._subs: Dict[str, int] = {}
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._ready = threading.Event()  # connected and the (re)subscriptions acknowledged
        self._resub_mid: Optional[int] = None
        self._connect_hooks: List[Callable[[], None]] = []
        self._disconnect_hooks: List[Callable[[], None]] = []
        self._started = False
        self._stopping = False
        self._net_thread = 0
        self.connects = 0
        self.client_id = cid

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background (retrying with back-off) and start paho's network thread."""
        if self._started:
            return
        self._started = True
        self._stopping = False
        s = self.settings
        host = s.socket_path if s.socket_path else (s.host or "localhost")
        self._client.connect_async(host, s.port, keepalive=s.keepalive_s)
        self._client.loop_start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Disconnect cleanly (pending QoS 1/2 publications are flushed first) and stop the thread."""
        if not self._started:
            return
        self._started = False
        self._stopping = True
        try:
            if self._connected.is_set():
                self._client.disconnect()
        finally:
            self._client.loop_stop()
            self._connected.clear()
            self._ready.clear()

    def wait_connected(self, timeout_s: float) -> bool:
        """Block until connected with every subscription acknowledged by the broker (True), or
        ``timeout_s`` passed (False)."""
        return self._ready.wait(timeout_s)

    def on_network_thread(self) -> bool:
        """True when called from paho's network thread (where waiting for the broker would deadlock)."""
        return threading.get_ident() == self._net_thread

    @property
    def connected(self) -> bool:
        """True while the broker connection is up."""
        return self._connected.is_set()

    def on_connect(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` after every (re)connect, once the subscriptions are renewed."""
        self._connect_hooks.append(hook)

    def on_disconnect(self, hook: Callable[[], None]) -> None:
        """Call ``hook()`` when the connection drops."""
        self._disconnect_hooks.append(hook)

    # -- routing -------------------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler, qos: int = 2, wait_s: float = 0.0) -> None:
        """Route messages matching ``topic_filter`` to ``handler(topic, payload)`` (subscribed now and on
        every reconnect); with ``wait_s`` > 0 wait (at most that long) for the broker's SUBACK."""
        def cb(client, userdata, msg, _h=handler) -> None:
            try:
                _h(msg.topic, msg.payload)
            except Exception:  # noqa: BLE001 - a handler's bug must not stop the network thread
                log.exception("handler for %s raised", msg.topic)
        with self._lock:
            self._client.message_callback_add(topic_filter, cb)
            self._subs[topic_filter] = max(qos, self._subs.get(topic_filter, 0))
        if self._connected.is_set():
            rc, mid = self._client.subscribe(topic_filter, qos)
            if wait_s > 0 and rc == mqtt.MQTT_ERR_SUCCESS:
                with self._ack_cond:
                    self._ack_cond.wait_for(lambda: mid in self._acked, wait_s)
                    self._acked.pop(mid, None)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        with self._ack_cond:
            if mid == self._resub_mid:
                self._resub_mid = None
                self._ready.set()
                return
            self._acked[mid] = True
            if len(self._acked) > 1000:  # acks nobody waited for
                self._acked.clear()
            self._ack_cond.notify_all()

    def unsubscribe(self, topic_filter: str) -> None:
        """Stop routing ``topic_filter``."""
        with self._lock:
            self._subs.pop(topic_filter, None)
            self._client.message_callback_remove(topic_filter)
        if self._connected.is_set():
            self._client.unsubscribe(topic_filter)

    def publish(self, topic: str, payload: bytes, qos: int = 2, retain: bool = False) -> bool:
        """Publish; False (nothing queued) while disconnected."""
        if not self._connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def publish_wait(self, topic: str, payload: bytes, qos: int = 2, timeout_s: float = 2.0) -> bool:
        """Publish and wait until the broker acknowledged it (QoS 1/2) or it was sent (QoS 0)."""
        if not self._connected.is_set():
            return False
        info = self._client.publish(topic, payload, qos=qos)
        try:
            info.wait_for_publish(timeout_s)
        except (RuntimeError, ValueError):
            return False
        return info.is_published()

    # -- paho callbacks (network thread) -------------------------------------------------------
    def _on_socket_open(self, client, userdata, sock) -> None:
        if getattr(sock, "family", None) in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - not a TCP socket after all
                pass

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self._net_thread = threading.get_ident()
        if reason_code.is_failure:
            log.warning("MQTT broker refused the connection: %s", reason_code)
            return
        # connected first, then the snapshot: a filter added in between is subscribed by subscribe()
        self._connected.set()
        with self._lock:
            subs: List[Tuple[str, int]] = list(self._subs.items())
        if subs:
            rc, mid = client.subscribe(subs)
            with self._ack_cond:
                if mid in self._acked:
                    self._acked.pop(mid)
                    self._ready.set()
                else:
                    self._resub_mid = mid
        else:
            self._ready.set()
        self.connects += 1
        s = self.settings
        where = s.socket_path or f"{s.host}:{s.port}"
        log.info("MQTT connected to %s (%s)", where, "first connection" if self.connects == 1 else "reconnected")
        for hook in list(self._connect_hooks):
            try:
                hook()
            except Exception:  # noqa: BLE001
                log.exception("MQTT connect hook raised")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        self._ready.clear()
        if was and not self._stopping:
            log.warning("MQTT connection lost (%s); reconnecting with back-off", reason_code)
            for hook in list(self._disconnect_hooks):
                try:
                    hook()
                except Exception:  # noqa: BLE001
                    log.exception("MQTT disconnect hook raised")

    def _on_connect_fail(self, client, userdata) -> None:
        s = self.settings
        self._unreachable.warning("MQTT broker %s unreachable; retrying with back-off (up to every %g s)",
                                  s.socket_path or f"{s.host}:{s.port}", s.reconnect_max_s)

    @staticmethod
    def _on_unrouted(client, userdata, msg) -> None:
        log.debug("MQTT message on %s matched no handler", msg.topic)
