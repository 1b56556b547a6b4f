"""Yeti-family serial boards: COBS + JAMCRC framing, per-board protobuf field profiles, driver, virtual MCU."""
