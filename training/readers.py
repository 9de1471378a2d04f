"""Dataset readers: group TSV, CLINC150 JSON, CSV (text,label) and FAQ files (JSONL, or a
CSV/TSV table with question and answer columns: what `samesay export` writes).

Every reader returns a `Dataset`: labelled sentences (`Example(text, group, split)`) plus any
out-of-scope sentences by split. `read_dataset` picks the reader from a file's name or a
folder's contents; `merge_datasets` trains on several at once with group ids namespaced by
dataset name, so "weather" in two datasets stays two groups.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from store.bulk import read_rows
from store.errors import ImportFormatError
from training.errors import DatasetError

# Folder members tried in order by read_dataset.
_FOLDER_FILES = ("data_full.json", "groups.tsv", "groups.csv", "faqs.jsonl")
_OOS_FILES = ("oos.txt", "oos.jsonl", "out_of_scope.txt", "out_of_scope.jsonl")


@dataclass(frozen=True)
class Example:
    text: str
    group: str
    split: str | None = None  # the source's own split ("train", "val", "test", "fold01", ...)


@dataclass
class Dataset:
    name: str
    examples: list[Example]
    # Out-of-scope sentences by split (CLINC150: train/val/test); empty for most sources.
    out_of_scope: dict[str, list[str]] = field(default_factory=dict)

    def groups(self, splits: Iterable[str | None] | None = None) -> dict[str, list[str]]:
        """group id → sentences (optionally only from `splits`), groups in first-seen order."""
        wanted = None if splits is None else set(splits)
        out: dict[str, list[str]] = defaultdict(list)
        for example in self.examples:
            if wanted is None or example.split in wanted:
                out[example.group].append(example.text)
        return dict(out)

    @property
    def splits(self) -> set[str | None]:
        return {example.split for example in self.examples}


def _require_file(path: Path) -> Path:
    if not path.is_file():
        raise DatasetError(f"dataset file {path} does not exist")
    return path


def read_group_tsv(path: Path, name: str | None = None) -> Dataset:
    """`group_id<TAB>sentence[<TAB>split]` lines, UTF-8, no header."""
    path = _require_file(Path(path))
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip("\n\r")
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) < 2 or not parts[0] or not parts[1].strip():
                raise DatasetError(f"{path}:{number}: expected group_id<TAB>sentence[<TAB>split]")
            split = parts[2] if len(parts) > 2 and parts[2] else None
            examples.append(Example(parts[1], parts[0], split))
    return Dataset(name or path.stem, examples)


def read_clinc150(path: Path, name: str = "clinc150") -> Dataset:
    """CLINC150 `data_full.json`: train/val/test lists of [text, intent] + oos_* lists."""
    path = _require_file(Path(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        examples = [
            Example(text, intent, split)
            for split in ("train", "val", "test")
            for text, intent in data[split]
        ]
        oos = {
            split: [text for text, _ in data[f"oos_{split}"]] for split in ("train", "val", "test")
        }
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise DatasetError(f"{path} is not a CLINC150 data_full.json ({error})") from error
    return Dataset(name, examples, oos)


def read_csv(path: Path, name: str | None = None) -> Dataset:
    """CSV with columns text,label (header optional; extra `split` column honoured)."""
    path = _require_file(Path(path))
    rows = _csv_rows(path)
    if not rows:
        raise DatasetError(f"{path} is empty")
    header = [cell.strip().lower() for cell in rows[0][1]]
    if "text" in header and "label" in header:
        text_col, label_col = header.index("text"), header.index("label")
        split_col = header.index("split") if "split" in header else None
        rows = rows[1:]
    else:
        text_col, label_col, split_col = 0, 1, None
    examples = []
    for number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(text_col, label_col) or not row[text_col].strip():
            raise DatasetError(f"{path}:{number}: expected text,label")
        split = row[split_col] if split_col is not None and len(row) > split_col else None
        examples.append(Example(row[text_col], row[label_col], split or None))
    return Dataset(name or path.stem, examples)


def _csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number where the row starts, its cells) for each row: a quoted cell may span
    lines, so a row's number is not its index."""
    rows = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        start = 1
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    return rows


