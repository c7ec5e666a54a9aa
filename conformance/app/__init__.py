"""A run end to end, above the engine: opening the target (remote or the embedded reference), judging it, building
report.json and writing every report file; many targets at once; what the terminal shows."""
