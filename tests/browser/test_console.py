"""The console as an operator uses it, in headless Chromium against the real server and worker: log in,
submit an nmap scan of a port this test opened on 127.0.0.1, watch it finish live, import a real nuclei
report for the same target, triage its finding, download SARIF; the dashboard updates live; schedules.

The finding comes from importing engines/nuclei/tests/fixtures/scb_log4shell.jsonl (a real nuclei report)
through the console's import form, because nmap alone reports no findings and nuclei cannot run here."""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from django.contrib.auth.models import User

from tenants.models import Membership
from tests.browser.conftest import ARTIFACTS, ROOT
from tests.conftest import TenantKey, make_tenant

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-console-browser-1"
NUCLEI_REPORT = ROOT / "engines/nuclei/tests/fixtures/scb_log4shell.jsonl"
SCAN_PAGE = re.compile(r".*/console/scans/[0-9a-f-]{36}/$")
EXCLUDED_PORT = 2024  # reserved on these machines: never scanned, never listened on


@pytest.fixture
def acme() -> TenantKey:
    tenant = make_tenant("acme")
    user = User.objects.create_user("ops", password=PASSWORD)
    Membership.objects.create(user=user, tenant_id=tenant.tenant_id, role="admin")
    return tenant


@pytest.fixture
def open_port() -> Iterator[int]:
    """A socket listening on 127.0.0.1 for the scan to find."""
    while True:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        if sock.getsockname()[1] != EXCLUDED_PORT:
            break
        sock.close()
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def page(browser_context):
    tab = browser_context.new_page()
    yield tab
    tab.close()


def log_in(page, base: str) -> None:
    page.goto(f"{base}/console/")
    assert "/console/login/" in page.url
    page.get_by_label("Username").fill("ops")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Dashboard").wait_for()


def shot(page, name: str, docs_name: str | None = None) -> Path:
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    if docs_name:
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(path, ROOT / "docs" / docs_name)
    return path


def start_long_scan(client: httpx.Client) -> str:
    """A slow nmap scan of every loopback port but the excluded one: it runs until it is cancelled."""
    created = client.post("/api/v1/scans", json={
        "target": "127.0.0.1", "engine": "nmap", "authorized": True, "priority": "high",
        "options": {"ports": f"1-{EXCLUDED_PORT - 1},{EXCLUDED_PORT + 1}-65535", "timing": "T1",
                    "serviceDetection": False}})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def field_error(page, field: str) -> str:
    return page.locator(f'[data-field="{field}"] .field-error').inner_text()


def test_an_operator_runs_a_scan_triages_a_finding_and_exports_sarif(console_stack, acme, open_port, page):
    base = console_stack.http
    log_in(page, base)

    # Given the new-scan form drawn from the engine registry's option schemas
    page.get_by_role("link", name="New scan").click()
    page.wait_for_selector("#scan-form[data-ready=true]")
    page.locator("#f-target").fill("127.0.0.1")
    page.locator("#f-kind").select_option("engine:nmap")
    assert page.locator("#opt-timing").input_value() == "T3"
    assert page.locator("#opt-serviceDetection").is_checked()

    # When it is submitted without the authorisation, then with bad ports: the API's errors sit by the field
    page.get_by_role("button", name="Start scan").click()
    assert "must be true" in field_error(page, "authorized")
    page.get_by_label("I am authorised to scan this target").check()
    page.locator("#opt-ports").fill("80;90")
    page.get_by_role("button", name="Start scan").click()
    assert "ports" in field_error(page, "options.ports")
    assert page.locator("#opt-ports").get_attribute("aria-invalid") == "true"

    # When it is corrected and submitted
    page.locator("#opt-ports").fill(str(open_port))
    page.locator("#opt-serviceDetection").uncheck()
    page.get_by_role("button", name="Start scan").click()
    page.wait_for_url(SCAN_PAGE)
    scan_url = page.url
    page.evaluate("window.__notReloaded = true")

    # Then the progress bar reaches 100 and the open port appears, live, without a reload
    page.wait_for_selector('#scan-progress[aria-valuenow="100"]', timeout=90_000)
    page.wait_for_selector(f'#devices-body tr[data-key="127.0.0.1/{open_port}/tcp"]')
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator("#scan-status").inner_text() == "completed"
    log = page.locator("#event-log").inner_text()
    assert "port_found" in log and f"port {open_port}/tcp open on 127.0.0.1" in log and "scan_complete" in log
    assert page.locator("#ports-found").inner_text() == "1"
    assert page.locator("#phase-list li").first.get_attribute("class") == "phase phase-completed"
    shot(page, "scan-nmap.png", "console-scan.png")

    # When a real nuclei report for the same target is imported through the console
    page.get_by_role("link", name="New scan").click()
    page.wait_for_selector("#scan-form[data-ready=true]")
    page.locator("#i-engine").select_option("nuclei")
    page.locator("#i-file").set_input_files(str(NUCLEI_REPORT))
    page.locator("#i-target").fill("127.0.0.1")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url(SCAN_PAGE)
    assert page.url != scan_url

    # Then its finding is listed, and its status can be changed
    row = page.locator("#findings-table tbody tr", has_text="Remote code injection in Log4j")
    assert row.locator(".badge.sev-critical").inner_text() == "critical"
    row.get_by_label("New status for Remote code injection in Log4j").select_option("in_progress")
    row.get_by_role("button", name="Set").click()
    page.wait_for_selector("#findings-table .js-finding-status:text-is('in_progress')")
    assert "is now in_progress" in page.locator("#scan-message").inner_text()

    # And filtering by status finds it under its new status only
    page.locator("#filter-status").select_option("open")
    page.wait_for_selector("#findings-count:has-text('0 findings')")
    page.locator("#filter-status").select_option("in_progress")
    page.wait_for_selector("#findings-table")

    # And the SARIF export downloads a SARIF 2.1.0 log with the finding
    with page.expect_download() as download_info:
        page.get_by_role("button", name="SARIF").click()
    sarif_path = ARTIFACTS / download_info.value.suggested_filename
    download_info.value.save_as(sarif_path)
    sarif = json.loads(sarif_path.read_text())
    assert sarif["version"] == "2.1.0"
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["CVE-2021-44228"]

    # And the PCI DSS report renders in the page
    page.get_by_role("button", name="PCI DSS report").click()
    page.wait_for_selector("#compliance-title")
    shot(page, "scan-imported.png")

    # And the dashboard shows the day's scans, the new critical finding and, live, a scan that starts now
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_selector("#severity-chart svg rect.sev-fill-critical")
    page.wait_for_selector("#live-status:has-text('Live')")
    assert "127.0.0.1" in page.locator("#risky-title ~ .table-wrap").inner_text()
    with httpx.Client(base_url=base, headers={"X-API-Key": acme.key}, timeout=10) as client:
        scan_id = start_long_scan(client)
        page.locator(f'.running-item[data-scan-id="{scan_id}"]').wait_for(timeout=60_000)
        shot(page, "dashboard.png", "console-dashboard.png")
        assert client.delete(f"/api/v1/scans/{scan_id}").status_code == 200
    page.wait_for_selector("#running-count:text-is('0')", timeout=30_000)


