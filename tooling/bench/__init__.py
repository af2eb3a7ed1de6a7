"""``scada bench``: measures the SPEC's targets on this machine, all parts running."""
