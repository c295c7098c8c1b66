"""Parser throughput: a synthetic nmap XML with 10,000 hosts and a nuclei JSONL with 100,000 findings
(generated here), parsed as a worker parses them: records per second and peak RSS, each parser measured in
a fresh process so its peak memory is its own. Goal: at least 50,000 records/s and peak RSS under 200 MB."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSTS, PORTS_PER_HOST, FINDINGS = 10_000, 3, 100_000


def write_nmap(path: Path) -> None:
    with open(path, "w") as out:
        out.write('<?xml version="1.0"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" args="nmap" version="7.93">\n')
        for i in range(HOSTS):
            ip = f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
            out.write(f'<host><status state="up" reason="syn-ack"/><address addr="{ip}" addrtype="ipv4"/>'
                      f'<hostnames><hostname name="h{i}.lantern.test" type="PTR"/></hostnames><ports>')
            for port in (22, 80, 443)[:PORTS_PER_HOST]:
                out.write(f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack"/>'
                          f'<service name="http" product="nginx" version="1.25.{i % 9}" method="probed" conf="10">'
                          f'<cpe>cpe:/a:nginx:nginx:1.25.{i % 9}</cpe></service></port>')
            out.write("</ports></host>\n")
        out.write("</nmaprun>\n")


def write_nuclei(path: Path) -> None:
    severities = ("info", "low", "medium", "high", "critical")
    with open(path, "w") as out:
        for i in range(FINDINGS):
            out.write(json.dumps({
                "template-id": f"bench-template-{i % 500}", "template-path": "http/bench.yaml",
                "info": {"name": f"Bench finding {i % 500}", "author": ["lantern"], "tags": ["bench"],
                         "severity": severities[i % 5], "description": "Synthetic finding for the benchmark.",
                         "classification": {"cve-id": None, "cwe-id": ["cwe-200"]}},
                "type": "http", "host": f"https://h{i % 2000}.lantern.test",
                "matched-at": f"https://h{i % 2000}.lantern.test/path/{i}", "ip": f"10.0.{i % 2000 // 256}.{i % 2000 % 256}",
                "timestamp": "2026-11-21T00:00:00Z", "matcher-status": True}) + "\n")


def measure(module: str, path: Path) -> dict:
    """In a child process: parse the file fully, return records, seconds and peak RSS."""
    code = (
        "import json, resource, sys, time\n"
        f"from engines.{module}.parse import parse\n"
        "from pathlib import Path\n"
        "started = time.perf_counter(); count = sum(1 for _ in parse(Path(sys.argv[1])))\n"
        "elapsed = time.perf_counter() - started\n"
        "print(json.dumps({'records': count, 'seconds': elapsed,\n"
        "                  'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, check=True, capture_output=True,
                         text=True)
    return json.loads(out.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        nmap, nuclei = Path(tmp) / "hosts.xml", Path(tmp) / "findings.jsonl"
        write_nmap(nmap)
        write_nuclei(nuclei)
        print("benchmark: parser throughput (each parser in a fresh process)")
        for label, module, path in (("nmap XML, 10,000 hosts", "nmap", nmap),
                                    ("nuclei JSONL, 100,000 findings", "nuclei", nuclei)):
            result = measure(module, path)
            rate = result["records"] / result["seconds"]
            print(f"  {label:32} {result['records']:>7} records in {result['seconds']:.2f} s = {rate:,.0f} "
                  f"records/s, peak RSS {result['peak_rss_mb']:.0f} MB, file {path.stat().st_size / 1e6:.0f} MB")
    print(f"  goal: >= 50,000 records/s and peak RSS < 200 MB (baseline interpreter: "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB in this process)")


if __name__ == "__main__":
    main()
