"""The ``dcs-conformance`` command: each subcommand's flags (args) wired to its handler (run, serve, reports, summarize)
by main."""
