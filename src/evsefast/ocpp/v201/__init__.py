"""OCPP 2.0.1 core: :class:`.protocol.Protocol201`, its connectors, request handlers and device model."""
