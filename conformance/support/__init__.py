"""What every layer stands on: strict JSON for target bodies, link-safe file writes, secret redaction and the guarded
terminal streams. Nothing here knows the contract or a run."""
