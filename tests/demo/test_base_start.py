"""First start with the shipped base encoder: an empty store is served by the base as it is
(no training), and FAQs added later are answered; own FAQs are fine-tuned from it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from fastapi.testclient import TestClient

from app.bootstrap import BootstrapConfig, ensure_ready
from app.config import Settings
from app.main import create_app
from model.base_model import shipped_base_path
from model.checkpoint import load_encoder, read_metadata
from store.entries import FaqDraft
from store.faq_store import FaqStore
from training.augment import AugmentConfig
from training.recipes import FaqRecipe, first_start_train_config

KEY = "base-start-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
FAQS = [
    ("How do I reset my password?", ["forgot my password", "change password"]),
    ("Where is my order?", ["track my parcel", "order status"]),
    ("Can I get a refund?", ["money back", "return an item for a refund"]),
]
ASKED = [("I can't remember my password", 0), ("when will my package arrive", 1)]


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'faq.db'}",
        api_keys=[KEY],
        default_threshold=0.0,  # ranking is under test here, not the threshold
        _env_file=None,
    )


def _store_own_faqs(settings: Settings) -> None:
    settings.data_dir.mkdir()
    store = FaqStore(settings.resolved_database_url)
    try:
        store.add([FaqDraft(q, f"answer {i}", tuple(a)) for i, (q, a) in enumerate(FAQS)])
    finally:
        store.close()


def test_an_empty_store_is_served_by_the_base_model_without_training(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    messages: list[str] = []
    report = ensure_ready(
        settings, BootstrapConfig(import_demo=False), progress=False, echo=messages.append
    )
    assert not report.trained and report.model_path == settings.resolved_model_path
    base = shipped_base_path()
    assert base is not None
    assert (
        load_encoder(settings.resolved_model_path).content_hash == load_encoder(base).content_hash
    )
    assert any("base model" in m for m in messages)

    with TestClient(create_app(settings)) as client:
        items = [
            {"question": q, "answer": f"answer {i}", "alternates": alternates}
            for i, (q, alternates) in enumerate(FAQS)
        ]
        response = client.post("/faq", json={"items": items}, headers=AUTH)
        assert response.status_code == 201, response.text
        ids = response.json()["ids"]
        for question, expected in ASKED:
            body = client.post(
                "/ask", json={"question": question, "min_revision": response.json()["revision"]}
            ).json()
            assert body["faq_id"] == ids[expected], (question, body)


def test_own_faqs_are_fine_tuned_from_the_base(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    _store_own_faqs(settings)
    fast = replace(first_start_train_config(), epochs=1, min_steps=0, num_threads=1)
    config = BootstrapConfig(recipe=FaqRecipe(train=fast, augment=AugmentConfig(copies=1)))
    report = ensure_ready(settings, config, progress=False, echo=lambda _: None)

    assert report.trained
    base = shipped_base_path()
    assert base is not None
    assert read_metadata(settings.resolved_model_path)["training"]["train_config"][
        "init_from"
    ] == str(base)
    encoder = load_encoder(settings.resolved_model_path)
    base_pieces = load_encoder(base).tokenizer.vocabulary
    assert encoder.tokenizer.vocabulary[: len(base_pieces)] == base_pieces  # extended, not rebuilt
    # Three phrasings per FAQ: the base is kept beside its fine-tuned copy (training.companion)
    # and the pair distilled into one network (training.ensemble_distillation).
    training = read_metadata(settings.resolved_model_path)["training"]
    assert training["train_config"]["keep_base"] and training["distilled_from_networks"] == 2
    assert encoder.config.members == 1 and encoder.dim == load_encoder(base).dim

    with TestClient(create_app(settings)) as client:
        faqs = client.get("/faq").json()["items"]
        ids = {item["question"]: item["id"] for item in faqs}
        for question, expected in ASKED:
            body = client.post("/ask", json={"question": question}).json()
            assert body["faq_id"] == ids[FAQS[expected][0]], (question, body)


def test_keep_base_max_phrasings_zero_trains_the_fine_tune_alone(tmp_path: Path) -> None:
    """SAMESAY_KEEP_BASE_MAX_PHRASINGS=0: the fastest first start, whatever the phrasings."""
    settings = _settings(tmp_path).model_copy(update={"keep_base_max_phrasings": 0})
    _store_own_faqs(settings)
    report = ensure_ready(settings, progress=False, echo=lambda _: None)  # the default recipe
    assert report.trained
    assert load_encoder(settings.resolved_model_path).config.members == 1
    training = read_metadata(settings.resolved_model_path)["training"]
    assert not training["train_config"]["keep_base"] and "distilled_from_networks" not in training


# A user's own help centre with a few phrasings per FAQ, as customers write them.
RENTAL_FAQS = [
    (
        "How much does it cost to rent a bike?",
        ["bike rental prices", "what is the daily rate for a bicycle", "how expensive is a rental"],
    ),
    (
        "What are your opening hours?",
        ["when are you open", "what time do you close", "are you open on sundays"],
    ),
    (
        "Do I need to bring ID?",
        ["which documents do i need", "is a passport required", "do you ask for identification"],
    ),
    ("Can I rent a helmet?", ["do you have helmets", "is a helmet included", "helmet hire"]),
    (
        "Can I return the bike at another shop?",
        ["one way rental", "drop the bike off somewhere else", "return to a different location"],
    ),
    (
        "What happens if the bike gets a flat tyre?",
        ["puncture during my ride", "my tire went flat", "repair a flat on the road"],
    ),
    (
        "Do you rent electric bikes?",
        ["e-bike rental", "do you have ebikes", "electric bicycle hire"],
    ),
    (
        "Can I book a bike in advance?",
        ["reserve a bike online", "make a reservation", "pre-book a bicycle"],
    ),
    (
        "Is there a deposit?",
        ["how much is the deposit", "do you hold money on my card", "security deposit"],
    ),
    (
        "Do you have bikes for children?",
        ["kids bikes", "child seat for a bicycle", "small bikes for my son"],
    ),
]


def test_a_new_users_own_faqs_are_answered_at_the_threshold_learned_at_first_start(
    tmp_path: Path,
) -> None:
    """No threshold given and no labelled question: the first start's rehearsal learns one
    that answers paraphrases (the 0.75 default declined them all) and declines off-topic."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'faq.db'}",
        api_keys=[KEY],
        _env_file=None,
    )  # no SAMESAY_DEFAULT_THRESHOLD: nobody chose one
    settings.data_dir.mkdir()
    store = FaqStore(settings.resolved_database_url)
    try:
        ids = store.add(
            [FaqDraft(q, f"answer {i}", tuple(a)) for i, (q, a) in enumerate(RENTAL_FAQS)]
        )
    finally:
        store.close()
    fast = replace(first_start_train_config(), epochs=1, min_steps=0, num_threads=1)
    config = BootstrapConfig(recipe=FaqRecipe(train=fast, augment=AugmentConfig(copies=1)))
    report = ensure_ready(settings, config, progress=False, echo=lambda _: None)
    assert report.threshold is not None and report.threshold < settings.default_threshold

    asked = [
        ("what does a bicycle cost per day", 0),
        ("until what time are you open today", 1),
        ("can I hire an electric bike", 6),
    ]
    with TestClient(create_app(settings)) as client:
        for question, expected in asked:
            body = client.post("/ask", json={"question": question}).json()
            assert body["faq_id"] == ids[expected].id, (question, body)
        body = client.post("/ask", json={"question": "who won the football world cup"}).json()
        assert body["faq_id"] is None, body