def test_the_dashboard_shows_a_running_scan_live_and_the_scan_page_cancels_it(console_stack, acme, page):
    base = console_stack.http
    log_in(page, base)
    page.wait_for_selector("#live-status:has-text('Live')")
    assert page.locator("#running-count").inner_text() == "0"

    # When a long scan starts through the API while the dashboard is open
    with httpx.Client(base_url=base, headers={"X-API-Key": acme.key}, timeout=10) as client:
        scan_id = start_long_scan(client)

    # Then it appears under "Running now" with its progress bar, without a reload
    item = page.locator(f'.running-item[data-scan-id="{scan_id}"]')
    item.wait_for(timeout=60_000)
    assert item.get_by_role("progressbar").get_attribute("aria-valuemax") == "100"
    shot(page, "dashboard-running.png")

    # When the operator opens it and cancels it
    item.get_by_role("link", name="127.0.0.1").click()
    page.get_by_role("button", name="Cancel scan").click()

    # Then the page shows it cancelled, from the event stream
    page.wait_for_selector("#scan-status:text-is('cancelled')", timeout=30_000)
    assert "scan.cancelled" in page.locator("#event-log").inner_text()


def test_schedules_are_created_paused_and_deleted_from_the_console(console_stack, acme, page):
    base = console_stack.http
    log_in(page, base)
    page.get_by_role("link", name="Schedules").click()
    page.locator("#s-target").fill("127.0.0.1")
    page.get_by_label("Time zone").fill("Mars/Olympus")
    page.get_by_role("button", name="Create schedule").click()
    assert "unknown timezone" in field_error(page, "timezone")

    page.get_by_label("Time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Create schedule").click()
    row = page.locator("#schedule-table tbody tr", has_text="127.0.0.1")
    row.wait_for()
    assert "weekly on Monday at 02:00 Europe/Berlin" in row.inner_text()
    assert "UTC" in row.locator(".js-next-run").inner_text()

    row.get_by_role("button", name="Pause").click()
    page.wait_for_selector("#schedule-table .js-next-run:has-text('paused')")
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#schedule-table").get_by_role("button", name="Delete").click()
    page.wait_for_selector("text=No schedule yet.")


def test_the_console_fits_a_phone_screen(console_stack, acme, page):
    base = console_stack.http
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, base)
    for path in ("/console/", "/console/scans/new/", "/console/schedules/"):
        page.goto(base + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    page.goto(base + "/console/scans/new/")
    page.wait_for_selector("#scan-form[data-ready=true]")
    shot(page, "new-scan-phone.png")
