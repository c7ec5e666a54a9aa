"""A stand-in for the reference's child process (conformance.reference.child) that says its secrets on stderr, as a
traceback quoting a request might: what the run shows of it must be redacted. Run as ``python -m``."""

from __future__ import annotations

import base64
import json
import sys

order = json.loads(sys.stdin.buffer.readline())
secret = order["credentials"]["sk"] or order["credentials"]["token"]
print(f"boom: key {secret}, encoded {base64.b64encode(secret.encode()).decode()}", file=sys.stderr, flush=True)
print(json.dumps({"port": 9, "fixtures": {"restartable": [], "not_restartable": []}}), flush=True)
sys.stdin.buffer.read()
