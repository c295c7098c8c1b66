"""No API key or webhook secret is stored in clear: after issuing a key, rotating a webhook secret and using
both, a dump of every table of the database contains none of them."""

from django.db import connection

from tests.conftest import make_tenant


def dump_database() -> str:
    """Every row of every table, as PostgreSQL prints it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [name for (name,) in cursor.fetchall()]
        chunks = []
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608  (names come from pg_tables)
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_no_key_or_webhook_secret_is_stored_in_clear(db, client_for, settings):
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
    tenant = make_tenant("acme", plan="enterprise")
    client = client_for(tenant)
    assert client.get("/api/v1/scans").status_code == 200  # the key is used (last_used_at written)
    created = client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["scan.completed"]},
                          format="json").json()
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", {}, format="json").json()
    secrets = [tenant.key, tenant.secret, created["secret"], rotated["secret"]]
    assert all(len(secret) >= 20 for secret in secrets)
    dump = dump_database()
    assert tenant.key_id in dump  # the dump is real: the public key id is there
    assert [secret for secret in secrets if secret in dump] == []


def test_no_key_or_secret_reaches_the_logs(db, client_for, settings, caplog):
    """Every logger at DEBUG while keys are used (right and wrong), a webhook is made and its secret
    rotated, and a wrong api-key/api-secret pair is tried: none of the secrets appears in any log line."""
    import logging

    caplog.set_level(logging.DEBUG)
    settings.LANTERN_WEBHOOK_ALLOW_LOOPBACK = True
    tenant = make_tenant("acme", plan="enterprise")
    client = client_for(tenant)
    client.get("/api/v1/scans")
    client_for(tenant.key[:-3] + "abc").get("/api/v1/scans")  # a wrong secret for a real key id
    client.get("/api/v1/scans", HTTP_API_KEY=tenant.key_id, HTTP_API_SECRET=tenant.secret + "x")
    created = client.post("/api/v1/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["scan.completed"]},
                          format="json").json()
    rotated = client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret", {}, format="json").json()
    logged = caplog.text
    assert logged  # the request loggers did write: the check is not vacuous
    for secret in (tenant.key, tenant.secret, created["secret"], rotated["secret"]):
        assert secret not in logged
