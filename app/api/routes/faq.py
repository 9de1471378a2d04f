"""FAQ entries: create (one or a batch, atomically), read, list, replace, patch, delete.

Every write returns only after the searcher has caught up with it, so the entry is
searchable when acknowledged; the returned `revision` is a read-your-writes token for /ask.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from app.api.deps import ApiKey, ReadKey, ServiceDep
from app.schemas import (
    Deleted,
    FaqBatchCreate,
    FaqCreate,
    FaqEntryWritten,
    FaqPage,
    FaqPatch,
    FaqPublic,
    FaqUpdate,
    FaqWriteResult,
    TagText,
    error_responses,
)
from store import entries as store_entries
from store.entries import MAX_FAQ_ID
from store.errors import FaqValidationError, StoreValidationError
from store.faq_store import MAX_PAGE

router = APIRouter(
    prefix="/faq",
    tags=["faq"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 503),
)

FaqIdPath = Annotated[int, Path(ge=1, le=MAX_FAQ_ID, description="FAQ entry id")]


def _draft(item: FaqCreate, prefix: str = "") -> store_entries.FaqDraft:
    try:
        return store_entries.FaqDraft(
            item.question, item.answer, tuple(item.alternates), tuple(item.tags)
        )
    except FaqValidationError as error:
        # Name the batch position so a client can find the bad row among 1,000.
        raise StoreValidationError(f"{prefix}{error.field}", error.message) from None


@router.post(
    "",
    response_model=FaqWriteResult,
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKey],
)
def create_faq(body: FaqCreate | FaqBatchCreate, service: ServiceDep) -> FaqWriteResult:
    """Add one entry, or a batch `{"items": [...]}` of at most 1,000: all or nothing."""
    if isinstance(body, FaqBatchCreate):
        drafts = [_draft(item, f"items[{i}].") for i, item in enumerate(body.items)]
    else:
        drafts = [_draft(body)]
    entries = service.store.add(drafts)
    return FaqWriteResult(ids=[entry.id for entry in entries], revision=service.written_revision())


@router.get("", response_model=FaqPage, dependencies=[ReadKey])
def list_faq(
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after_id: Annotated[int | None, Query(ge=0, le=(1 << 62))] = None,
    offset: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
    tag: Annotated[list[TagText] | None, Query(max_length=20)] = None,
) -> FaqPage:
    """Entries by ascending id. Page with `after_id` (the previous `next_after_id`) or
    `offset`; `tag` (repeatable) keeps entries having all the given tags."""
    page = service.store.list_page(limit=limit, after_id=after_id, offset=offset, tags=tag or ())
    return FaqPage(
        items=[FaqPublic.of(entry) for entry in page.entries],
        total=page.total,
        next_after_id=page.next_after_id,
    )


@router.get("/{faq_id}", response_model=FaqPublic, dependencies=[ReadKey])
def get_faq(faq_id: FaqIdPath, service: ServiceDep) -> FaqPublic:
    return FaqPublic.of(service.store.get(faq_id))


def _written(service: ServiceDep, entry: store_entries.FaqEntry) -> FaqEntryWritten:
    return FaqEntryWritten(**FaqPublic.of(entry).model_dump(), revision=service.written_revision())


@router.put("/{faq_id}", response_model=FaqEntryWritten, dependencies=[ApiKey])
def replace_faq(faq_id: FaqIdPath, body: FaqUpdate, service: ServiceDep) -> FaqEntryWritten:
    """Replace the whole entry (omitted alternates/tags become empty)."""
    return _written(service, service.store.update(faq_id, _draft(body)))


@router.patch("/{faq_id}", response_model=FaqEntryWritten, dependencies=[ApiKey])
def patch_faq(faq_id: FaqIdPath, body: FaqPatch, service: ServiceDep) -> FaqEntryWritten:
    """Change only the given fields; the result is validated as a whole."""
    patch = store_entries.FaqPatch(
        question=body.question,
        answer=body.answer,
        alternates=None if body.alternates is None else tuple(body.alternates),
        tags=None if body.tags is None else tuple(body.tags),
    )
    return _written(service, service.store.update(faq_id, patch))


@router.delete("/{faq_id}", response_model=Deleted, dependencies=[ApiKey])
def delete_faq(faq_id: FaqIdPath, service: ServiceDep) -> Deleted:
    service.store.delete(faq_id)
    return Deleted(id=faq_id, revision=service.written_revision())
