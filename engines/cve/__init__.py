"""CVE matching against a local copy of the NVD: pure functions, no Django, no network.

* nvd.py      streams CVE items out of NVD CVE JSON 2.0 feed files (plain or gzip) into frozen records;
* cpe.py      parses CPE 2.3 formatted strings and CPE 2.2 URIs into one comparable shape;
* versions.py orders version strings the way software is numbered (1.2.10 > 1.2.9, 1.0rc1 < 1.0 < 1.0p1);
* match.py    evaluates a CVE's configurations (AND/OR nodes, version ranges) against detected CPEs.
"""
