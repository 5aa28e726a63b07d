"""Attachments: upload limits, type detection, text extraction, images and vision, downloads."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from threads.models import Attachment
from threads.services.attachments import sanitize_filename

pytestmark = pytest.mark.django_db


def png_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def pdf_bytes(text: str) -> bytes:
    """Build a one-page PDF whose page shows `text`, with a correct cross-reference table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


@pytest.fixture
def upload(owner_client, workspace):
    def send(name, content, content_type="application/octet-stream"):
        return owner_client.post(
            "/api/v1/attachments",
            {"file": SimpleUploadedFile(name, content, content_type=content_type)},
            format="multipart",
            HTTP_X_WORKSPACE=str(workspace.pk),
        )

    return send


def test_upload_text_file_and_get_metadata(upload, owner_client):
    created = upload("notes.md", b"# Notes\n\nBring the slides.", "text/markdown")
    attachment_id = created.json()["data"]["id"]
    fetched = owner_client.get(f"/api/v1/attachments/{attachment_id}")
    downloaded = owner_client.get(fetched.json()["data"]["download_url"])

    assert created.status_code == 201, created.content
    data = fetched.json()["data"]
    assert data["content_type"] == "text/markdown"
    assert data["filename"] == "notes.md"
    assert data["text_chars"] > 0
    assert downloaded.status_code == 200
    assert b"".join(downloaded.streaming_content) == b"# Notes\n\nBring the slides."
    assert "attachment" in downloaded["Content-Disposition"]


def test_upload_above_size_limit_is_413(upload, settings):
    settings.ATHENA_ATTACHMENT_MAX_BYTES = 100

    response = upload("big.txt", b"x" * 101, "text/plain")

    assert response.status_code == 413, response.content
    assert response.json()["code"] == "payload_too_large"
    assert not Attachment.objects.exists()


def test_disallowed_type_is_422(upload, settings):
    settings.ATHENA_ATTACHMENT_ALLOWED_TYPES = ["text/plain"]

    executable = upload("tool.png", b"MZ\x90\x00\x03\x00\x00\x00binary", "image/png")
    pdf = upload("doc.pdf", pdf_bytes("Hello"), "application/pdf")

    assert executable.status_code == 422, executable.content
    assert executable.json()["code"] == "unsupported_file_type"
    assert pdf.status_code == 422
    assert pdf.json()["code"] == "unsupported_file_type"


def test_spoofed_content_type_is_detected_from_content(upload):
    response = upload("innocent.txt", png_bytes(), "text/plain")

    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["content_type"] == "image/png"
    assert data["media"]["width"] == 64
    assert data["media"]["variants"][0]["name"] == "thumbnail"


def test_filenames_are_sanitised():
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("C:\\Users\\me\\report.csv") == "report.csv"
    assert sanitize_filename("bad\x00name<script>.txt") == "badname_script_.txt"
    assert sanitize_filename("..") == "file"


def test_pdf_and_csv_become_text_the_model_sees(upload, owner_client, thread, fake_llm):
    pdf = upload("report.pdf", pdf_bytes("Quarterly revenue grew 12 percent"), "application/pdf").json()["data"]
    csv = upload("sales.csv", b"region,amount\nnorth,10\nsouth,20\n", "text/csv").json()["data"]

    response = owner_client.post(
        f"/api/v1/threads/{thread.pk}/run",
        {"content": "Summarise these.", "attachment_ids": [pdf["id"], csv["id"]]},
    )

    assert response.status_code == 200, response.content
    assert csv["content_type"] == "text/csv"
    sent = fake_llm.last_request.body["messages"][-1]["content"]
    assert "Quarterly revenue grew 12 percent" in sent
    assert "north,10" in sent
    attached = response.json()["data"]["messages"][0]["attachments"]
    assert {item["id"] for item in attached} == {pdf["id"], csv["id"]}


def test_image_goes_to_vision_model_and_is_refused_otherwise(upload, owner_client, thread, fake_llm):
    image = upload("photo.png", png_bytes(), "image/png").json()["data"]
    url = f"/api/v1/threads/{thread.pk}/run"

    refused = owner_client.post(url, {"content": "What is this?", "attachment_ids": [image["id"]]})
    model = thread.agent.model
    model.capabilities = [*model.capabilities, "vision"]
    model.save()
    accepted = owner_client.post(url, {"content": "What is this?", "attachment_ids": [image["id"]]})

    assert refused.status_code == 422, refused.content
    assert refused.json()["code"] == "vision_unsupported"
    assert accepted.status_code == 200, accepted.content
    parts = fake_llm.last_request.body["messages"][-1]["content"]
    assert parts[0] == {"type": "text", "text": "What is this?"}
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_thumbnail_download_and_delete(upload, owner_client):
    image = upload("photo.png", png_bytes((600, 300)), "image/png").json()["data"]
    variant = image["media"]["variants"][0]

    thumbnail = owner_client.get(variant["url"])
    deleted = owner_client.delete(f"/api/v1/attachments/{image['id']}")
    gone = owner_client.get(f"/api/v1/attachments/{image['id']}")

    assert thumbnail.status_code == 200
    with Image.open(io.BytesIO(b"".join(thumbnail.streaming_content))) as picture:
        assert max(picture.size) == 256
    assert deleted.status_code == 204
    assert gone.status_code == 404


def test_foreign_attachment_cannot_be_used_in_a_run(owner_client, thread, outsider, make_client):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory(owner=outsider)
    foreign = make_client(outsider).post(
        "/api/v1/attachments",
        {"file": SimpleUploadedFile("a.txt", b"secret", content_type="text/plain")},
        format="multipart",
        HTTP_X_WORKSPACE=str(other.pk),
    )

    response = owner_client.post(
        f"/api/v1/threads/{thread.pk}/run", {"content": "Hi", "attachment_ids": [foreign.json()["data"]["id"]]}
    )

    assert foreign.status_code == 201, foreign.content
    assert response.status_code == 404
