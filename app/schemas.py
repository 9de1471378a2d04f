"""Request and response bodies: `XCreate / XUpdate / XPatch / XPublic` families.

Request models are strict (no "5" for 5, no 1 for true) and forbid unknown fields (no mass
assignment); text fields reject NUL, lone surrogates and text with no visible character;
numbers are finite and bounded.
The caps mirror the store's own limits (`store.entries.LIMITS`), which validate again.
The published JSON schema states every one of these rules that JSON Schema can express
(length, pattern, integer bounds), so a client generated from it sends nothing we refuse.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
)

from store.entries import LIMITS, MAX_FAQ_ID, FaqEntry
from store.visible import DEFAULT_IGNORABLE, INVISIBLE_ONLY, char_class, has_visible_char
from training.threshold import Objective


def _integral(value: object) -> object:
    # JSON Schema counts 5.0 as an integer, so generated clients may send it; "5" and true
    # stay refused by strict mode (bool is an int subclass: leave it to the strict check).
    if type(value) is float and value.is_integer():
        return int(value)
    return value


# After the bounds: pydantic publishes bounds given after a before-validator as "ge"/"le".
_INTEGRAL = BeforeValidator(_integral)
# Cosine scores lie in [-1, 1]; so do thresholds (the store refuses others).
Threshold = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
FaqId = Annotated[int, Field(ge=1, le=MAX_FAQ_ID), _INTEGRAL]
TopK = Annotated[int, Field(ge=1, le=50), _INTEGRAL]
Revision = Annotated[int, Field(ge=0, le=1 << 62), _INTEGRAL]
MAX_QUESTION_CHARS = 1_000
MAX_BATCH = 1_000
MAX_TUNE_EXAMPLES = 10_000

# What str.strip() removes, spelled out: JSON Schema's \s is not Python's (\x1c-\x1f, \x85).
_SPACE = "".join(f"\\u{c:04x}" for c in range(0x10000) if chr(c).isspace())
# Invisible characters (store.visible) are no content either; the BMP ones, for the pattern.
_INVISIBLE = char_class(tuple((lo, hi) for lo, hi in DEFAULT_IGNORABLE if hi <= 0xFFFF))
# No NUL anywhere and at least one character neither space nor invisible: what `_not_blank`
# enforces. Lone surrogates and text whose only non-space characters are astral invisible
# ones (U+1BCA0.., U+1D173.., U+E0000..) are refused too, but cannot be written portably in
# an ECMA pattern (without the `u` flag it sees them as surrogate pairs).
TEXT_PATTERN = f"^[^\\u0000]*[^\\u0000{_SPACE}{_INVISIBLE}][^\\u0000]*$"


def _clean(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (not valid Unicode)") from None
    return value


def _not_blank(value: str) -> str:
    value = _clean(value).strip()
    if not value:
        raise ValueError("must not be empty or only whitespace")
    if not has_visible_char(value):
        raise ValueError(INVISIBLE_ONLY)
    return value


def _text(max_chars: int) -> object:
    """A string of 1..max_chars characters with a visible one, no NUL, valid Unicode; the
    value kept is trimmed. The pattern is published, not run: `_not_blank` gives clearer
    messages than "should match pattern"."""
    return Field(
        min_length=1,
        max_length=max_chars,
        description=(
            f"at most {max_chars} characters as sent and once NFKC-normalised, which is how "
            "it is stored (a compatibility character such as 'ﬃ' becomes several)"
        ),
        json_schema_extra={"pattern": TEXT_PATTERN},
    )


QuestionText = Annotated[str, _text(MAX_QUESTION_CHARS), AfterValidator(_not_blank)]
FaqQuestionText = Annotated[str, _text(LIMITS.question_chars), AfterValidator(_not_blank)]
AnswerText = Annotated[str, _text(LIMITS.answer_chars), AfterValidator(_not_blank)]
AlternateText = Annotated[str, _text(LIMITS.alternate_chars), AfterValidator(_not_blank)]
TagText = Annotated[str, _text(LIMITS.tag_chars), AfterValidator(_not_blank)]
Alternates = Annotated[list[AlternateText], Field(max_length=LIMITS.alternates)]
Tags = Annotated[list[TagText], Field(max_length=LIMITS.tags)]

_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATE_TIME_MESSAGE = "must be an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z"


def _date_time(value: object) -> object:
    # Pydantic reads a number ("0.5", "1700000000") as Unix time; the contract says date-time.
    if not isinstance(value, str) or not _DATE_START.match(value):
        raise ValueError(DATE_TIME_MESSAGE)
    return value


# A query-string date-time: always text, so anything not starting like a date is refused.
DateTimeQuery = Annotated[datetime, BeforeValidator(_date_time)]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# ---- FAQ -------------------------------------------------------------------------------


class FaqCreate(RequestModel):
    question: FaqQuestionText
    answer: AnswerText
    alternates: Alternates = Field(default_factory=list, description="other ways to ask it")
    tags: Tags = Field(default_factory=list)


class FaqBatchCreate(RequestModel):
    items: Annotated[list[FaqCreate], Field(min_length=1, max_length=MAX_BATCH)]


# The tags of tagged-union bodies, which pydantic puts first in an error's location
# ("faq batch", "items", 1, "question"); app.errors leaves them out of the field path.
# With a space, so that no field name can be one.
FAQ_ENTRY, FAQ_BATCH = "faq entry", "faq batch"
UNION_TAGS = frozenset({FAQ_ENTRY, FAQ_BATCH})


def _faq_body_shape(value: object) -> str:
    # The shape a body is meant to be: a JSON object with "items" is a batch, anything else
    # one entry. Only that shape's errors are reported, not the other's as well.
    return FAQ_BATCH if isinstance(value, dict) and "items" in value else FAQ_ENTRY


# POST /faq's body: one entry, or a batch `{"items": [...]}`.
FaqCreateBody = Annotated[
    Annotated[FaqCreate, Tag(FAQ_ENTRY)] | Annotated[FaqBatchCreate, Tag(FAQ_BATCH)],
    Discriminator(_faq_body_shape),
]


class FaqDraftPublic(BaseModel):
    """An entry as it would be stored: text NFKC-normalised and trimmed, repeats dropped."""

    question: str
    answer: str
    alternates: list[str]
    tags: list[str]


class FaqDryRun(BaseModel):
    """POST /faq?dry_run=true: the body is valid; nothing was stored."""

    dry_run: Literal[True] = True
    items: list[FaqDraftPublic] = Field(description="what a create would store, in order")


class FaqUpdate(FaqCreate):
    """PUT: a full replacement; omitted alternates/tags become empty."""


class FaqPatch(RequestModel):
    """PATCH: only the fields given change (null = keep)."""

    question: FaqQuestionText | None = None
    answer: AnswerText | None = None
    alternates: Alternates | None = None
    tags: Tags | None = None


def entity_tag(revision: int) -> str:
    """An entry's ETag: its revision, quoted (app.api.preconditions reads it back)."""
    return f'"{revision}"'


