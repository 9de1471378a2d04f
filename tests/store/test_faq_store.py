"""FaqStore CRUD, paging, revision log and durability, against SQLite and PostgreSQL."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from store.entries import FaqDraft, FaqPatch
from store.errors import FaqChanged, FaqNotFound, StoreError, StoreValidationError
from store.faq_store import FaqStore


def drafts(n: int, prefix: str = "question") -> list[FaqDraft]:
    return [FaqDraft(f"{prefix} {i}?", f"answer {i}.", [f"alt {prefix} {i}"]) for i in range(n)]


def test_add_get_round_trip(faq_store: FaqStore) -> None:
    before = datetime.now(UTC)
    [entry] = faq_store.add([FaqDraft("How?", "Like this.", ["In what way?"], ["howto"])])
    assert entry.id >= 1
    assert faq_store.get(entry.id) == entry
    assert entry.phrasings == ("How?", "In what way?")
    assert before <= entry.created_at == entry.updated_at <= datetime.now(UTC)
    assert entry.created_at.tzinfo is not None


def test_an_entry_carries_the_revision_of_its_last_change(faq_store: FaqStore) -> None:
    [first, second] = faq_store.add(drafts(2))
    assert first.revision == second.revision == faq_store.revision() == 1
    patched = faq_store.update(first.id, FaqPatch(answer="changed."))
    assert patched.revision == faq_store.revision() == 2
    assert faq_store.get(first.id).revision == 2 and faq_store.get(second.id).revision == 1
    assert [e.revision for e in faq_store.list_page(limit=10).entries] == [2, 1]


def test_a_conditional_write_at_a_stale_revision_writes_nothing(faq_store: FaqStore) -> None:
    [entry] = faq_store.add([FaqDraft("Q?", "A.", ["alt"])])
    read_at = frozenset({entry.revision})
    moved = faq_store.update(entry.id, FaqPatch(answer="B."), expected_revisions=read_at)
    revision = faq_store.revision()
    for write in (
        lambda: faq_store.update(entry.id, FaqPatch(tags=("x",)), expected_revisions=read_at),
        lambda: faq_store.update(entry.id, FaqDraft("Q?", "B."), expected_revisions=read_at),
        lambda: faq_store.delete(entry.id, expected_revisions=read_at),
        lambda: faq_store.delete(entry.id, expected_revisions=frozenset()),
    ):
        with pytest.raises(FaqChanged) as raised:
            write()
        assert raised.value.revision == moved.revision
    assert faq_store.revision() == revision  # nothing bumped, nothing logged
    assert faq_store.get(entry.id) == moved
    with pytest.raises(FaqNotFound):
        faq_store.delete(entry.id + 1000, expected_revisions=frozenset({1}))
    faq_store.delete(entry.id, expected_revisions=frozenset({1, moved.revision}))
    assert faq_store.count() == 0
    assert faq_store.changes_since(revision).deleted == [entry.id]


def test_batch_add_is_atomic_and_one_revision(faq_store: FaqStore) -> None:
    entries = faq_store.add(drafts(5))
    assert [e.question for e in entries] == [f"question {i}?" for i in range(5)]
    assert len({e.id for e in entries}) == 5
    assert faq_store.revision() == 1
    assert faq_store.count() == 5
    assert faq_store.add([]) == []
    assert faq_store.revision() == 1  # nothing written, nothing bumped


def test_update_full_and_patch(faq_store: FaqStore) -> None:
    [entry] = faq_store.add([FaqDraft("Old?", "Old.", ["alt"], ["a"])])
    replaced = faq_store.update(entry.id, FaqDraft("New?", "New."))
    assert (replaced.question, replaced.answer, replaced.alternates, replaced.tags) == (
        "New?", "New.", (), ()
    )
    assert replaced.created_at == entry.created_at
    assert replaced.updated_at >= entry.updated_at
    patched = faq_store.update(entry.id, FaqPatch(tags=("b",)))
    assert (patched.question, patched.tags) == ("New?", ("b",))
    assert faq_store.get(entry.id) == patched
    with pytest.raises(FaqNotFound):
        faq_store.update(entry.id + 1000, FaqPatch(answer="x"))


def test_an_update_that_changes_nothing_writes_nothing(faq_store: FaqStore) -> None:
    [entry] = faq_store.add([FaqDraft("Same?", "Same.", ["alt"], ["a"])])
    revision = faq_store.revision()
    same = FaqDraft("Same?", "Same.", ["alt"], ["a"])
    for change in (FaqPatch(), FaqPatch(answer=" Same. "), same):
        assert faq_store.update(entry.id, change) == entry
    assert faq_store.revision() == revision and faq_store.get(entry.id) == entry
    changed = faq_store.update(entry.id, FaqPatch(tags=("a", "b")))
    assert faq_store.revision() == revision + 1 and changed.tags == ("a", "b")
    with pytest.raises(FaqNotFound):
        faq_store.update(entry.id + 1000, FaqPatch())


def test_delete_and_not_found(faq_store: FaqStore) -> None:
    first, second = faq_store.add(drafts(2))
    faq_store.delete(first.id)
    with pytest.raises(FaqNotFound) as caught:
        faq_store.get(first.id)
    assert caught.value.faq_id == first.id
    revision = faq_store.revision()
    with pytest.raises(FaqNotFound):
        faq_store.delete(first.id)
    with pytest.raises(FaqNotFound):  # atomic: second survives a batch with a missing id
        faq_store.delete_many([second.id, first.id])
    assert faq_store.revision() == revision  # failed writes leave no revision behind
    assert faq_store.get(second.id) == second


def test_ids_are_never_reused_after_deleting_the_last(faq_store: FaqStore) -> None:
    [entry] = faq_store.add(drafts(1))
    faq_store.delete(entry.id)
    [again] = faq_store.add(drafts(1))
    assert again.id > entry.id


def test_list_page_keyset_offset_and_tags(faq_store: FaqStore) -> None:
    tagged = [FaqDraft(f"q{i}?", "a.", tags=["even"] if i % 2 == 0 else ["odd"]) for i in range(7)]
    entries = faq_store.add(tagged)
    page = faq_store.list_page(limit=3)
    assert [e.id for e in page.entries] == [e.id for e in entries[:3]]
    assert page.total == 7 and page.next_after_id == entries[2].id
    seen = []
    after = None
    while True:
        page = faq_store.list_page(limit=3, after_id=after)
        seen += [e.id for e in page.entries]
        if page.next_after_id is None:
            break
        after = page.next_after_id
    assert seen == [e.id for e in entries]
    assert [e.id for e in faq_store.list_page(limit=2, offset=5).entries] == [
        e.id for e in entries[5:]
    ]
    even = faq_store.list_page(limit=100, tags=["even"])
    assert even.total == 4 and all(e.tags == ("even",) for e in even.entries)
    assert faq_store.list_page(tags=["even", "odd"]).total == 0  # all tags must match
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "5"}, {"offset": -1},
                {"offset": 1, "after_id": 1}):
        with pytest.raises(StoreValidationError):
            faq_store.list_page(**bad)


def test_iter_entries_in_batches(faq_store: FaqStore) -> None:
    entries = faq_store.add(drafts(25))
    assert list(faq_store.iter_entries(batch_size=7)) == entries


def test_changes_since_follows_every_write(faq_store: FaqStore) -> None:
    a, b, c = faq_store.add(drafts(3))  # revision 1
    faq_store.update(b.id, FaqPatch(answer="changed"))  # revision 2
    faq_store.delete(c.id)  # revision 3
    assert faq_store.revision() == 3
    everything = faq_store.changes_since(0)
    assert everything.revision == 3
    assert [e.id for e in everything.upserted] == [a.id, b.id]
    assert everything.upserted[1].answer == "changed"  # current state, not the logged one
    assert everything.deleted == [c.id]
    after_add = faq_store.changes_since(1)
    assert [e.id for e in after_add.upserted] == [b.id] and after_add.deleted == [c.id]
    assert faq_store.changes_since(3) == faq_store.changes_since(3)  # idempotent, empty
    assert faq_store.changes_since(3).upserted == [] and faq_store.changes_since(3).deleted == []
    with pytest.raises(StoreValidationError):
        faq_store.changes_since(-1)


def test_a_second_store_sees_acknowledged_writes(faq_store: FaqStore, database_url: str) -> None:
    entries = faq_store.add(drafts(3))
    faq_store.set_threshold(0.6)
    other = FaqStore(database_url)
    try:
        assert other.count() == 3
        assert other.get(entries[1].id) == entries[1]
        assert other.revision() == faq_store.revision()
        assert other.store_id() == faq_store.store_id()
        assert other.get_threshold() == 0.6
    finally:
        other.close()


def test_settings_round_trip_and_bump_settings_version(faq_store: FaqStore) -> None:
    assert faq_store.get_threshold() is None and faq_store.get_active_model() is None
    start = faq_store.versions()
    faq_store.set_threshold(0.72)
    faq_store.set_active_model("ab" * 32)
    faq_store.set_setting("custom", {"x": [1, 2]})
    now = faq_store.versions()
    assert now.settings_version == start.settings_version + 3
    assert now.revision == start.revision  # settings do not look like FAQ changes
    assert faq_store.get_threshold() == 0.72
    assert faq_store.get_active_model() == "ab" * 32
    assert faq_store.get_setting("custom") == {"x": [1, 2]}
    assert faq_store.get_setting("missing", 5) == 5
    for bad in (float("nan"), float("inf"), 1.5, -1.01, "0.5", True):
        with pytest.raises(StoreValidationError):
            faq_store.set_threshold(bad)  # type: ignore[arg-type]
    assert faq_store.get_threshold() == 0.72
    with pytest.raises(StoreValidationError):
        faq_store.set_setting("bad", float("nan"))


def test_text_is_stored_verbatim_after_normalisation(faq_store: FaqStore) -> None:
    text = "Ünïcödé — émoji 🙂 and 中文 and ｆｕｌｌ"
    [entry] = faq_store.add([FaqDraft(text, text + " answer", [text + " alt"], ["标签"])])
    stored = faq_store.get(entry.id)
    assert stored.question == "Ünïcödé — émoji 🙂 and 中文 and full"
    assert stored.tags == ("标签",)
    assert faq_store.list_page(tags=["标签"]).total == 1


def test_ping(faq_store: FaqStore) -> None:
    assert faq_store.ping()


@pytest.mark.parametrize("bad_id", [0, -1, 2**63, 2**70, True, "1", None])
def test_out_of_range_ids_are_not_found_never_database_errors(
    faq_store: FaqStore, bad_id: object
) -> None:
    faq_store.add(drafts(1))
    with pytest.raises(FaqNotFound):
        faq_store.get(bad_id)  # type: ignore[arg-type]
    with pytest.raises(FaqNotFound):
        faq_store.update(bad_id, FaqPatch(answer="x"))  # type: ignore[arg-type]
    with pytest.raises(FaqNotFound):
        faq_store.delete(bad_id)  # type: ignore[arg-type]
    assert faq_store.get_many([bad_id]) == {}  # type: ignore[list-item]
    assert faq_store.revision() == 1


@pytest.mark.parametrize("bad", [-1, 2**63, True, "3"])
def test_bad_cursors_are_validation_errors(faq_store: FaqStore, bad: object) -> None:
    with pytest.raises(StoreValidationError):
        faq_store.list_page(after_id=bad)  # type: ignore[arg-type]
    with pytest.raises(StoreValidationError):
        faq_store.list_page(offset=bad)  # type: ignore[arg-type]
    with pytest.raises(StoreValidationError):
        faq_store.changes_since(bad)  # type: ignore[arg-type]
    with pytest.raises(StoreValidationError):
        faq_store.list_feedback(after_id=bad)  # type: ignore[arg-type]


def test_hostile_strings_in_lookups_never_reach_the_driver(faq_store: FaqStore) -> None:
    from store.errors import AskNotFound

    for ask_id in ("nul\x00", "\ud800", "x" * 65, ""):
        with pytest.raises(AskNotFound):
            faq_store.get_ask(ask_id)
        with pytest.raises(AskNotFound):
            faq_store.add_feedback(ask_id, correct=True)
    assert faq_store.get_setting("nul\x00", "default") == "default"
    with pytest.raises(StoreValidationError):
        faq_store.set_setting("nul\x00", 1)
    with pytest.raises(StoreValidationError):
        faq_store.list_page(tags=["nul\x00"])


def test_a_sqlite_path_whose_folder_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot create the SQLite database's folder"):
        FaqStore(f"sqlite:///{in_the_way}/samesay.db")


def test_sync_replaces_adds_and_deletes_under_one_revision(faq_store: FaqStore) -> None:
    a, b, c = faq_store.add(drafts(3))
    result = faq_store.sync(
        [FaqDraft("new?", "n.")],
        {a.id: FaqDraft(a.question, a.answer, a.alternates), b.id: FaqDraft("b?", "changed.")},
        delete_others=True,
    )
    assert result.revision == faq_store.revision() == 2
    assert (result.updated, result.unchanged, result.deleted) == ([b.id], [a.id], [c.id])
    assert faq_store.get(a.id) == a and faq_store.get(b.id).answer == "changed."
    changes = faq_store.changes_since(1)
    assert sorted(e.id for e in changes.upserted) == sorted([b.id, result.added[0].id])
    assert changes.deleted == [c.id]


def test_a_sync_that_changes_nothing_uses_no_revision(faq_store: FaqStore) -> None:
    [entry] = faq_store.add(drafts(1))
    same = {entry.id: FaqDraft(entry.question, entry.answer, entry.alternates)}
    result = faq_store.sync([], same, delete_others=True)
    assert (result.revision, result.unchanged) == (None, [entry.id])
    assert faq_store.revision() == 1


def test_a_sync_naming_a_missing_entry_writes_nothing(faq_store: FaqStore) -> None:
    [entry] = faq_store.add(drafts(1))
    with pytest.raises(FaqNotFound):
        faq_store.sync([FaqDraft("new?", "n.")], {entry.id + 99: FaqDraft("x?", "y.")})
    assert faq_store.revision() == 1 and faq_store.count() == 1
