from conformance.cli.main import entry

raise SystemExit(entry())
