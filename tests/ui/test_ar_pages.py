"""The AR review queue pages over the real app, store and pipeline (aiohttp TestClient).

Queue lines come from real remittances applied by the worker (``tests/ui/ar_seed.py``);
every action goes through the real :class:`~gateway.cash.review.CashReview`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.cash.review import CashReview, QueueFilter
from gateway.errors import UsageError
from gateway.web.ui.ar_forms import parse_amount, reason_code
from tests.ui.ar_seed import PARTNER, add_invoice, remit
from tests.ui.conftest import Client, Users, csrf_token, sign_in

if TYPE_CHECKING:
    from gateway.ports import GatewayContext
    from gateway.storage import Store

_LINK = re.compile(r'href="/ui/ar/lines/(\d+)"')


async def _queue_ids(client: Client, query: str = "") -> list[int]:
    resp = await client.get(f"/ui/ar{query}")
    assert resp.status == 200, await resp.text()
    table = (await resp.text()).split('id="queue"')[1].split("</table>")[0]
    return [int(i) for i in _LINK.findall(table)]


async def _open_lines(ctx: GatewayContext) -> dict[str, int]:
    """The queue's line ids by reference."""
    lines = await CashReview(ctx.store, ctx.partners).queue(QueueFilter())
    return {line.reference: line.id for line in lines}


async def _unmatched(ctx: GatewayContext) -> tuple[int, int]:
    """An invoice of 740.50 and a line paying it under a reference the engine cannot place."""
    item = await add_invoice(ctx, "BB-1001", "740.50")
    await add_invoice(ctx, "BB-2002", "99.00")
    await remit(ctx, [("REMIT 77821", "740.50")], trace="ACH-UNMATCHED")
    return item, (await _open_lines(ctx))["REMIT 77821"]


async def _item(store: Store, number: str) -> tuple[str, Decimal]:
    item = await store.open_item(PARTNER, number)
    assert item is not None
    return item.status, item.open_amount


async def test_queue_lists_open_lines_oldest_first_and_filters(
    client: Client, users: Users, ctx: GatewayContext
) -> None:
    await add_invoice(ctx, "BB-3003", "520.00")
    await add_invoice(ctx, "BB-3004", "300.00")
    await remit(ctx, [("BB-3003", "500.00"), ("BB-3004", "300.00")], trace="ACH-NEW", days_ago=2)
    await remit(ctx, [("UNKNOWN-9", "1250.00")], trace="ACH-OLD", days_ago=45)
    lines = await _open_lines(ctx)
    assert set(lines) == {"BB-3003", "UNKNOWN-9"}  # BB-3004 was matched in full: auto
    await sign_in(client, users.clerk)

    html = await (await client.get("/ui/ar")).text()
    assert "2 line(s) to review, oldest first" in html
    assert await _queue_ids(client) == [lines["UNKNOWN-9"], lines["BB-3003"]]
    row = html.split(f'id="line-{lines["BB-3003"]}"')[1].split("</tr>")[0]
    for cell in ("bigbox", "ACH-NEW", "500.00", "0.00", "20.00", "partial"):
        assert f">{cell}<" in row or cell in row, cell
    assert '<td class="num">2</td>' in row  # age in days
    old = html.split(f'id="line-{lines["UNKNOWN-9"]}"')[1].split("</tr>")[0]
    assert "1,250.00" in old and "unmatched" in old and ">45<" in old

    assert await _queue_ids(client, "?min_age=10") == [lines["UNKNOWN-9"]]
    assert await _queue_ids(client, "?max_age=10") == [lines["BB-3003"]]
    assert await _queue_ids(client, "?min_amount=1%2C000") == [lines["UNKNOWN-9"]]
    assert await _queue_ids(client, "?max_amount=600&partner=bigbox") == [lines["BB-3003"]]
    assert await _queue_ids(client, "?partner=northwind") == []
    filtered = await (await client.get("/ui/ar?partner=northwind")).text()
    assert "No line to review matches the filter." in filtered
    assert '<option value="northwind" selected>' in filtered

    for query, message in [
        ("min_age=soon", "age from: expected a whole number of days, got &#39;soon&#39;"),
        ("max_amount=12.345", "paid to: at most two decimals (cents)"),
        ("min_age=9&max_age=3", "age: from 9 days is more than to 3 days"),
        ("partner=nobody", "partner: there is no partner &#39;nobody&#39;"),
    ]:
        resp = await client.get(f"/ui/ar?{query}")
        assert resp.status == 400, query
        assert message in await resp.text(), query


