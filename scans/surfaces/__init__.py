"""The seed API surfaces: each module serves one commercial scan API at its documented path and shape.

Each module only translates: the request into a ScanRequest (scans.services) or a selector call, and the
scan or the error back into that API's words. Targets, options, quotas, credits, priorities, plans and
tenant scoping are decided by the services and selectors, never here.

  oem.py          seed 000  /api/v1/oem/on-demand-scan, /api/v1/oem/on-demand-scan/scan-status
  ingest.py       seed 001  /api/ingest/v1/scan
  multiengine.py  seed 002  /scan-api/api/v1/scans ...
  network.py      seed 004  /api/v1/scans/start, /api/v1/scans/{id}/stop (the rest of 004 is the native API)
  audit.py        the audit-log entry that seeds 000 and 001 demand for every request
Seed 003 is the native API itself (scans/api).
"""
