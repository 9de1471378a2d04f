"""FAQ entries: create (one or a batch, atomically), read, list, replace, patch, delete.

Every write returns only after the searcher has caught up with it, so the entry is
searchable when acknowledged; the returned `revision` is a read-your-writes token for /ask.
An entry's revision is also its ETag: PUT, PATCH and DELETE with `If-Match` write only if
nobody has changed the entry since it was read (412 otherwise, app.api.preconditions).
A create with `dry_run` validates exactly as a create does and stores nothing, so a client
splitting a file into batches can check every batch before storing any.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import JSONResponse

from app.api.deps import ApiKey, ReadKey, ServiceDep
from app.api.preconditions import IfMatch
from app.schemas import (
    Deleted,
    FaqBatchCreate,
    FaqCreate,
    FaqCreateBody,
    FaqDraftPublic,
    FaqDryRun,
    FaqEntryWritten,
    FaqPage,
    FaqPatch,
    FaqPublic,
    FaqUpdate,
    FaqWriteResult,
    TagText,
    entity_tag,
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


def _public(draft: store_entries.FaqDraft) -> FaqDraftPublic:
    return FaqDraftPublic(
        question=draft.question,
        answer=draft.answer,
        alternates=list(draft.alternates),
        tags=list(draft.tags),
    )


@router.post(
    "",
    response_model=FaqWriteResult,
    status_code=status.HTTP_201_CREATED,
    dependencies=[ApiKey],
    responses={
        200: {"model": FaqDryRun, "description": "dry_run: valid, nothing stored"},
        **error_responses(415),
    },
)
def create_faq(
    body: FaqCreateBody,
    service: ServiceDep,
    dry_run: Annotated[
        bool, Query(description="validate as a create would (same errors), store nothing")
    ] = False,
) -> FaqWriteResult | JSONResponse:
    """Add one entry, or a batch `{"items": [...]}` of at most 1,000: all or nothing.
    With `dry_run=true`: 200 and the entries as they would be stored; nothing is written."""
    if isinstance(body, FaqBatchCreate):
        drafts = [_draft(item, f"items[{i}].") for i, item in enumerate(body.items)]
    else:
        drafts = [_draft(body)]
    if dry_run:
        checked = FaqDryRun(items=[_public(draft) for draft in drafts])
        return JSONResponse(checked.model_dump(mode="json"))
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
def get_faq(faq_id: FaqIdPath, service: ServiceDep, response: Response) -> FaqPublic:
    """One entry; its `ETag` header is its revision, for a conditional write (If-Match)."""
    entry = service.store.get(faq_id)
    response.headers["ETag"] = entity_tag(entry.revision)
    return FaqPublic.of(entry)


def _written(
    service: ServiceDep, entry: store_entries.FaqEntry, response: Response
) -> FaqEntryWritten:
    service.written_revision()  # searchable before the response is sent
    response.headers["ETag"] = entity_tag(entry.revision)
    return FaqEntryWritten.of(entry)


@router.put(
    "/{faq_id}",
    response_model=FaqEntryWritten,
    dependencies=[ApiKey],
    responses=error_responses(412, 415),
)
def replace_faq(
    faq_id: FaqIdPath, body: FaqUpdate, service: ServiceDep, if_match: IfMatch, response: Response
) -> FaqEntryWritten:
    """Replace the whole entry (omitted alternates/tags become empty)."""
    entry = service.store.update(faq_id, _draft(body), expected_revisions=if_match)
    return _written(service, entry, response)


@router.patch(
    "/{faq_id}",
    response_model=FaqEntryWritten,
    dependencies=[ApiKey],
    responses=error_responses(412, 415),
)
def patch_faq(
    faq_id: FaqIdPath, body: FaqPatch, service: ServiceDep, if_match: IfMatch, response: Response
) -> FaqEntryWritten:
    """Change only the given fields; the result is validated as a whole."""
    patch = store_entries.FaqPatch(
        question=body.question,
        answer=body.answer,
        alternates=None if body.alternates is None else tuple(body.alternates),
        tags=None if body.tags is None else tuple(body.tags),
    )
    entry = service.store.update(faq_id, patch, expected_revisions=if_match)
    return _written(service, entry, response)


@router.delete(
    "/{faq_id}", response_model=Deleted, dependencies=[ApiKey], responses=error_responses(412)
)
def delete_faq(faq_id: FaqIdPath, service: ServiceDep, if_match: IfMatch) -> Deleted:
    service.store.delete(faq_id, expected_revisions=if_match)
    return Deleted(id=faq_id, revision=service.written_revision())
