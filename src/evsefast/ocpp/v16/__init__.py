"""OCPP 1.6J: :class:`.protocol.Protocol16`, its connectors, CSMS request handlers and configuration keys."""
