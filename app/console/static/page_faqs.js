// FAQs: a paged list with text and tag filters, an editor (create / edit / delete with
// alternates and tags) and file import / export. Every write reports the new revision.

import {api} from "./api.js";
import {el} from "./dom.js";
import {exportText, parseImport} from "./faq_files.js";
import {attempt, say} from "./status.js";

const PER_PAGE = 20;
const API_PAGE = 100; // GET /faq's largest page

// Every entry carrying all `tags`, by id: the API pages by id and filters by tag, and the
// text filter runs here over the result.
async function allEntries(tags) {
  const found = [];
  let after = null;
  for (;;) {
    const query = new URLSearchParams({limit: String(API_PAGE)});
    if (after !== null) query.set("after_id", String(after));
    for (const tag of tags) query.append("tag", tag);
    const page = await api("GET", `/faq?${query}`);
    found.push(...page.items);
    if (page.next_after_id === null) return found;
    after = page.next_after_id;
  }
}

function splitTags(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean);
}

export function render(root, params, alive) {
  const text = el("input", {id: "faq-filter", type: "search", placeholder: "words in any phrasing or answer"});
  const tags = el("input", {id: "faq-tags", type: "search", placeholder: "tags, comma-separated"});
  const list = el("ol", {class: "faq-list", id: "faq-list"});
  const pager = el("div", {class: "row pager"});
  const editor = el("section", {class: "editor", id: "faq-editor"});
  let fetched = []; // every entry with the tags asked for
  let entries = []; // those also containing the filter text
  let page = 0;

  root.append(el("h2", {}, "FAQs"),
    el("form", {class: "row filters", onsubmit: (e) => { e.preventDefault(); load(); }},
      el("span", {class: "group grow"}, el("label", {for: "faq-filter", class: "inline"}, "Filter"), text),
      el("span", {class: "group grow"}, el("label", {for: "faq-tags", class: "inline"}, "Tags"), tags),
      el("button", {type: "submit"}, "Apply"),
      el("button", {type: "button", id: "faq-new", onclick: () => edit(null, "")}, "New FAQ")),
    transfer(), editor, pager, list);
  text.addEventListener("input", () => { page = 0; refilter(); });

  async function load() {
    const got = await attempt(() => allEntries(splitTags(tags.value)));
    if (!got || !alive()) return;
    fetched = got;
    refilter();
  }

  // Text filtering runs here as you type (the API filters by tag, not by text).
  function refilter() {
    const needle = text.value.trim().toLowerCase();
    entries = needle ? fetched.filter((f) => [f.question, f.answer, ...f.alternates]
      .some((t) => t.toLowerCase().includes(needle))) : fetched;
    page = Math.min(page, Math.max(0, Math.ceil(entries.length / PER_PAGE) - 1));
    draw();
  }

  function draw() {
    const shown = entries.slice(page * PER_PAGE, (page + 1) * PER_PAGE);
    list.replaceChildren(...shown.map((f) => el("li", {class: "faq", "data-id": f.id},
      el("div", {class: "faq-head"},
        el("span", {class: "faq-id"}, `#${f.id}`),
        el("span", {class: "faq-question"}, f.question),
        el("button", {type: "button", class: "small", onclick: () => edit(f)}, "Edit")),
      el("div", {class: "faq-answer"}, f.answer),
      el("div", {class: "help"}, `${f.alternates.length} alternates`,
         f.tags.length ? ` · tags: ${f.tags.join(", ")}` : ""))));
    const pages = Math.max(1, Math.ceil(entries.length / PER_PAGE));
    pager.replaceChildren(
      el("button", {type: "button", disabled: page === 0, onclick: () => { page -= 1; draw(); }}, "‹ Previous"),
      el("span", {id: "faq-count"}, `page ${page + 1} of ${pages} · ${entries.length} FAQs`),
      el("button", {type: "button", disabled: page >= pages - 1, onclick: () => { page += 1; draw(); }}, "Next ›"));
  }

  function edit(entry, newQuestion = "") {
    const q = el("input", {id: "edit-question", type: "text", value: entry ? entry.question : newQuestion});
    const a = el("textarea", {id: "edit-answer", rows: 4});
    a.value = entry ? entry.answer : "";
    const alts = el("textarea", {id: "edit-alternates", rows: 5});
    alts.value = entry ? entry.alternates.join("\n") : "";
    const t = el("input", {id: "edit-tags", type: "text", value: entry ? entry.tags.join(", ") : ""});
    const remove = entry ? el("button", {type: "button", class: "danger", id: "edit-delete",
      onclick: async () => {
        if (remove.dataset.armed !== "1") {
          remove.dataset.armed = "1";
          remove.textContent = "Click again to delete";
          return;
        }
        const gone = await attempt(() => api("DELETE", `/faq/${entry.id}`));
        if (gone) { say(`Deleted FAQ #${entry.id}: revision ${gone.revision}.`); editor.replaceChildren(); load(); }
      }}, "Delete") : null;
    editor.replaceChildren(el("form", {class: "edit", onsubmit: async (e) => {
        e.preventDefault();
        const body = {question: q.value, answer: a.value,
                      alternates: alts.value.split("\n").map((s) => s.trim()).filter(Boolean),
                      tags: splitTags(t.value)};
        const saved = await attempt(() => entry ? api("PUT", `/faq/${entry.id}`, body) : api("POST", "/faq", body));
        if (!saved) return;
        const id = entry ? entry.id : saved.ids[0];
        say(`${entry ? "Saved" : "Created"} FAQ #${id}: revision ${saved.revision}.`);
        editor.replaceChildren();
        load();
      }},
      el("h3", {}, entry ? `Edit FAQ #${entry.id}` : "New FAQ"),
      el("label", {for: "edit-question"}, "Question"), q,
      el("label", {for: "edit-answer"}, "Answer"), a,
      el("label", {for: "edit-alternates"}, "Alternates (other ways to ask it, one per line)"), alts,
      el("label", {for: "edit-tags"}, "Tags (comma-separated)"), t,
      el("div", {class: "row"}, el("button", {type: "submit", id: "edit-save"}, "Save"),
        el("button", {type: "button", onclick: () => editor.replaceChildren()}, "Cancel"), remove)));
    q.focus();
  }

  function transfer() {
    const file = el("input", {type: "file", id: "import-file", accept: ".jsonl,.ndjson,.csv,.tsv"});
    const format = el("select", {id: "export-format", "aria-label": "export format"},
      ["jsonl", "csv", "tsv"].map((f) => el("option", {value: f}, f)));
    const link = el("a", {id: "export-link", hidden: true}, "");
    // Folded by default, but above the list: found without scrolling past every FAQ.
    return el("details", {class: "transfer", id: "transfer"},
      el("summary", {}, "Import or export a file"),
      el("p", {class: "help"}, "The formats of `samesay import` / `samesay export`: JSONL, " +
         "or CSV/TSV with a question,answer,alternates,tags header (list cells as JSON lists or |-separated)."),
      el("div", {class: "row"}, file,
        el("button", {type: "button", id: "import-button", onclick: () => importFile(file.files[0])}, "Import")),
      el("div", {class: "row"}, format,
        el("button", {type: "button", id: "export-button", onclick: () => exportAll(format.value, link)}, "Export"),
        link));
  }

  async function importFile(chosen) {
    if (!chosen) { say("Choose a file to import first.", "error"); return; }
    let parsed;
    try {
      parsed = parseImport(chosen.name, await chosen.text());
    } catch (error) {
      say(`Import refused: ${error.message}`, "error");
      return;
    }
    if (!parsed.items.length) { say("Import: the file holds no rows.", "error"); return; }
    // Each batch of up to 1,000 rows is all or nothing (a refused row names its position).
    const written = await attempt(async () => {
      let last = null;
      for (let i = 0; i < parsed.items.length; i += 1000) {
        last = await api("POST", "/faq", {items: parsed.items.slice(i, i + 1000)});
      }
      return last;
    });
    if (written) { say(`Imported ${parsed.items.length} FAQs: revision ${written.revision}.`); load(); }
  }

  async function exportAll(fileFormat, link) {
    const got = await attempt(() => allEntries([]));
    if (!got) return;
    const blob = new Blob([exportText(got, fileFormat)], {type: "text/plain;charset=utf-8"});
    if (link.href) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = `faqs.${fileFormat}`;
    link.textContent = `download faqs.${fileFormat} (${got.length} FAQs)`;
    link.hidden = false;
    link.click();
  }

  const preset = params.get("new");
  if (preset) edit(null, preset);
  load();
}