async def test_only_admin_and_ar_open_the_queue(
    client: Client, users: Users, ctx: GatewayContext
) -> None:
    _, line_id = await _unmatched(ctx)
    pages = ("/ui/ar", f"/ui/ar/lines/{line_id}")
    for user in (users.viewer, users.operator):
        await sign_in(client, user)
        home = await (await client.get("/ui/")).text()
        assert 'href="/ui/ar"' not in home
        for path in pages:
            resp = await client.get(path)
            assert resp.status == 403, (user, path)
            assert "may not open this page; it needs one of admin, ar" in await resp.text()
        token = csrf_token(home)
        resp = await client.post(
            f"/ui/ar/lines/{line_id}/resolve", data={"csrf_token": token}, allow_redirects=False
        )
        assert resp.status == 403
    for user in (users.clerk, users.admin):
        await sign_in(client, user)
        home = await (await client.get("/ui/")).text()
        assert 'href="/ui/ar" accesskey="q"' in home
        for path in pages:
            assert (await client.get(path)).status == 200, (user, path)
    # The admin also reads documents: the line links to its 820.
    line = await CashReview(ctx.store, ctx.partners).line(line_id)
    html = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert f'<a href="/ui/documents/{line.document_id}">document #{line.document_id}</a>' in html
    assert (await _open_lines(ctx))["REMIT 77821"] == line_id  # nothing was resolved


async def test_line_page_shows_fields_candidates_and_forms(
    client: Client, users: Users, ctx: GatewayContext
) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    html = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert f"<h1>Remittance line #{line_id} <small>bigbox · REMIT 77821</small>" in html
    assert 'id="line-review">open</span>' in html
    assert '<dd id="line-unplaced">740.50</dd>' in html
    assert "ACH-UNMATCHED" in html and "IV REMIT 77821" in html
    assert "5.00 (the partner's amount tolerance)" in html
    candidates = html.split('id="candidates"')[1].split("</table>")[0]
    assert candidates.index("BB-1001") < candidates.index("BB-2002")  # the amount fits
    # The unplaced cash is offered on the best candidate, the other is left blank.
    assert re.search(rf'name="amount-{item}"[^>]*value="740.50"', candidates)
    assert re.search(r'name="amount-\d+"[^>]*value=""', candidates)
    for action in ("apply", "on_account", "note", "resolve"):
        assert f'action="/ui/ar/lines/{line_id}/{action}"' in html, action
    # No shortfall on an unmatched line: nothing to deduct or write off.
    assert "No shortfall to settle." in html
    assert "/deduct" not in html and "/write_off" not in html
    # An AR clerk has no document pages: no link to the 820 there.
    assert "/ui/documents/" not in html
    # Every input has a label.
    ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html))
    labels = set(re.findall(r'<label[^>]* for="([^"]+)"', html))
    assert ids and ids <= labels, ids - labels
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html and "<style" not in html
    for missing_id in (line_id + 100, 10**20):
        missing = await client.get(f"/ui/ar/lines/{missing_id}")
        assert missing.status == 404
        assert f"There is no remittance line {missing_id}." in await missing.text()


