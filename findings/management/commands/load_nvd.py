"""manage.py load_nvd FILE [FILE...]: load NVD CVE JSON 2.0 feeds (plain or gzip) into the local
vulnerability database that CVE matching reads. Idempotent: reloading a feed updates rows in place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from engines.cve.nvd import NvdFormatError, iter_feed
from findings.vulndb.services import known_cves_load


class Command(BaseCommand):
    help = "Load NVD CVE JSON 2.0 feed files (e.g. nvdcve-2.0-2024.json.gz) into the local CVE database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, help="feed files, .json or .json.gz")
        parser.add_argument("--batch-size", type=int, default=500, help="CVEs per transaction (default 500)")

    def handle(self, *args: Any, **options: Any) -> None:
        for path in options["files"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                stats = known_cves_load(items=iter_feed(path), batch_size=options["batch_size"])
            except (NvdFormatError, UnicodeDecodeError, OSError) as exc:
                raise CommandError(f"{path}: not an NVD CVE JSON 2.0 feed: {exc}") from exc
            self.stdout.write(f"{path}: {stats.cves} CVEs loaded ({stats.products} product keys), "
                              f"{stats.rejected} rejected removed")