class FaqPublic(BaseModel):
    id: int
    question: str
    answer: str
    alternates: list[str]
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    revision: int = Field(
        description="the store revision of this entry's last change (also its ETag): send it "
        'back as If-Match: "<revision>" to change or delete the entry only if nobody has '
        "since; pass it as /ask's min_revision for read-your-writes"
    )

    @classmethod
    def of(cls, entry: FaqEntry) -> Self:
        return cls(**entry.to_record(), revision=entry.revision)


class FaqWriteResult(BaseModel):
    ids: list[int]
    # The store revision that contains this write: pass it as `min_revision` to /ask for
    # read-your-writes on any worker.
    revision: int


class FaqEntryWritten(FaqPublic):
    """The entry as written (a write that changed nothing keeps its revision)."""


class FaqPage(BaseModel):
    items: list[FaqPublic]
    total: int
    # Pass as `after_id` to get the next page; null on the last page.
    next_after_id: int | None


class Deleted(BaseModel):
    id: int
    deleted: bool = True
    revision: int


# ---- ask -------------------------------------------------------------------------------


class AskRequest(RequestModel):
    question: QuestionText
    top_k: TopK = 5
    tags: Tags | None = Field(None, description="only FAQs carrying at least one of these tags")
    threshold: Threshold | None = Field(None, description="override the global threshold")
    min_revision: Revision | None = Field(
        None, description="read-your-writes token: the `revision` a write returned"
    )