async def test_apply_closes_the_invoice_and_the_line_leaves_the_queue(
    client: Client, users: Users, ctx: GatewayContext, store: Store
) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    page = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    resp = await client.post(
        f"/ui/ar/lines/{line_id}/apply",
        data={"csrf_token": csrf_token(page), f"amount-{item}": "740.50"},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == "/ui/ar"
    queue = await (await client.get("/ui/ar")).text()
    assert (
        f"Applied 740.50 to invoice BB-1001. Line #{line_id} (REMIT 77821) has left the queue."
        in queue
    )
    assert await _queue_ids(client) == []
    assert await _item(store, "BB-1001") == ("closed", Decimal("0.00"))
    applications = await CashReview(ctx.store, ctx.partners).applications(line_id)
    assert [(a.kind, a.amount, a.actor, a.erp_state) for a in applications] == [
        ("payment", Decimal("740.50"), "carl", "pending")
    ]
    audit = [e for e in await store.audit_log() if e["action"] == "cash.apply"]
    assert audit and audit[0]["actor"] == "carl"
    assert audit[0]["target"] == f"remittance_line:{line_id}"
    # The line page still opens, read-only, and says how to bring it back.
    html = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert "This line is not in the queue (resolved)" in html
    assert f'action="/ui/ar/lines/{line_id}/apply"' not in html
    assert "cash.apply" in html.split('id="history"')[1]


async def test_reverse_gives_the_money_back_and_the_line_returns(
    client: Client, users: Users, ctx: GatewayContext, store: Store
) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    page = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    token = csrf_token(page)
    await client.post(
        f"/ui/ar/lines/{line_id}/apply", data={"csrf_token": token, f"amount-{item}": "740.50"}
    )
    (application,) = await CashReview(ctx.store, ctx.partners).applications(line_id)
    page = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert f'action="/ui/ar/applications/{application.id}/reverse"' in page
    resp = await client.post(
        f"/ui/ar/applications/{application.id}/reverse",
        data={"csrf_token": token, "line_id": str(line_id)},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == f"/ui/ar/lines/{line_id}"
    html = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert f"Application #{application.id} is reversed." in html
    assert 'id="line-review">open</span>' in html
    assert '<dd id="line-unplaced">740.50</dd>' in html
    assert "reversed by carl" in html
    assert f'action="/ui/ar/applications/{application.id}/reverse"' not in html
    history = html.split('id="history"')[1].split("</table>")[0]
    assert history.index("cash.apply") < history.index("cash.reverse")
    assert "after: review=open, unplaced=740.50" in history
    assert await _queue_ids(client) == [line_id]
    assert await _item(store, "BB-1001") == ("open", Decimal("740.50"))
    # Twice is refused, with the reason.
    resp = await client.post(
        f"/ui/ar/applications/{application.id}/reverse",
        data={"csrf_token": token, "line_id": str(line_id)},
    )
    assert f"Not reversed: application #{application.id} was already reversed" in (
        await resp.text()
    )
    assert await _item(store, "BB-1001") == ("open", Decimal("740.50"))


async def test_a_post_without_the_csrf_token_is_refused(
    client: Client, users: Users, ctx: GatewayContext, store: Store
) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    for data in ({f"amount-{item}": "740.50"}, {"csrf_token": "forged", f"amount-{item}": "1"}):
        resp = await client.post(f"/ui/ar/lines/{line_id}/apply", data=data, allow_redirects=False)
        assert resp.status == 403
        assert "security token is missing or out of date" in await resp.text()
    resp = await client.post("/ui/ar/applications/1/reverse", data={}, allow_redirects=False)
    assert resp.status == 403
    assert await _item(store, "BB-1001") == ("open", Decimal("740.50"))
    assert await CashReview(ctx.store, ctx.partners).applications(line_id) == []


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("seven", "expected an amount like 120.50, got &#39;seven&#39;"),
        ("12.345", "at most two decimals (cents), got &#39;12.345&#39;"),
        ("-5", "expected an amount like 120.50, got &#39;-5&#39;"),
        ("0", "expected an amount above 0.00"),
    ],
)
async def test_an_invalid_amount_is_a_notice(
    client: Client, users: Users, ctx: GatewayContext, store: Store, typed: str, message: str
) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    page = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    resp = await client.post(
        f"/ui/ar/lines/{line_id}/apply",
        data={"csrf_token": csrf_token(page), f"amount-{item}": typed},
        allow_redirects=False,
    )
    assert resp.status == 303 and resp.headers["Location"] == f"/ui/ar/lines/{line_id}"
    html = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert f"Not applied: amount for invoice BB-1001: {message}" in html
    assert await _item(store, "BB-1001") == ("open", Decimal("740.50"))


async def test_refused_actions_say_why(client: Client, users: Users, ctx: GatewayContext) -> None:
    item, line_id = await _unmatched(ctx)
    await sign_in(client, users.clerk)
    token = csrf_token(await (await client.get(f"/ui/ar/lines/{line_id}")).text())

    async def post(action: str, **data: str) -> str:
        resp = await client.post(
            f"/ui/ar/lines/{line_id}/{action}", data={"csrf_token": token, **data}
        )
        assert resp.status == 200 and str(resp.url).endswith(f"/ui/ar/lines/{line_id}")
        return await resp.text()

    assert "Not applied: enter the amount to apply to at least one invoice" in await post(
        "apply", **{f"amount-{item}": " "}
    )
    # More than the line's unplaced cash: the service refuses.
    assert "Not applied:" in await post("apply", **{f"amount-{item}": "800.00"})
    assert "Not applied: bigbox has no open invoice &#39;BB-9999&#39;" in await post(
        "apply", other_invoice="BB-9999", other_amount="10"
    )
    assert "Not written off:" in await post("write_off", amount="740.50")  # over 5.00
    assert "Note not saved: note: write something first" in await post("note", note="  ")
    assert "No deduction recorded: reason: choose a reason code" in await post(
        "deduct", amount="5", reason="other"
    )
    resp = await client.post(f"/ui/ar/lines/{line_id}/explode", data={"csrf_token": token})
    assert resp.status == 404
    assert (await _open_lines(ctx))["REMIT 77821"] == line_id


