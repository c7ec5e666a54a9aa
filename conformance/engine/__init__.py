"""The engine: one HTTP client for every request, the phases that decide what to send, and the run itself."""
