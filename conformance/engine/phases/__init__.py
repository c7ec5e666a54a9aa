"""The phases of a run, each deciding what to send: hand-written scenarios, the aimed property-based phase (with its
drawing child) and schemathesis's generated phases."""