async def test_deduction_settles_a_short_payment(
    client: Client, users: Users, ctx: GatewayContext, store: Store
) -> None:
    await add_invoice(ctx, "BB-3003", "520.00")
    await remit(ctx, [("BB-3003", "500.00")], trace="ACH-SHORT")
    line_id = (await _open_lines(ctx))["BB-3003"]
    await sign_in(client, users.clerk)
    page = await (await client.get(f"/ui/ar/lines/{line_id}")).text()
    assert '<dd id="line-shortfall">20.00</dd>' in page
    assert "20.00 is still open on invoice BB-3003. All of the cash is placed." in page
    assert '<option value="54">54 Freight deducted</option>' in page
    assert 'for="deduct-other">Other code</label>' in page
    assert "/on_account" not in page  # all of the cash is placed
    assert 'id="deduct-amount" name="amount" inputmode="decimal" size="10" value="20.00"' in page
    # 20.00 is over bigbox's write-off tolerance (5.00), so no amount is offered there.
    assert 'id="writeoff-amount" name="amount" inputmode="decimal" size="10" value=""' in page
    resp = await client.post(
        f"/ui/ar/lines/{line_id}/deduct",
        data={"csrf_token": csrf_token(page), "amount": "20.00", "reason": "04"},
    )
    assert str(resp.url).endswith("/ui/ar")
    text = await resp.text()
    assert "Recorded a deduction of 20.00 (reason 04)." in text and "has left the queue" in text
    assert await _item(store, "BB-3003") == ("closed", Decimal("0.00"))
    kinds = [
        (a.kind, a.amount, a.reason_code)
        for a in await CashReview(ctx.store, ctx.partners).applications(line_id)
    ]
    assert ("deduction", Decimal("20.00"), "04") in kinds


async def test_note_on_account_and_resolve(
    client: Client, users: Users, ctx: GatewayContext, store: Store
) -> None:
    await remit(ctx, [("NOPE-1", "60.00"), ("NOPE-2", "70.00")], trace="ACH-MISC")
    lines = await _open_lines(ctx)
    first, second = lines["NOPE-1"], lines["NOPE-2"]
    await sign_in(client, users.clerk)
    token = csrf_token(await (await client.get(f"/ui/ar/lines/{first}")).text())
    evil = '<script>alert("x")</script> called Bob'
    resp = await client.post(f"/ui/ar/lines/{first}/note", data={"csrf_token": token, "note": evil})
    html = await resp.text()
    assert "Note saved." in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; called Bob" in html
    assert "<script>alert" not in html

    resp = await client.post(
        f"/ui/ar/lines/{first}/on_account", data={"csrf_token": token, "amount": "60.00"}
    )
    assert str(resp.url).endswith("/ui/ar")
    assert "Put 60.00 on account for bigbox." in await resp.text()
    resp = await client.post(f"/ui/ar/lines/{second}/resolve", data={"csrf_token": token})
    assert f"Line #{second} is marked resolved." in await resp.text()
    assert await _queue_ids(client) == []
    # resolving is undone from the line page: Reopen puts it back in the queue
    page = await (await client.get(f"/ui/ar/lines/{second}")).text()
    assert f'action="/ui/ar/lines/{second}/reopen"' in page
    resp = await client.post(f"/ui/ar/lines/{second}/reopen", data={"csrf_token": token})
    assert f"Line #{second} is back in the queue." in await resp.text()
    assert await _queue_ids(client) == [second]
    resp = await client.post(f"/ui/ar/lines/{second}/reopen", data={"csrf_token": token})
    assert f"Not reopened: line #{second} is already in the review queue" in await resp.text()
    actions = {e["action"] for e in await store.audit_log()}
    assert {"cash.note", "cash.on_account", "cash.resolve", "cash.reopen"} <= actions


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("120.50", "120.50"), (" 1,250 ", "1250.00"), ("$75", "75.00"), (".5", "0.50")],
)
def test_amounts_people_type(typed: str, expected: str) -> None:
    assert parse_amount(typed, "x") == Decimal(expected)


@pytest.mark.parametrize("typed", ["", "1,25", "1.2.3", "1e3", "NaN", "12,345.678", "10" * 10])
def test_amounts_refused(typed: str) -> None:
    with pytest.raises(UsageError, match=r"^x: "):
        parse_amount(typed, "x")


def test_reason_codes() -> None:
    assert reason_code({"reason": "54"}) == "54"
    assert reason_code({"reason": "other", "other_code": " zz9 "}) == "ZZ9"
    for form in ({"reason": "99"}, {"reason": "other", "other_code": "a b"}, {}):
        with pytest.raises(UsageError):
            reason_code(form)
