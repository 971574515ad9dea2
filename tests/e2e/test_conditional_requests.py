"""If-None-Match on GET one integration and GET status: 304 without a body while nothing changed."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import DEMO, Api


def test_get_one_answers_304_for_its_current_version_and_200_after_a_change(tenant_a: Api) -> None:
    # Given an integration read once, with its strong ETag "<version>"
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO}).json()
    path = f"/integrations/whatsapp/{created['id']}"
    first = tenant_a.get(path)
    assert first.headers["etag"] == '"1"'
    # When it is read again with that ETag in If-None-Match
    again = tenant_a.get(path, headers={"If-None-Match": first.headers["etag"]})
    # Then the answer is 304 with the same ETag and no body
    assert again.status_code == 304 and again.headers["etag"] == '"1"' and again.content == b""
    # When it is renamed (a new version), the old ETag no longer matches: 200 with the new version
    renamed = tenant_a.put(path, json={"name": "Renamed"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200, renamed.text
    changed = tenant_a.get(path, headers={"If-None-Match": '"1"'})
    assert changed.status_code == 200 and changed.json()["name"] == "Renamed" and changed.headers["etag"] == '"2"'


def test_status_has_a_weak_body_etag_that_changes_without_a_version_bump(tenant_a: Api) -> None:
    # Given the status of an integration and its weak ETag
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO}).json()
    path = f"/integrations/whatsapp/{created['id']}/status"
    first = tenant_a.get(path)
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    # When nothing changed, Then If-None-Match (weak or strong form) answers 304 without a body
    for sent in (tag, tag.removeprefix("W/"), f'"other", {tag}'):
        unchanged = tenant_a.get(path, headers={"If-None-Match": sent})
        assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag
    # When the status changes (connect), Then the old ETag no longer matches
    assert tenant_a.post(f"/integrations/whatsapp/{created['id']}/connect").status_code == 202
    after = tenant_a.get(path, headers={"If-None-Match": tag})
    assert after.status_code == 200 and after.json()["status"] in {"connecting", "connected"}
    # And without the history (now not empty) it is another representation, with its own ETag
    shorter = tenant_a.get(f"{path}?history=0", headers={"If-None-Match": after.headers["etag"]})
    assert shorter.status_code == 200 and shorter.json()["history"] == []


def test_a_repeated_if_match_is_one_list_of_tags_and_refused(tenant_a: Api) -> None:
    # Given an integration at version 1
    created = tenant_a.post("/integrations/whatsapp", json={"name": "Main", **DEMO}).json()
    path = f"/integrations/whatsapp/{created['id']}"
    # When a client sends If-Match twice (API Gateway hands the function one header, the values comma-joined)
    headers = [("Authorization", tenant_a.http.headers["Authorization"]), ("If-Match", '"1"'), ("If-Match", '"1"')]
    twice = tenant_a.put(path, json={"name": "Renamed"}, headers=httpx.Headers(headers))
    # Then it is the one entity tag this API takes that is missing: 400, nothing changed
    assert (twice.status_code, twice.json()["code"]) == (400, "invalid_if_match")
    assert tenant_a.get(path).json()["name"] == "Main"
