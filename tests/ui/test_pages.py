"""The admin pages: roles, search, one document, raw payload, reprocess, partners, audit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from gateway.storage import State
from gateway.web.ui.frame import CONTENT_SECURITY_POLICY
from tests.ui.conftest import Client, Users, csrf_token, file_with_children, sign_in
from tests.web.conftest import X12_850

if TYPE_CHECKING:
    from gateway.storage import Store

ADMIN_PAGES = ("/ui/documents", "/ui/partners", "/ui/partners/northwind", "/ui/audit")


async def test_roles_decide_which_pages_open(client: Client, users: Users) -> None:
    await sign_in(client, users.clerk)
    home = await (await client.get("/ui/")).text()
    # An AR clerk's navigation has the AR queue and the DSO dashboard, no admin pages.
    assert 'href="/ui/ar" accesskey="q"' in home and 'href="/ui/dso"' in home
    assert 'aria-label="Main"' in home and "/ui/documents" not in home
    for path in ADMIN_PAGES:
        resp = await client.get(path)
        assert resp.status == 403, path
        assert resp.content_type == "text/html"
        assert "your role (ar) may not open this page" in await resp.text()

    await sign_in(client, users.viewer)
    for path in ADMIN_PAGES[:-1]:
        assert (await client.get(path)).status == 200, path
    assert (await client.get("/ui/audit")).status == 403
    nav = await (await client.get("/ui/")).text()
    assert 'href="/ui/documents" accesskey="d"' in nav and "/ui/audit" not in nav
    assert 'href="/ui/ar"' not in nav

    await sign_in(client, users.admin)
    for path in ADMIN_PAGES:
        assert (await client.get(path)).status == 200, path


async def test_search_filters_and_reports_bad_input(signed_in: Client, store: Store) -> None:
    doc, child = await file_with_children(store)
    other = await store.receive(X12_850 + b"\n", partner_id="bigbox", channel="sftp_hosted")

    async def ids(query: str) -> list[int]:
        resp = await signed_in.get(f"/ui/documents?{query}")
        assert resp.status == 200, await resp.text()
        return [
            int(i)
            for i in re.findall(r'<th scope="row"><a href="/ui/documents/(\d+)"', await resp.text())
        ]

    all_ids = await ids("")
    assert all_ids == sorted(all_ids, reverse=True) and len(all_ids) == 4
    assert other.id not in await ids("partner=northwind")
    assert await ids("type=850") == [child.id]
    assert await ids("business_key=PO-4711") == [child.id]
    assert set(await ids("control_number=905")) == {doc.id, child.id}
    assert await ids("state=queued&direction=out") == [doc.id + 2]
    today = doc.created_at.date().isoformat()
    assert len(await ids(f"since={today}&until={today}")) == 4
    assert await ids("until=2000-01-01") == []

    resp = await signed_in.get("/ui/documents?since=yesterday")
    assert resp.status == 400
    assert "from: expected an ISO 8601 date" in await resp.text()
    resp = await signed_in.get("/ui/documents?state=lost")
    assert resp.status == 400
    assert "unknown state &#39;lost&#39;" in await resp.text()


async def test_one_document_shows_fields_timeline_and_children(
    signed_in: Client, store: Store
) -> None:
    doc, child = await file_with_children(store)
    html = await (await signed_in.get(f"/ui/documents/{doc.id}")).text()
    assert f"<h1>Document #{doc.id}" in html
    assert '<span class="state state-acknowledged" id="document-state">acknowledged</span>' in html
    timeline = html.split('id="timeline"')[1].split("</table>")[0]
    assert timeline.index("received") < timeline.index("acknowledged with a 999")
    children = html.split("Children")[1]
    assert f'href="/ui/documents/{child.id}"' in children
    assert f'href="/ui/documents/{doc.id + 2}"' in children and ">999<" in children
    assert f'href="/ui/documents/{doc.id}/raw"' in html
    child_page = await (await signed_in.get(f"/ui/documents/{child.id}")).text()
    assert f'<a href="/ui/documents/{doc.id}">Parent document #{doc.id}</a>' in child_page
    missing = await signed_in.get(f"/ui/documents/{doc.id + 100}")
    assert missing.status == 404
    assert f"There is no document {doc.id + 100}." in await missing.text()


async def test_raw_payload_is_a_text_download(signed_in: Client, store: Store) -> None:
    doc = await store.receive(
        X12_850, partner_id="northwind", channel="sftp_hosted", filename='../a "b"\r\n.x12'
    )
    resp = await signed_in.get(f"/ui/documents/{doc.id}/raw")
    assert resp.status == 200
    assert await resp.read() == X12_850
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="ab.x12"'
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_reprocess_is_for_operators_and_is_audited(
    client: Client, users: Users, store: Store
) -> None:
    doc, _ = await file_with_children(store)
    page_path = f"/ui/documents/{doc.id}"
    await sign_in(client, users.viewer)
    html = await (await client.get(page_path)).text()
    assert "Reprocess" not in html
    resp = await client.post(
        f"{page_path}/reprocess", data={"csrf_token": csrf_token(html)}, allow_redirects=False
    )
    assert resp.status == 403

    await sign_in(client, users.operator)
    html = await (await client.get(page_path)).text()
    assert '<button type="submit" accesskey="r">Reprocess</button>' in html
    assert 'name="force"' not in html  # forcing is for admins
    resp = await client.post(f"{page_path}/reprocess", data={"csrf_token": csrf_token(html)})
    assert resp.status == 200 and str(resp.url).endswith(page_path)
    after = await resp.text()
    assert f"Document {doc.id} is back in the pipeline as received." in after
    assert "<td>reprocess</td>" in after and "reprocess requested by oscar" in after
    assert (await store.get(doc.id)).state == State.RECEIVED  # type: ignore[union-attr]
    audit = (await store.audit_log())[0]
    assert (audit["actor"], audit["action"], audit["target"]) == (
        "oscar",
        "reprocess",
        f"document:{doc.id}",
    )
    # A forced reprocess from an operator is refused even if the field is sent.
    resp = await client.post(
        f"{page_path}/reprocess", data={"csrf_token": csrf_token(after), "force": "on"}
    )
    assert resp.status == 403


async def test_partners_list_and_profile(signed_in: Client, store: Store) -> None:
    doc, _ = await file_with_children(store)
    html = await (await signed_in.get("/ui/partners")).text()
    row = html.split('href="/ui/partners/northwind"')[1].split("</tr>")[0]
    assert "Northwind Distribution LLC" in row
    assert "ZZ:NORTHWINDDIST" in row
    assert row.count("sftp_hosted") == 2
    assert f'href="/ui/documents/{doc.id + 2}"' in row  # the newest document
    bigbox = html.split('href="/ui/partners/bigbox"')[1].split("</tr>")[0]
    assert "never" in bigbox

    page = await (await signed_in.get("/ui/partners/northwind")).text()
    assert "<h1>Northwind Distribution LLC <small>(northwind)</small></h1>" in page
    assert '<th scope="row">username</th><td>northwind</td>' in page
    assert "1 key(s)" in page and "ssh-ed25519" not in page
    assert '<th scope="row">850</th><td>005010</td><td>999</td>' in page
    assert f'href="/ui/documents/{doc.id}"' in page
    missing = await signed_in.get("/ui/partners/nobody")
    assert missing.status == 404


async def test_user_data_is_escaped_everywhere(client: Client, users: Users, store: Store) -> None:
    evil = '<script>alert("x")</script>'
    doc = await store.receive(
        b"<x/>",
        partner_id='<img src=x onerror="alert(1)">',
        channel="http",
        filename=f"{evil}.xml",
        doc_type="xml",
        format="xml",
        business_key=evil,
    )
    await sign_in(client, evil, "wrong")  # lands in the audit log as the actor
    await sign_in(client, users.admin)
    pages = [
        f"/ui/documents/{doc.id}",
        "/ui/documents",
        f"/ui/documents?business_key={evil}",
        "/ui/audit",
    ]
    for path in pages:
        html = await (await client.get(path)).text()
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path
    html = await (await client.get(f"/ui/documents/{doc.id}")).text()
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert 'href="/ui/partners/%3Cimg%20src%3Dx%20onerror%3D%22alert%281%29%22%3E"' in html


async def test_security_headers_on_pages_errors_and_static(signed_in: Client) -> None:
    for path, status in [
        ("/ui/documents", 200),
        ("/ui/nothing-here", 404),
        ("/ui/static/ui.css", 200),
        ("/ui/login", 200),
    ]:
        resp = await signed_in.get(path)
        assert resp.status == status, path
        assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["Referrer-Policy"] == "same-origin"
    missing = await signed_in.get("/ui/nothing-here")
    assert missing.content_type == "text/html"
    assert "<h1>404 Not Found</h1>" in await missing.text()
    css = await signed_in.get("/ui/static/ui.css")
    assert css.content_type == "text/css"
    assert ":focus-visible" in await css.text()
    assert (await signed_in.get("/ui/static/nope.css")).status == 404


async def test_pages_have_no_inline_script_or_style(signed_in: Client, store: Store) -> None:
    doc, _ = await file_with_children(store)
    for path in ("/ui/", "/ui/documents", f"/ui/documents/{doc.id}", "/ui/partners", "/ui/audit"):
        html = await (await signed_in.get(path)).text()
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert " style=" not in html and "<style" not in html, path
        assert re.findall(r"<[^>]+\son[a-z]+\s*=", html) == [], path
