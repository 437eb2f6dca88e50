from __future__ import annotations

import re
from typing import Any

_CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def sign_via_form(client: Any, url: str, **fields: str) -> Any:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    data = {
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "country": "GB",
        "postcode": "SW1A 1AA",
        "name": "Ann Example",
        "email": "ann@example.org",
    }
    data.update(fields)
    return client.post(url, data=data)
