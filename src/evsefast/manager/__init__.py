"""The charging kernel: IEC adapter, charger state machine and the EvseManager facade."""
