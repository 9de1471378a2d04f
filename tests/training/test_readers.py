"""Readers: each format, folder detection, namespacing, and clear errors for bad files."""

import json

import pytest

from store.bulk import export_file
from store.entries import FaqDraft
from store.faq_store import FaqStore
from training.errors import DatasetError
from training.readers import (
    merge_datasets,
    read_clinc150,
    read_csv,
    read_dataset,
    read_faq_jsonl,
    read_group_tsv,
)


def test_group_tsv_with_and_without_split(tmp_path):
    path = tmp_path / "groups.tsv"
    path.write_text("a\thello there\ttrain\na\thi\n\nb\t你好\ttest\n", encoding="utf-8")
    dataset = read_group_tsv(path)
    assert dataset.groups() == {"a": ["hello there", "hi"], "b": ["你好"]}
    assert dataset.splits == {"train", None, "test"}
    assert dataset.groups(["test"]) == {"b": ["你好"]}


def test_group_tsv_bad_line_names_the_line(tmp_path):
    path = tmp_path / "groups.tsv"
    path.write_text("a\tok\nno tab here\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="groups.tsv:2"):
        read_group_tsv(path)


def test_clinc150_json(tmp_path):
    data = {
        "train": [["book a flight", "book_flight"]],
        "val": [["fly me", "book_flight"]],
        "test": [["a plane ticket", "book_flight"]],
        "oos_train": [["sing", "oos"]],
        "oos_val": [["dance", "oos"]],
        "oos_test": [["jump", "oos"]],
    }
    path = tmp_path / "data_full.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    dataset = read_clinc150(path)
    assert [e.split for e in dataset.examples] == ["train", "val", "test"]
    assert dataset.out_of_scope == {"train": ["sing"], "val": ["dance"], "test": ["jump"]}
    (tmp_path / "bad.json").write_text("{}", encoding="utf-8")
    with pytest.raises(DatasetError, match="CLINC150"):
        read_clinc150(tmp_path / "bad.json")


def test_csv_with_header_and_without(tmp_path):
    with_header = tmp_path / "a.csv"
    with_header.write_text('label,text\nx,"hello, world"\ny,bye\n', encoding="utf-8")
    assert read_csv(with_header).groups() == {"x": ["hello, world"], "y": ["bye"]}
    plain = tmp_path / "b.csv"
    plain.write_text("hello,x\nbye,y\n", encoding="utf-8")
    assert read_csv(plain).groups() == {"x": ["hello"], "y": ["bye"]}


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("hello\n", 1),  # no header: the first row is line 1
        ("a,x\nb,x\nhello\n", 3),
        ("text,label\na,x\nhello\n", 3),  # the header is line 1
        ('text,label\n"two\nlines",x\n\nhello\n', 5),  # a quoted cell and a blank line
    ],
)
def test_csv_bad_row_names_its_line_in_the_file(tmp_path, content, line):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=rf"bad\.csv:{line}: expected text,label"):
        read_csv(path)


def test_faq_jsonl_question_and_alternates_form_one_group(tmp_path):
    path = tmp_path / "faqs.jsonl"
    lines = [
        {"id": 7, "question": "How do I pay?", "alternates": ["payment options"], "heldout": ["$"]},
        {"question": "Where is my order?"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    dataset = read_faq_jsonl(path)
    assert dataset.groups(["train"]) == {
        "7": ["How do I pay?", "payment options"],
        "2": ["Where is my order?"],
    }
    assert dataset.groups(["test"]) == {"7": ["$"]}
    path.write_text('{"answer": "no question"}\n', encoding="utf-8")
    with pytest.raises(DatasetError, match="faqs.jsonl:1"):
        read_faq_jsonl(path)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_an_faq_export_reads_as_one_group_per_faq(tmp_path, suffix):
    # `samesay export` output is training data as it stands: every FAQ one group (an export
    # table used to be read as text,label or group TSV lines: ids as sentences).
    store = FaqStore(f"sqlite:///{tmp_path / 'faq.db'}")
    store.add_batch([
        FaqDraft("How do I pay?", "By card.", ["payment options", "pay, by | card"], ["billing"]),
        FaqDraft("退货政策是什么?", "30 天。", ["怎么退货"]),
        FaqDraft("Where is my order?", "Orders page."),
    ])
    store.close()
    path = tmp_path / f"export{suffix}"
    export_file(FaqStore(f"sqlite:///{tmp_path / 'faq.db'}"), path, progress=False)
    assert read_dataset(path).groups(["train"]) == {
        "1": ["How do I pay?", "payment options", "pay, by | card"],
        "2": ["退货政策是什么?", "怎么退货"],
        "3": ["Where is my order?"],
    }


def test_an_faq_table_with_a_bad_row_names_its_line(tmp_path):
    path = tmp_path / "faqs.csv"
    path.write_text('question,answer,alternates\nHi?,Hello.,[]\nOnly a question\n', "utf-8")
    with pytest.raises(DatasetError, match="faqs.csv:3: expected 3 cells"):
        read_dataset(path)
    path.write_text("question,answer,colour\nHi?,Hello.,red\n", "utf-8")
    with pytest.raises(DatasetError, match="faqs.csv: CSV header must name"):
        read_dataset(path)


def test_read_dataset_detects_folder_contents_and_oos_file(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "groups.tsv").write_text("a\thi\nb\tbye\n", encoding="utf-8")
    (folder / "oos.txt").write_text("what is love\n\nsing me a song\n", encoding="utf-8")
    dataset = read_dataset(folder)
    assert dataset.name == "mine"
    assert dataset.out_of_scope == {"all": ["what is love", "sing me a song"]}
    with pytest.raises(DatasetError, match="holds none"):
        read_dataset(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        read_dataset(tmp_path / "nope.tsv")
    with pytest.raises(DatasetError, match="cannot tell"):
        read_dataset(tmp_path / "x.parquet")


def test_merge_namespaces_group_ids(tmp_path):
    (tmp_path / "one.tsv").write_text("weather\tis it sunny\n", encoding="utf-8")
    (tmp_path / "two.csv").write_text("will it rain,weather\n", encoding="utf-8")
    merged = merge_datasets(
        [read_dataset(tmp_path / "one.tsv"), read_dataset(tmp_path / "two.csv")]
    )
    assert merged.groups() == {"one/weather": ["is it sunny"], "two/weather": ["will it rain"]}
