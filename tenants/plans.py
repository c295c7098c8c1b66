"""Seed 003's plans, the one place their limits are written down: concurrent scans 1 / 3 / unlimited,
scans per month 25 / 150 / unlimited, scheduled scans on Professional and Enterprise."""

DEFAULT_PLANS = (
    # slug, name, max_concurrent_scans, monthly_scan_limit, schedules_enabled
    ("startup", "Startup", 1, 25, False),
    ("professional", "Professional", 3, 150, True),
    ("enterprise", "Enterprise", None, None, True),
)


def plans_ensure(plan_model) -> None:
    """Create the default plans that are missing; never overwrites an operator's edits. Idempotent."""
    for slug, name, concurrent, monthly, schedules in DEFAULT_PLANS:
        plan_model.objects.get_or_create(slug=slug, defaults={
            "name": name, "max_concurrent_scans": concurrent, "monthly_scan_limit": monthly,
            "schedules_enabled": schedules})