class Match(BaseModel):
    faq_id: int
    question: str = Field(description="the matched phrasing (question or alternate)")
    answer: str
    score: float = Field(
        description="the FAQ's score: its best phrasing's, blended with its "
        "second best's by a fine-tuned model when it has four or more "
        "(README)"
    )


class AskResponse(BaseModel):
    answered: bool
    answer: str | None
    faq_id: int | None
    score: float | None = Field(
        description="the best FAQ's score (fused cosine, see README); null when nothing matched"
    )
    threshold: float
    ask_id: str
    matches: list[Match]
    revision: int = Field(description="store revision this worker's index reflects")
    model_version: str


# ---- threshold -------------------------------------------------------------------------


class ThresholdPublic(BaseModel):
    threshold: float
    source: Literal["store", "default"]


class ThresholdUpdate(RequestModel):
    threshold: Threshold


class TuneExample(RequestModel):
    question: QuestionText
    faq_id: FaqId | None = Field(None, description="the right FAQ, or null: should not answer")


TARGET_NEEDS_PRECISION = 'target applies only to objective "precision"'
PrecisionTarget = Annotated[
    float | None,
    Field(
        gt=0.0,
        le=1.0,
        allow_inf_nan=False,
        description='precision target (0.95); only with objective "precision"',
    ),
]


def _target_needs_precision(target: float | None, info: ValidationInfo) -> float | None:
    # Other objectives have no target: taking one would silently tune for something else.
    # An objective that failed validation is missing from `data` and reported on its own.
    if target is not None and info.data.get("objective", "precision") != "precision":
        raise ValueError(TARGET_NEEDS_PRECISION)
    return target


class TuneRequest(RequestModel):
    examples: Annotated[list[TuneExample], Field(min_length=1, max_length=MAX_TUNE_EXAMPLES)]
    objective: Objective = "accuracy"
    target: PrecisionTarget = None
    apply: bool = False

    _target = field_validator("target")(_target_needs_precision)


class CurvePoint(BaseModel):
    threshold: float
    answered_correctly_rate: float
    wrong_answer_rate: float
    abstain_rate_out_of_scope: float
    coverage: float
    accuracy: float
    precision: float
    recall: float
    f1: float


class TuneResponse(BaseModel):
    threshold: float = Field(description="recommended threshold, clipped to [-1, 1]")
    objective: Objective
    target: float | None
    target_met: bool
    applied: bool
    metrics: dict[str, float]
    curve: list[CurvePoint]
    n_examples: int
    n_in_scope: int
    n_out_of_scope: int
    plot_path: str | None = Field(description="PNG of the curve, in the data directory")
    warning: str | None = Field(
        None, description="why the recommendation is noise (too few questions with feedback, "
        "or none of one kind); such a tuning cannot be applied"
    )


class FeedbackTuneRequest(RequestModel):
    """Tune on the labelled questions stored feedback gives (see app/feedback_examples.py)."""

    objective: Objective = "accuracy"
    target: PrecisionTarget = None
    apply: bool = False

    _target = field_validator("target")(_target_needs_precision)


class LastTuning(BaseModel):
    threshold: float = Field(description="the threshold that tuning recommended")
    current_threshold: float = Field(description="the threshold serving now")
    objective: str
    target: float | None
    metrics: dict[str, float]
    curve: list[CurvePoint]
    n_examples: int
    n_in_scope: int | None
    n_out_of_scope: int | None
    source: str = Field(description="what the examples were (labelled examples, feedback, ...)")
    tuned_at: datetime


