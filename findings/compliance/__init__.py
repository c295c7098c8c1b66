"""Compliance reports (SOC 2, PCI DSS v4) of a scan, from data tables kept in data/:

* controls.json        the controls of each framework and the engines able to assess each one;
* cwe_controls.csv     CWE id -> controls;
* category_controls.csv finding category (and "cve": any finding with a CVE id) -> controls;
* service_rules.json   open services that fail controls by being reachable (cleartext, databases, admin).

A control fails when an open or in_progress finding of severity low or above maps to it (by CWE, category
or, where the control says `fails_on_severity`, by being at least that severe), or when an open service
matches one of its service rules; it passes when no such evidence exists and an engine able to assess it
ran; otherwise it is not_assessed. Evidence beats absence: a failing finding fails its control even when
the engine that found it is not listed for that control.
"""

FRAMEWORKS = ("soc2", "pci-dss")
