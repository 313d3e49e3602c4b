"""Information exchange (issue 5 item 5): documents shared with a vendor under version control. A new
version keeps the old ones (who, when, what changed); the vendor's portal user sees a document only
once it is marked shared; every file is checked by its content."""

from __future__ import annotations

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import cooperation
from vendors.models import SharedDocument, SharedDocumentVersion
from vendors.tests.conftest import exe, pdf, txt


def script(vendor, manager, shared=False):
    return cooperation.shared_document_create(
        actor=manager,
        vendor=vendor,
        title="Hotline call script",
        upload=pdf("script-v1.pdf"),
        change_note="First version for the July launch.",
        shared_with_vendor=shared,
    )


def test_a_new_version_keeps_the_old_ones_with_who_when_and_why(vendor, vendor_manager, second_manager):
    document = script(vendor, vendor_manager)
    cooperation.shared_document_add_version(
        actor=second_manager,
        document=document,
        upload=txt("script-v2.txt"),
        change_note="Typhoon signal No. 8 wording.",
    )
    versions = list(document.versions.order_by("number"))
    assert [(v.number, v.uploaded_by, v.change_note, v.content_type) for v in versions] == [
        (1, vendor_manager, "First version for the July launch.", "application/pdf"),
        (2, second_manager, "Typhoon signal No. 8 wording.", "text/plain"),
    ]
    assert versions[0].file.name != versions[1].file.name and versions[0].file.storage.exists(
        versions[0].file.name
    )


def test_a_file_of_the_wrong_type_or_a_missing_note_writes_nothing(
    client, vendor, vendor_manager, media_files
):
    document = script(vendor, vendor_manager)
    before_files = media_files()
    headers = bearer(vendor_manager)
    url = f"/api/v1/vendors/shared-documents/{document.pk}/versions"
    with nothing_written(SharedDocument, SharedDocumentVersion):
        response = client.post(url, {"file": exe(), "change_note": "v2"}, **headers)
        assert "file" in error_fields(assert_problem(response, 422, kind="rule"))
        response = client.post(url, {"file": pdf(), "change_note": ""}, **headers)
        assert "change_note" in error_fields(assert_problem(response, 422, kind="rule"))
        response = client.post(
            "/api/v1/vendors/shared-documents",
            {"vendor_id": vendor.pk, "title": "Returns policy", "file": exe()},
            **headers,
        )
        assert_problem(response, 422, kind="rule")
    assert media_files() == before_files


def test_the_api_creates_lists_and_downloads(client, vendor, vendor_manager):
    headers = bearer(vendor_manager)
    response = client.post(
        "/api/v1/vendors/shared-documents",
        {
            "vendor_id": vendor.pk,
            "title": "Escalation matrix",
            "file": pdf("matrix.pdf"),
            "change_note": "Agreed at the QBR.",
        },
        **headers,
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert [v["number"] for v in data["versions"]] == [1] and data["shared_with_vendor"] is False
    download = client.get(
        f"/api/v1/vendors/shared-document-versions/{data['versions'][0]['id']}/download", **headers
    )
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF-")


def test_the_portal_sees_a_document_only_once_it_is_shared(client, vendor, vendor_manager, portal_user):
    document = script(vendor, vendor_manager)
    version = document.versions.get()
    listed = api_call(client, "get", "/api/v1/vendors/shared-documents", portal_user).json()
    assert listed["items"] == []
    assert (
        api_call(
            client, "get", f"/api/v1/vendors/shared-document-versions/{version.pk}/download", portal_user
        ).status_code
        == 404
    )
    client.force_login(portal_user)
    assert "Hotline call script" not in client.get("/vendors/portal/").content.decode()

    api_call(
        client,
        "post",
        f"/api/v1/vendors/shared-documents/{document.pk}/sharing",
        vendor_manager,
        {"shared_with_vendor": True},
    )
    listed = api_call(client, "get", "/api/v1/vendors/shared-documents", portal_user).json()
    assert [d["title"] for d in listed["items"]] == ["Hotline call script"]
    assert "Hotline call script" in client.get("/vendors/portal/").content.decode()
    assert client.get(f"/vendors/shared/versions/{version.pk}/file/").status_code == 200
    # The portal reads; it does not upload versions or change the sharing.
    response = client.post(f"/vendors/shared/{document.pk}/", {"file": pdf(), "change_note": "mine"})
    assert response.status_code == 403
    assert document.versions.count() == 1


def test_the_pages_upload_a_new_version(client, vendor, vendor_manager):
    document = script(vendor, vendor_manager)
    client.force_login(vendor_manager)
    response = client.post(f"/vendors/shared/{document.pk}/", {"file": exe(), "change_note": "bad"})
    assert response.status_code == 200 and "is not a PDF document" in response.content.decode()
    response = client.post(
        f"/vendors/shared/{document.pk}/",
        {"file": pdf("v2.pdf"), "change_note": "Rainstorm wording."},
        follow=True,
    )
    html = response.content.decode()
    assert "v2" in html and "Rainstorm wording." in html and "First version for the July launch." in html


def test_an_outsider_reaches_no_shared_document(client, vendor, vendor_manager, outsider, no_role_user):
    document = script(vendor, vendor_manager, shared=True)
    version = document.versions.get()
    for who in (outsider, no_role_user):
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/shared-documents", secrets=("Hotline",))
        assert_outsider_blocked(client, who, "get", f"/api/v1/vendors/shared-documents/{document.pk}")
        assert_outsider_blocked(
            client, who, "get", f"/api/v1/vendors/shared-document-versions/{version.pk}/download"
        )
    client.force_login(outsider)
    assert client.get(f"/vendors/shared/{document.pk}/").status_code == 404
    assert client.get(f"/vendors/shared/versions/{version.pk}/file/").status_code == 404
