"""dcs-conformance: a conformance suite for DCS API V2 ``POST /v2/{project_id}/migration-tasks/batch-restart``."""

__version__ = "0.1.0"
#: The name pip installs this suite by (the command is ``dcs-conformance``, a name PyPI gives to another project).
DISTRIBUTION = "dcs-batch-restart-conformance"
