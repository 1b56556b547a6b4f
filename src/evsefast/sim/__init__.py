"""Simulation: CP waveform physics, simulated board and power meter, the EVerest car command language."""
