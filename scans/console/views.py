"""Console pages. Each view resolves the user's membership once (the tenant comes from it, never from the
URL), reads through selectors and renders a template. Writes happen in the browser through the REST API
(session + CSRF), so the console holds no business logic. `?partial=` answers re-render one fragment of a
page with the same template code, so live updates and the first render cannot drift apart."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST

from config.errors import NotFound
from findings.compliance.selectors import scan_compliance
from findings.models import FindingStatus, Severity
from findings.selectors import page_of, scan_occurrence_list
from findings.services import TRANSITIONS
from scans.console.selectors import (DayCount, dashboard_findings_per_day, dashboard_queue_depth,
                                     dashboard_risky_targets, dashboard_running, dashboard_scans_per_day,
                                     membership_list)
from scans.models import Scan
from scans.plans import plan_phases
from scans.selectors import scan_certificates, scan_devices, scan_get, schedule_list
from tenants.auth import AuthContext, context_for_membership
from tenants.models import Membership
from tenants.scopes import Scope

TENANT_SESSION_KEY = "console_tenant"
FINDINGS_PER_PAGE = 25
COMPLIANCE_FRAMEWORKS = {"soc2": "SOC 2", "pci-dss": "PCI DSS"}


@dataclass(frozen=True)
class Console:
    """Who is acting for which tenant, resolved once per request and passed to the view explicitly."""

    membership: Membership
    memberships: list[Membership]
    auth: AuthContext

    @property
    def tenant_id(self) -> int:
        return self.auth.tenant_id

    def template_context(self) -> dict[str, Any]:
        scopes = self.auth.scopes
        return {
            "tenant": self.membership.tenant,
            "membership": self.membership,
            "memberships": self.memberships,
            "can": {"create": Scope.SCANS_CREATE in scopes, "cancel": Scope.SCANS_CANCEL in scopes,
                    "triage": Scope.FINDINGS_WRITE in scopes, "schedules": Scope.SCHEDULES_MANAGE in scopes},
        }


ConsoleView = Callable[..., HttpResponse]


def console_page(view: ConsoleView) -> Callable[..., HttpResponse]:
    """Login required, then a membership: a logged-in user without one (say, staff who only use the admin)
    gets a page that says so, not an error. The chosen tenant lives in the session; a stale choice falls
    back to the first membership."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        memberships = membership_list(user_id=request.user.pk)
        if not memberships:
            return render(request, "console/no_membership.html", status=403)
        chosen = request.session.get(TENANT_SESSION_KEY)
        membership = next((m for m in memberships if str(m.tenant.uuid) == chosen), memberships[0])
        console = Console(membership=membership, memberships=memberships,
                          auth=context_for_membership(membership))
        return view(request, console, *args, **kwargs)

    return wrapper


def _render(request: HttpRequest, console: Console, template: str, context: dict[str, Any],
            status: int = 200) -> HttpResponse:
    return render(request, template, {**console.template_context(), **context}, status=status)


class ConsoleLoginView(LoginView):
    """django.contrib.auth's login, sending the user to the dashboard (or ?next=) without LOGIN_REDIRECT_URL."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("console:dashboard")


class ConsoleLogoutView(LogoutView):
    next_page = reverse_lazy("console:login")


@require_POST
@console_page
def tenant_switch(request: HttpRequest, console: Console) -> HttpResponse:
    """Act for another of the user's tenants; a tenant the user is not a member of is ignored."""
    wanted = request.POST.get("tenant", "")
    if any(str(m.tenant.uuid) == wanted for m in console.memberships):
        request.session[TENANT_SESSION_KEY] = wanted
    return HttpResponseRedirect(reverse("console:dashboard"))


def _live_context(console: Console) -> dict[str, Any]:
    return {"running": dashboard_running(tenant_id=console.tenant_id),
            "queue": dashboard_queue_depth(tenant_id=console.tenant_id)}


def _bar_chart(days: list[DayCount], *, height: int = 60, bar_width: int = 8, gap: int = 2) -> dict[str, Any]:
    """Geometry of the scans-per-day SVG, computed here so the template only places rectangles."""
    peak = max([day.count for day in days] + [1])
    bars = []
    for index, day in enumerate(days):
        bar_height = round(day.count * (height - 4) / peak) if day.count else 0
        bars.append({"day": day.day, "count": day.count, "x": index * (bar_width + gap) + gap // 2,
                     "y": height - bar_height, "h": bar_height})
    return {"bars": bars, "width": len(days) * (bar_width + gap), "height": height, "bar_width": bar_width,
            "peak": max(day.count for day in days) if days else 0}


