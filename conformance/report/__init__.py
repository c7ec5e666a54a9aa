"""The report as data: report.json's typed model, the report directory (the one reader of a report.json), the last
redaction pass, the certification bundle and the comparison of two reports. Reporters render what this package holds."""
