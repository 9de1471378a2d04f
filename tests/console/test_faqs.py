"""The FAQs page in a real browser: create, edit, filter and delete with the new revision
shown each time, and files in `samesay import` / `samesay export` formats both ways."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from store.bulk import read_rows
from store.entries import FaqEntry
from tests.console.test_loop import enter_key

pytestmark = pytest.mark.slow

# Quoted cells with the delimiter, a doubled quote and a newline; a JSON and a | list cell.
CSV = (
    'question,answer,alternates,tags\n'
    '"Do you gift-wrap, too?","Yes: tick ""gift wrap"" at checkout.\nIt costs $3.",'
    '"[""gift wrapping"", ""wrap my present""]",gifts|extras\n'
    'Can I add a gift note?,Yes: up to 200 characters.,gift note|card message,gifts\n'
)


def _revision(page, said: str) -> int:
    """The revision in the status line once it reports `said` (an earlier write's line may
    still be showing until then)."""
    page.locator("#status.ok", has_text=re.compile(f"^{said}")).wait_for()
    return int(re.search(r"revision (\d+)", page.text_content("#status")).group(1))


def test_create_edit_filter_delete_show_each_revision(demo_data, serve, open_page) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.wait_for_selector("#faq-count:has-text('90 FAQs')")

    page.click("#faq-new")
    page.fill("#edit-question", "Do you sell gift cards?")
    page.fill("#edit-answer", "Yes, from $10 to $500.")
    page.fill("#edit-alternates", "gift card\n  voucher  \n\nbuy a gift certificate")
    page.fill("#edit-tags", "payments, console-test")
    page.click("#edit-save")
    created = _revision(page, "Created FAQ")
    faq_id = int(re.search(r"FAQ #(\d+)", page.text_content("#status")).group(1))
    stored = server.api("GET", f"/faq/{faq_id}").json()
    assert stored["alternates"] == ["gift card", "voucher", "buy a gift certificate"]
    assert stored["tags"] == ["payments", "console-test"]
    assert server.api("POST", "/ask", json={"question": "voucher"}).json()["faq_id"] == faq_id

    page.fill("#faq-tags", "console-test")
    page.press("#faq-tags", "Enter")
    page.wait_for_selector("#faq-count:has-text('1 FAQs')")
    page.locator(f"#faq-list .faq[data-id='{faq_id}'] button").click()
    page.fill("#edit-answer", "Yes, from $10 to $1,000.")
    page.click("#edit-save")
    assert _revision(page, "Saved FAQ") == created + 1
    assert server.api("GET", f"/faq/{faq_id}").json()["answer"] == "Yes, from $10 to $1,000."

    page.locator(f"#faq-list .faq[data-id='{faq_id}'] button").click()
    page.click("#edit-delete")
    assert server.api("GET", f"/faq/{faq_id}").status_code == 200  # one click only arms it
    page.click("#edit-delete")
    assert _revision(page, "Deleted FAQ") == created + 2
    assert server.api("GET", f"/faq/{faq_id}").status_code == 404
    page.wait_for_selector("#faq-count:has-text('0 FAQs')")


def test_import_and_export_use_the_cli_formats(demo_data, serve, open_page, tmp_path) -> None:
    server = serve(demo_data)
    page = open_page()
    page.goto(f"{server.url}/console#faqs")
    enter_key(page)
    page.click("#transfer summary")
    page.set_input_files("#import-file", files=[
        {"name": "gifts.csv", "mimeType": "text/csv", "buffer": CSV.encode()}])
    page.click("#import-button")
    assert _revision(page, "Imported 2 FAQs") > 1
    gifts = server.api("GET", "/faq", params={"tag": "gifts"}).json()["items"]
    assert [(g["question"], g["answer"], g["alternates"], g["tags"]) for g in gifts] == [
        ("Do you gift-wrap, too?", 'Yes: tick "gift wrap" at checkout.\nIt costs $3.',
         ["gift wrapping", "wrap my present"], ["gifts", "extras"]),
        ("Can I add a gift note?", "Yes: up to 200 characters.",
         ["gift note", "card message"], ["gifts"]),
    ]

    # A file the CLI would refuse is refused here too, naming the line; nothing is stored.
    page.set_input_files("#import-file", files=[
        {"name": "bad.jsonl", "mimeType": "application/json",
         "buffer": b'{"question": "q", "answer": "a"}\n{"question": "q2", "alternate": []}\n'}])
    page.click("#import-button")
    page.wait_for_selector("#status.error")
    assert "line 2: unknown field alternate" in page.text_content("#status")

    # Exports read back with the CLI's own reader (store/bulk.py), every entry as stored.
    entries = {e["id"]: e for e in server.api("GET", "/faq", params={"limit": 100}).json()["items"]}
    for file_format in ("csv", "jsonl"):
        page.select_option("#export-format", file_format)
        with page.expect_download() as download:
            page.click("#export-button")
        path = tmp_path / f"faqs.{file_format}"
        download.value.save_as(path)
        rows = [row for _, row in read_rows(path, file_format)]
        assert len(rows) == len(entries) == 92
        for row in rows:
            entry = entries[int(row["id"])]
            for field in ("question", "answer", "alternates", "tags"):
                assert row[field] == entry[field], (file_format, field)
    # The keys of `samesay export`, in its order: not the API's (which adds revision).
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    now = datetime.now(UTC)
    assert list(first) == list(FaqEntry(1, "q", "a", (), (), now, now).to_record())
    assert first["created_at"]