def read_faq_jsonl(path: Path, name: str | None = None) -> Dataset:
    """One FAQ per line: question + alternates = one group (split "train"); phrasings under
    `heldout` (never imported into the service) become split "test"."""
    path = _require_file(Path(path))
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                question = item["question"]
                group = str(item.get("id", number))
                alternates = list(item.get("alternates", []))
                heldout = list(item.get("heldout", []))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
                raise DatasetError(
                    f"{path}:{number}: expected a JSON object with 'question'"
                ) from error
            examples += [Example(t, group, "train") for t in [question, *alternates]]
            examples += [Example(t, group, "test") for t in heldout]
    return Dataset(name or path.stem, examples)


def read_faq_table(path: Path, name: str | None = None) -> Dataset:
    """A CSV/TSV FAQ table, as `samesay export` writes and `samesay import` reads it: one FAQ
    per row, its question and alternates one group (split "train"), named by its `id` cell
    where there is one."""
    path = _require_file(Path(path))
    examples = []
    try:
        for line, row in read_rows(path, "tsv" if path.suffix == ".tsv" else "csv"):
            question, alternates = row.get("question"), row.get("alternates", [])
            if "__error__" in row or not isinstance(alternates, list) or not all(
                isinstance(text, str) for text in [question, *alternates]
            ):
                reason = row.get("__error__", "expected a question and alternates as text")
                raise DatasetError(f"{path}:{line}: {reason}")
            group = str(row.get("id") or "").strip() or f"line {line}"
            examples += [Example(t, group, "train") for t in [question, *alternates] if t.strip()]
    except ImportFormatError as error:
        raise DatasetError(f"{path}: {error}") from None
    return Dataset(name or path.stem, examples)


def _is_faq_table(path: Path) -> bool:
    """Whether a .csv/.tsv file starts with an FAQ header (question and answer columns) rather
    than text,label or group TSV lines."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle, delimiter="\t" if path.suffix == ".tsv" else ","), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False  # the format's own reader reports it
    columns = {cell.strip().lower() for cell in header}
    return {"question", "answer"} <= columns


def read_out_of_scope(path: Path) -> list[str]:
    """Out-of-scope sentences: plain text lines, or JSONL objects with 'question' or 'text'."""
    path = _require_file(Path(path))
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".jsonl":
        try:
            return [(obj := json.loads(line)).get("question") or obj["text"] for line in lines]
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
            raise DatasetError(
                f"{path}: expected JSON objects with 'question' or 'text'"
            ) from error
    return lines


def read_dataset(path: Path, oos_path: Path | None = None) -> Dataset:
    """Any source the readers understand: a file (by suffix) or a folder holding one."""
    path = Path(path)
    if path.is_dir():
        for member in _FOLDER_FILES:
            if (path / member).is_file():
                dataset = read_dataset(path / member)
                dataset.name = path.name
                break
        else:
            raise DatasetError(f"{path} holds none of {', '.join(_FOLDER_FILES)}")
        if oos_path is None:
            oos_path = next((path / f for f in _OOS_FILES if (path / f).is_file()), None)
    elif path.name == "data_full.json" or path.suffix == ".json":
        dataset = read_clinc150(path)
    elif path.suffix in (".csv", ".tsv") and _is_faq_table(path):
        dataset = read_faq_table(path)
    elif path.suffix == ".tsv":
        dataset = read_group_tsv(path)
    elif path.suffix == ".csv":
        dataset = read_csv(path)
    elif path.suffix == ".jsonl":
        dataset = read_faq_jsonl(path)
    else:
        raise DatasetError(f"cannot tell the format of {path}: use .json, .tsv, .csv or .jsonl")
    if oos_path is not None:
        # A separate out-of-scope file has no splits of its own: the benchmark splits it.
        dataset.out_of_scope = {"all": read_out_of_scope(Path(oos_path))}
    if not dataset.examples:
        raise DatasetError(f"{path} contains no sentences")
    return dataset


def merge_datasets(datasets: Sequence[Dataset], name: str = "merged") -> Dataset:
    """One dataset whose group ids are `dataset_name/group` (no accidental merging)."""
    examples = [
        Example(e.text, f"{d.name}/{e.group}", e.split) for d in datasets for e in d.examples
    ]
    return Dataset(name, examples)
