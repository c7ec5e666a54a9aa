"""Where a setting comes from: flags, environment and config file resolved into RunSettings, the credentials, the
fixtures file, and the command line that reproduces a run. Every value is checked here, before anything is sent."""
