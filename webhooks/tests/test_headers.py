"""webhook_headers_validate: what seed 001 clients may put in `webhook.headers`."""

from __future__ import annotations

import pytest

from config.errors import ValidationFailed
from webhooks.services import webhook_headers_validate


def test_good_headers_come_back_trimmed():
    headers = [{"key": " Authorization ", "value": " Bearer abc "}, {"key": "X-Team", "value": "blue\tgreen"},
               {"key": "X-Empty"}]
    assert webhook_headers_validate(headers) == [
        {"key": "Authorization", "value": "Bearer abc"}, {"key": "X-Team", "value": "blue\tgreen"},
        {"key": "X-Empty", "value": ""}]
    assert webhook_headers_validate(None) == [] and webhook_headers_validate([]) == []


@pytest.mark.parametrize("headers, field, fragment", [
    ({"Authorization": "x"}, "webhook.headers", "must be a list"),
    ([["Authorization", "x"]], "webhook.headers[0]", "must be an object"),
    ([{"key": "A", "value": 1}], "webhook.headers[0]", "string value"),
    ([{"key": "A", "value": "x", "extra": 1}], "webhook.headers[0]", "must be an object"),
    ([{"key": "Bad Name", "value": "x"}], "webhook.headers[0].key", "not a valid header name"),
    ([{"key": "X-A\r\nX-B", "value": "x"}], "webhook.headers[0].key", "not a valid header name"),
    ([{"key": "", "value": "x"}], "webhook.headers[0].key", "not a valid header name"),
    ([{"key": "X-A", "value": "ok\r\nX-Injected: 1"}], "webhook.headers[0].value", "line break"),
    ([{"key": "X-A", "value": "a\nb"}], "webhook.headers[0].value", "line break"),
    ([{"key": "X-A", "value": "a\x00b"}], "webhook.headers[0].value", "control character"),
    ([{"key": "X-A", "value": "a\x07b"}], "webhook.headers[0].value", "control character"),
    ([{"key": "X-A", "value": "café"}], "webhook.headers[0].value", "ASCII"),
    ([{"key": "X-A", "value": "v" * 2049}], "webhook.headers[0].value", "longer than 2048"),
    ([{"key": "Host", "value": "evil"}], "webhook.headers[0].key", "Host header cannot be set"),
    ([{"key": "content-length", "value": "0"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "Transfer-Encoding", "value": "chunked"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "Connection", "value": "close"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "Content-Type", "value": "text/plain"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "X-Lantern-Signature", "value": "t=1,v1=0"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "Proxy-Foo", "value": "x"}], "webhook.headers[0].key", "cannot be set"),
    ([{"key": "X-A", "value": "1"}, {"key": "x-a", "value": "2"}], "webhook.headers[1].key", "given twice"),
    ([{"key": f"X-{i}", "value": "x"} for i in range(21)], "webhook.headers", "at most 20"),
    ([{"key": f"X-{i}", "value": "v" * 2000} for i in range(5)], "webhook.headers", "8192 bytes"),
])
def test_bad_headers_are_refused_naming_the_header(headers, field, fragment):
    with pytest.raises(ValidationFailed) as refused:
        webhook_headers_validate(headers)
    assert refused.value.field == field and fragment in refused.value.message
    assert refused.value.status_code == 400
