"""Settings: the one place configuration is read (env vars prefixed SAMESAY_, or `.env`)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAMESAY_", env_file=".env", extra="ignore")

    # Where the SQLite file, the model and the index live unless overridden.
    data_dir: Path = Path("samesay-data")
    # SQLAlchemy URL; None means a SQLite file in data_dir (embedded default).
    database_url: str | None = None
    # Checkpoint directory to serve; None means data_dir/model (trained on first start).
    model_path: Path | None = None
    # Comma-separated bearer keys; empty refuses writes and admin routes.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Off by default: asking is the public part of an FAQ.
    ask_requires_key: bool = False
    # Off for a public "was this answer right?" widget, which cannot hold an admin key:
    # feedback then needs only the ask's id (80 random bits), so it can only be given on
    # asks one has made.
    feedback_requires_key: bool = True
    # Used until an operator sets or tunes one (stored in the database afterwards).
    default_threshold: float = Field(0.75, ge=-1.0, le=1.0)
    # auto: exact flat search while the index holds fewer than ivf_min_vectors phrasings,
    # IVF from there, HNSW from hnsw_min_vectors on. ivf / hnsw: flat, then that kind. flat:
    # always exact. Measured on 10k FAQs (~26k vectors, 2 workers): flat 761 /ask/s; IVF
    # 1,640-1,691/s; HNSW 1,779-1,880/s (docs/benchmarks.md).
    index_kind: Literal["flat", "ivf", "hnsw", "auto"] = "auto"
    # Below this a flat scan costs well under a millisecond and IVF would buy nothing.
    ivf_min_vectors: int = Field(10_000, ge=100)
    # Lists scanned per query, of 4 sqrt(n) lists (index.faq_index.IndexConfig.nlist): on 26k
    # phrasing vectors, 64 of 647 lists gave the same top-1 as exact search for 99.85 % of
    # questions (recall@10 0.984) in 211 us, where 32 of 162 lists took 539 us for 99.95 %.
    ivf_nprobe: int = Field(64, ge=1)
    # Where auto moves to HNSW (index.faq_index.IndexConfig.hnsw_min_vectors: HNSW loses
    # answers among many near-identical phrasings, IVF does not).
    hnsw_min_vectors: int = Field(100_000, ge=100)
    # HNSW candidates per query, the recall knob; unset = by size (64 below 100k phrasings,
    # 128 below 500k, 256 beyond: index.faq_index.auto_ef_search, `samesay bench index`).
    hnsw_ef_search: int | None = Field(None, ge=1)
    # "auto" uses a GPU when present and faiss was built with CUDA.
    faiss_device: Literal["auto", "cpu", "gpu"] = "auto"
    # A fine-tune (first start, POST /admin/retrain) learns from the base beside it when the
    # median FAQ has at most this many phrasings (training.companion: CLINC150 at 2
    # phrasings top-1 0.647 -> 0.676), then the pair is distilled into one network
    # (training.recipes.FaqRecipe.distil_steps); 0 = the fine-tune alone.
    keep_base_max_phrasings: int = Field(5, ge=0)
    # Networks fine-tuned from the base for the other FAQ sets (training.recipes.FaqRecipe):
    # 3 answered better (demo top-1 0.807 -> 0.814 with the two-phrasing vote; 0.786 -> 0.804
    # before it) for ~2x the CPU per /ask; 1 = fastest.
    faq_members: int = Field(1, ge=1, le=5)
    # The first start's threshold rehearsal in a second process beside the fine-tune
    # (app.bootstrap): about half the wall time on 2 cores for twice the peak memory
    # (~1.4 GB instead of ~0.75 GB with 20 FAQs). None: when 2 cores or more are there.
    rehearse_beside: bool | None = None
    # One thread each: single queries are fastest single-threaded, and workers scale instead.
    torch_threads: int = Field(1, ge=1)
    faiss_threads: int = Field(1, ge=1)
    # glibc malloc (app.memory); 0 = glibc's default. Two arenas instead of up to 8 per core:
    # ~60-80 MB less RSS per worker on 10k FAQs at no CPU cost. A fixed mmap threshold (e.g.
    # 131072) returns ~80 MB more, but cost 10-20 % more CPU per /ask at 32 clients
    # (alternating bench service runs), so it is off by default.
    malloc_arena_max: int = Field(2, ge=0)
    malloc_mmap_threshold: int = Field(0, ge=0, le=32 * 1024 * 1024)
    # How often a worker checks the store's revision log for other processes' writes.
    sync_interval_s: float = Field(0.5, gt=0)
    max_body_bytes: int = Field(2_000_000, ge=1024)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Ask records are written in batches this often: never one database write per /ask, and
    # small batches (a quarter second of traffic) keep each flush's GIL hold short.
    ask_log_flush_s: float = Field(0.25, gt=0)
    # Concurrent asks encoded together at most (app/api/ask_batch.py); 1 answers each alone.
    ask_batch_max: int = Field(32, ge=1, le=1024)
    # Unflushed ask records kept while the store is unreachable; the oldest are dropped beyond.
    ask_log_buffer: int = Field(100_000, ge=100)
    # Logged asks older than this many days are deleted (those with feedback are kept: they
    # are tuning data), so the table does not grow forever; 0 keeps every ask.
    ask_retention_days: int = Field(90, ge=0)

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        # Env vars hold comma-separated lists: "key1,key2".
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'samesay.db').resolve()}"

    @cached_property
    def resolved_model_path(self) -> Path:
        return self.model_path or self.data_dir / "model"

    @cached_property
    def index_dir(self) -> Path:
        return self.data_dir / "index"
