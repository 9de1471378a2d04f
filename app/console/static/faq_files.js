// FAQ files in the formats of `samesay import` / `samesay export` (store/bulk.py):
// JSONL objects {question, answer, alternates, tags}, or CSV/TSV with a header naming
// question, answer and optionally alternates, tags; a list cell is a JSON list or
// |-separated. id / created_at / updated_at (what export writes) and revision (what the API
// returns) are ignored on import.

const FIELDS = ["question", "answer", "alternates", "tags"];
const IGNORED = ["id", "created_at", "updated_at", "revision"];
// What `samesay export` writes for each entry, in its order: an API entry has more (revision).
const EXPORTED = ["id", ...FIELDS, "created_at", "updated_at"];

export function formatOf(name) {
  const ext = name.toLowerCase().split(".").pop();
  if (ext === "jsonl" || ext === "ndjson") return "jsonl";
  if (ext === "csv" || ext === "tsv") return ext;
  throw new Error(`cannot tell the format of ${name} from its extension: use .jsonl, .csv or .tsv`);
}

// -> {items: [FaqCreate bodies], lines: [the file line of each]}; a row that is not usable
// throws, naming its line.
export function parseImport(name, text) {
  const format = formatOf(name);
  text = text.replace(/^\uFEFF/, "");
  const rows = format === "jsonl" ? jsonlRows(text) : csvRows(text, format === "tsv" ? "\t" : ",");
  return {items: rows.map((r) => r.item), lines: rows.map((r) => r.line)};
}

function entry(row, line) {
  const unknown = Object.keys(row).filter((k) => !FIELDS.includes(k) && !IGNORED.includes(k));
  if (unknown.length) throw new Error(`line ${line}: unknown field ${unknown.join(", ")}`);
  const body = {question: row.question, answer: row.answer,
                alternates: row.alternates ?? [], tags: row.tags ?? []};
  if (typeof body.question !== "string" || typeof body.answer !== "string") {
    throw new Error(`line ${line}: question and answer must be text`);
  }
  return body;
}

function jsonlRows(text) {
  const items = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    let value;
    try { value = JSON.parse(line); } catch (error) { throw new Error(`line ${i + 1}: not valid JSON (${error.message})`); }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new Error(`line ${i + 1}: each line must be a JSON object`);
    }
    items.push({item: entry(value, i + 1), line: i + 1});
  });
  return items;
}

function listCell(cell) {
  const text = cell.trim();
  if (!text) return [];
  if (text.startsWith("[")) {
    try {
      const value = JSON.parse(text);
      if (Array.isArray(value)) return value;
    } catch { /* not JSON: split on | below */ }
  }
  return text.split("|").map((p) => p.trim()).filter(Boolean);
}

// RFC 4180 records: quoted cells may hold the delimiter, quotes ("") and newlines.
function records(text, delimiter) {
  const rows = [];
  let row = [], cell = "", quoted = false, line = 1, start = 1;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i += 1; }
      else if (c === '"') quoted = false;
      else { if (c === "\n") line += 1; cell += c; }
    } else if (c === '"' && cell === "") quoted = true;
    else if (c === delimiter) { row.push(cell); cell = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i += 1;
      row.push(cell); rows.push({line: start, cells: row});
      row = []; cell = ""; line += 1; start = line;
    } else cell += c;
  }
  if (quoted) throw new Error(`line ${start}: a quoted cell is not closed`);
  if (cell !== "" || row.length) { row.push(cell); rows.push({line: start, cells: row}); }
  return rows;
}

function csvRows(text, delimiter) {
  const [header, ...rows] = records(text, delimiter);
  if (!header) return [];
  const columns = header.cells.map((c) => c.trim().toLowerCase());
  const bad = columns.filter((c) => !FIELDS.includes(c) && !IGNORED.includes(c));
  if (bad.length || !columns.includes("question") || !columns.includes("answer")) {
    throw new Error("the header must name question, answer and optionally alternates, tags");
  }
  const items = [];
  for (const {line, cells} of rows) {
    if (!cells.some((c) => c.trim())) continue;
    if (cells.length !== columns.length) throw new Error(`line ${line}: expected ${columns.length} cells, got ${cells.length}`);
    const row = {};
    columns.forEach((name, i) => {
      if (IGNORED.includes(name)) return;
      row[name] = name === "alternates" || name === "tags" ? listCell(cells[i]) : cells[i];
    });
    items.push({item: entry(row, line), line});
  }
  return items;
}

function csvCell(value, delimiter) {
  const text = String(value);
  return /["\r\n]/.test(text) || text.includes(delimiter) ? `"${text.replaceAll('"', '""')}"` : text;
}

// What `samesay export` writes: JSONL records, or CSV/TSV with JSON list cells.
export function exportText(entries, format) {
  if (format === "jsonl") return entries.map((e) => JSON.stringify(e, EXPORTED)).join("\n") + "\n";
  const d = format === "tsv" ? "\t" : ",";
  const lines = [["id", ...FIELDS].join(d)];
  for (const e of entries) {
    lines.push([e.id, e.question, e.answer, JSON.stringify(e.alternates), JSON.stringify(e.tags)]
      .map((v) => csvCell(v, d)).join(d));
  }
  return lines.join("\n") + "\n";
}
