"""Judging: exchanges (the evidence), findings, the ledger that turns them into statuses and a verdict, the diagnosis of
a setup that cannot be judged, and the scenario trace."""
