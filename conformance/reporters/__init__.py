"""Reporters turn a finished report dictionary into files; they never run checks or send requests."""