class FeedbackScore(BaseModel):
    n_examples: int = Field(description="feedback rows usable as labelled questions")
    n_left_out: int = Field(
        0, description="feedback questions left out because they are now stored phrasings "
        "(added as alternates: they score 1 whatever the model)"
    )
    threshold: float
    model_version: str
    metrics: dict[str, float] = Field(description="curve metrics at the threshold; {} if none")


# ---- feedback and ask log --------------------------------------------------------------


class FeedbackCreate(RequestModel):
    ask_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    correct: bool
    faq_id: FaqId | None = Field(
        None,
        description="the FAQ that would have been right, when `correct` is false "
        "(with true, only the FAQ answered is accepted, and with false, any FAQ but it: "
        "anything else contradicts `correct`)",
    )


class FeedbackPublic(BaseModel):
    id: int
    ask_id: str
    question: str
    correct: bool
    faq_id: int | None
    answered_faq_id: int | None
    created_at: datetime


class UnansweredPublic(BaseModel):
    question: str
    count: int
    last_asked_at: datetime
    ask_id: str = Field(
        description="its latest ask: POST /feedback on it (correct: true says declining was right)"
    )


class UnansweredList(BaseModel):
    items: list[UnansweredPublic]


class ReviewSuggestion(BaseModel):
    faq_id: int
    question: str = Field(description="the FAQ's question")
    matched: str = Field(description="the phrasing of it that matched best")
    score: float | None = Field(description="cosine; null for a FAQ named by feedback only")


class ReviewItem(BaseModel):
    kind: Literal["unanswered", "wrong_answer"]
    question: str
    ask_id: str = Field(
        description="unanswered: its latest ask; wrong_answer: the ask the feedback is on"
    )
    count: int
    last_asked_at: datetime
    named_faq_id: int | None = Field(description="wrong_answer: the FAQ feedback named")
    answered_faq_id: int | None = Field(description="wrong_answer: the FAQ it got")
    suggestions: list[ReviewSuggestion]


class ReviewQueue(BaseModel):
    items: list[ReviewItem]


# ---- errors ----------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str
    message: str
    type: str


class ErrorInfo(BaseModel):
    code: str = Field(description="stable machine-readable code (see app/errors.py)")
    message: str
    request_id: str | None = None
    details: list[ErrorDetail] | None = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorInfo


_ERROR_MEANINGS = {
    400: "body is not valid JSON",
    401: "missing, wrong or non-ASCII API key",
    403: "no API keys configured (set SAMESAY_API_KEYS)",
    404: "no such entry / ask",
    409: "conflict (retrain running, revision not available, empty store)",
    412: "the entry has changed since the revision in If-Match (ETag: its current one)",
    413: "body over the size cap",
    415: "body sent with a Content-Type other than JSON, or none (send application/json)",
    422: "invalid field (details name it)",
    503: "store unreachable or service starting",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI `responses` documenting the error body for these statuses."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_MEANINGS[status]} for status in statuses
    }


# ---- retrain and health ----------------------------------------------------------------


class RetrainStatus(BaseModel):
    state: Literal["idle", "running", "succeeded", "failed"]
    progress: float = Field(description="0..1")
    message: str
    started_at: datetime | None
    finished_at: datetime | None
    model_version: str = Field(description="the encoder serving now")
    new_model_version: str | None = Field(description="the model this run produced")
    error: str | None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    model_loaded: bool
    index_loaded: bool
    store_reachable: bool
    store_error: str | None = Field(None, description="why the store cannot serve, if it cannot")
    model_version: str | None
    model_error: str | None = Field(
        None, description="why this worker serves another model than the store's active one "
        "(a retrained model it cannot load), if it does; still ready"
    )
    index_size: int | None
    # "flat" (exact) or "ivf"; a flat index grows into IVF in the background (rebuilding).
    index_kind: str | None = None
    index_rebuilding: bool = False
    revision: int | None
