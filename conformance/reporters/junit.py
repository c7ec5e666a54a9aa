"""junit.xml: one testcase per requirement, so any CI system shows the verdict requirement by requirement, and one
``completeness`` testcase for the run as a whole (as the pytest plugin has).

A run that is ``incomplete`` (credentials rejected, a wrong URL, a MUST left unexercised) or an ``error`` (target
unreachable, interrupted) leaves its requirements skipped, not failed: without the completeness testcase, a CI's
test report (GitLab's merge request widget) would show a clean run while the job fails.

Failure messages quote the target's answers, which may hold characters XML 1.0 cannot carry at all (control
characters, lone surrogates); they are written as visible escapes (``\\x1b``) so the file always parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.report.model import Report
from conformance.support.files import write_atomically

FILENAME = "junit.xml"
#: Characters outside XML 1.0's Char production.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: object) -> str:
    """Any value as text XML 1.0 can carry: illegal characters become visible escapes."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", str(value)
    )


def _clean(element: ET.Element) -> None:
    for node in element.iter():
        node.attrib = {key: xml_text(value) for key, value in node.attrib.items()}
        if node.text is not None:
            node.text = xml_text(node.text)


#: The testcase for the run as a whole, named as the pytest plugin's item (``dcs-conformance::completeness``).
COMPLETENESS = "completeness"


def _completeness(suite: ET.Element, report: Report) -> None:
    """Fails for an incomplete run and errors for an error run, with why as its message and the diagnosis in its
    text; passes otherwise: a non-conformant run's failed requirements speak for themselves."""
    case = ET.SubElement(suite, "testcase", classname="dcs-conformance", name=COMPLETENESS)
    verdict = report["verdict"]
    if verdict not in ("incomplete", "error"):
        return
    # An incomplete run's reason starts with its diagnosis (credentials rejected, every answer 404...); an error's
    # is the error itself (target unreachable, interrupted, a bug of ours).
    reason, error = report.get("verdict_reason"), report.get("error")
    why = ((error or reason) if verdict == "error" else (reason or error)) or verdict
    lines = [f"verdict: {verdict}: {why}", *(f"diagnosis: {message}" for message in report.get("diagnosis") or [])]
    if verdict == "incomplete":
        ET.SubElement(case, "failure", message=why, type="incomplete").text = "\n".join(lines)
    else:
        ET.SubElement(case, "error", message=why, type="error").text = "\n".join(lines)


def render(report: Report) -> bytes:
    requirements = report["requirements"]
    counts = report["counts"]
    verdict = report["verdict"]
    suite = ET.Element(
        "testsuite",
        name="dcs-conformance",
        tests=str(len(requirements) + 1),
        failures=str(counts["failed"] + (verdict == "incomplete")),
        errors=str(counts["error"] + (verdict == "error")),
        skipped=str(counts["skipped"]),
        time=f"{report['duration_s']:.3f}",
        timestamp=report["started_at"],
    )
    properties = ET.SubElement(suite, "properties")
    facts = {
        "verdict": report["verdict"],
        "suite_version": report["suite_version"],
        "spec_sha256": report["spec_sha256"],
        "seed": report["seed"],
    }
    for name, value in facts.items():
        ET.SubElement(properties, "property", name=name, value=str(value))
    ET.SubElement(properties, "property", name="target", value=report["target"]["base_url"])
    for item in requirements:
        case = ET.SubElement(
            suite, "testcase", classname=f"dcs-conformance.{item['level']}", name=f"{item['id']} {item['title']}"
        )
        detail = "\n".join(evidence.get("explanation", "") for evidence in item["evidence"])
        if item["status"] == "failed":
            ET.SubElement(case, "failure", message=item["reason"], type=item["level"]).text = detail
        elif item["status"] == "error":
            ET.SubElement(case, "error", message=item["reason"]).text = detail
        elif item["status"] == "skipped":
            ET.SubElement(case, "skipped", message=item["reason"])
        elif item["status"] == "warning":
            ET.SubElement(case, "system-out").text = f"WARNING ({item['level']}): {item['reason']}\n{detail}"
    _completeness(suite, report)
    _clean(suite)
    ET.indent(suite)
    document: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return document


def write(report: Report, directory: Path) -> Path:
    return write_atomically(directory / FILENAME, render(report))
