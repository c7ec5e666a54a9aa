"""dcs-conformance: a conformance suite for DCS API V2 ``POST /v2/{project_id}/migration-tasks/batch-restart``."""

__version__ = "0.1.0"