@console_page
def dashboard(request: HttpRequest, console: Console) -> HttpResponse:
    if request.GET.get("partial") == "live":
        return _render(request, console, "console/_dashboard_live.html", _live_context(console))
    per_day = dashboard_scans_per_day(tenant_id=console.tenant_id)
    findings_per_day = dashboard_findings_per_day(tenant_id=console.tenant_id)
    return _render(request, console, "console/dashboard.html", {
        **_live_context(console),
        "scans_chart": _bar_chart(per_day),
        "findings_per_day": findings_per_day,
        "findings_chart": [{"day": d.day.isoformat(), **d.counts} for d in findings_per_day],
        "risky_targets": dashboard_risky_targets(tenant_id=console.tenant_id),
        "severities": Severity.values,
    })


def _phase_rows(scan: Scan) -> list[dict[str, str]]:
    """Each planned phase with its state, for the plan list (the page's script updates it live)."""
    done, skipped = set(scan.phases_completed), scan.phases_skipped or {}
    rows = []
    for name in plan_phases(scan.plan):
        if name in done:
            state = "completed"
        elif name in skipped:
            state = "skipped"
        elif name == scan.phase and scan.status == "running":
            state = "running"
        else:
            state = "pending"
        rows.append({"name": name, "state": state, "reason": skipped.get(name, "")})
    return rows


def _scan_or_404(console: Console, scan_id: str) -> Scan:
    try:
        return scan_get(tenant_id=console.tenant_id, scan_id=scan_id)
    except NotFound:
        raise Http404("scan") from None


def _findings_context(request: HttpRequest, console: Console, scan: Scan) -> dict[str, Any]:
    severity = request.GET.get("severity") if request.GET.get("severity") in Severity.values else None
    status = request.GET.get("status") if request.GET.get("status") in FindingStatus.values else None
    try:
        page_number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page_number = 1
    occurrences = scan_occurrence_list(tenant_id=console.tenant_id, scan=scan, severity=severity, status=status)
    page = page_of(occurrences, page=page_number, per_page=FINDINGS_PER_PAGE)
    rows = [{"finding": o.finding, "detected_at": o.detected_at,
             "moves": sorted(TRANSITIONS[o.finding.status])} for o in page.items]
    return {"findings_page": page, "finding_rows": rows, "severity_filter": severity or "",
            "status_filter": status or "", "severities": Severity.values, "statuses": FindingStatus.values}


def _results_context(console: Console, scan: Scan) -> dict[str, Any]:
    return {"devices": scan_devices(tenant_id=console.tenant_id, scan=scan),
            "certificates": scan_certificates(tenant_id=console.tenant_id, scan=scan)}


@console_page
def scan_detail(request: HttpRequest, console: Console, scan_id: str) -> HttpResponse:
    scan = _scan_or_404(console, scan_id)
    partial = request.GET.get("partial")
    context: dict[str, Any] = {"scan": scan}
    if partial == "findings":
        return _render(request, console, "console/_scan_findings.html", {
            **context, **_findings_context(request, console, scan)})
    if partial == "results":
        return _render(request, console, "console/_scan_results.html", {**context, **_results_context(console, scan)})
    if partial == "compliance":
        framework = request.GET.get("framework", "")
        if framework not in COMPLIANCE_FRAMEWORKS:
            raise Http404("framework")
        report = scan_compliance(tenant_id=console.tenant_id, scan=scan, framework=framework)
        return _render(request, console, "console/_scan_compliance.html", {**context, "report": report})
    duration = None
    if scan.started_at and scan.completed_at:
        duration = round((scan.completed_at - scan.started_at).total_seconds())
    return _render(request, console, "console/scan_detail.html", {
        **context, **_results_context(console, scan), **_findings_context(request, console, scan),
        "phases": _phase_rows(scan), "duration": duration,
        "options_text": ", ".join(f"{name}={json.dumps(value)}" for name, value in sorted(scan.options.items())), "frameworks": COMPLIANCE_FRAMEWORKS,
        "page_config": {"scanId": str(scan.pk), "status": scan.status, "progress": scan.progress},
    })


@console_page
def scan_new(request: HttpRequest, console: Console) -> HttpResponse:
    """The form is drawn by the page's script from GET /api/v1/engines, so every engine's options come from
    its own schema; the server only provides the frame."""
    return _render(request, console, "console/scan_new.html", {})


@console_page
def schedules(request: HttpRequest, console: Console) -> HttpResponse:
    context: dict[str, Any] = {
        "plan_allows": console.membership.tenant.plan.schedules_enabled,
        "schedules": schedule_list(tenant_id=console.tenant_id) if Scope.SCHEDULES_MANAGE in console.auth.scopes
        else [],
        "weekdays": ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
    }
    if request.GET.get("partial") == "rows":
        return _render(request, console, "console/_schedule_rows.html", context)
    return _render(request, console, "console/schedules.html", context)
