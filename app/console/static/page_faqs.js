// FAQs: a paged list with text and tag filters, an editor (create / edit / delete with
// alternates and tags) and file import / export. Every write reports the new revision.

import {api, ifMatch} from "./api.js";
import {el} from "./dom.js";
import {exportText, parseImport} from "./faq_files.js";
import {attempt, keyHint, say} from "./status.js";

const PER_PAGE = 20;
const API_PAGE = 100; // GET /faq's largest page
const BATCH = 1000; // POST /faq's largest batch

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

function splitLines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

// How the edit form shows each stored field and reads it back; `lossy` says why a stored
// value may not survive that round trip.
const FORM = {
  question: {show: (v) => v, read: (text) => text,
             lossy: "the stored question holds a line break, which this one-line field drops"},
  answer: {show: (v) => v, read: (text) => text,
           lossy: "the stored answer holds a carriage return, which this box shows as a line break"},
  alternates: {show: (list) => list.join("\n"), read: splitLines,
               lossy: "a stored alternate holds a line break, and this box takes one alternate per line"},
  tags: {show: (list) => list.join(", "), read: splitTags,
         lossy: "a stored tag holds a comma, and this field splits tags at commas"},
};

const same = (x, y) => JSON.stringify(x) === JSON.stringify(y);

// A refusal's validation errors at the file's lines: `items[3].question` of a batch whose
// rows start at line 1001 is "line 1004, question".
function atLines(error, lines) {
  const details = error.details || [];
  if (!details.length) return `${error.message} (the rows at lines ${lines[0]}–${lines.at(-1)})`;
  return details.map((d) => {
    const row = /^items\[(\d+)\]\.?(.*)$/.exec(d.field);
    return row ? `line ${lines[Number(row[1])]}${row[2] ? `, ${row[2]}` : ""}: ${d.message}`
      : `${d.field}: ${d.message}`;
  }).join("; ");
}

export function render(root, params, alive) {
  const text = el("input", {id: "faq-filter", type: "search", placeholder: "words in any phrasing or answer"});
  const tags = el("input", {id: "faq-tags", type: "search", placeholder: "tags, comma-separated"});
  const list = el("ol", {class: "faq-list", id: "faq-list"});
  const pager = el("div", {class: "row pager"});
  const editor = el("section", {class: "editor", id: "faq-editor"});
  const newButton = el("button", {type: "button", id: "faq-new", onclick: () => edit(null, "")}, "New FAQ");
  let fetched = []; // every entry with the tags asked for
  let entries = []; // those also containing the filter text
  let page = 0;

  root.append(el("h2", {}, "FAQs"),
    el("form", {class: "row filters", onsubmit: (e) => { e.preventDefault(); load(); }},
      el("span", {class: "group grow"}, el("label", {for: "faq-filter", class: "inline"}, "Filter"), text),
      el("span", {class: "group grow"}, el("label", {for: "faq-tags", class: "inline"}, "Tags"), tags),
      el("button", {type: "submit"}, "Apply"),
      newButton),
    transfer(), editor, pager, list);
  text.addEventListener("input", () => { page = 0; refilter(); });

  async function load() {
    const got = await attempt(() => allEntries(splitTags(tags.value)));
    if (!got || !alive()) return;
    fetched = got;
    refilter();
  }

  // Close the editor; focus goes to the entry's Edit button in the list (once reloaded, if
  // `reload`), or to "New FAQ", rather than to the page's start.
  async function closeEditor(id = null, reload = false) {
    editor.replaceChildren();
    if (reload) await load();
    const button = id === null ? null : list.querySelector(`li[data-id="${id}"] button`);
    (button || newButton).focus();
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
    const q = el("input", {id: "edit-question", type: "text"});
    const a = el("textarea", {id: "edit-answer", rows: 4});
    const alts = el("textarea", {id: "edit-alternates", rows: 5});
    const t = el("input", {id: "edit-tags", type: "text"});
    const inputs = {question: q, answer: a, alternates: alts, tags: t};
    for (const [name, input] of Object.entries(inputs)) {
      input.value = entry ? FORM[name].show(entry[name]) : "";
    }
    if (!entry) q.value = newQuestion;
    // What each field holds once the browser has it (an input drops line breaks, a textarea
    // turns \r into \n): a save sends only the fields that differ from it (PATCH), so an
    // untouched field is never re-read; one that cannot read back as stored is flagged.
    const shown = Object.fromEntries(Object.entries(inputs).map(([name, input]) => [name, input.value]));
    const lossy = entry ? Object.keys(FORM).filter((name) => !same(FORM[name].read(shown[name]), entry[name])) : [];
    const note = (name) => lossy.includes(name) ? el("p", {class: "notice", id: `edit-${name}-note`},
      `Careful: ${FORM[name].lossy}. Left as it is, it stays as stored; edited, it is saved as the field reads.`) : null;
    const save = el("button", {type: "submit", id: "edit-save"}, "Save");
    const remove = entry ? el("button", {type: "button", class: "danger", id: "edit-delete",
      onclick: async () => {
        if (remove.dataset.armed !== "1") {
          remove.dataset.armed = "1";
          remove.textContent = "Click again to delete";
          return;
        }
        const gone = await attempt(() => ofEntry(entry.id,
          () => api("DELETE", `/faq/${entry.id}`, undefined, ifMatch(entry)), changedElsewhere("Not deleted")));
        if (gone) { say(`Deleted FAQ #${entry.id}: revision ${gone.revision}.`); closeEditor(null, true); }
      }}, "Delete") : null;
    // Offered once a write finds the entry changed elsewhere: its current version, in place
    // of this form's edits, only when clicked.
    const reloadButton = entry ? el("button", {type: "button", id: "edit-reload", hidden: true,
                                               onclick: () => reopen(entry.id)}, "Reload this FAQ") : null;
    const cancel = () => closeEditor(entry ? entry.id : null);

    // A 412: the form is kept as typed (the user's text is not lost), and Delete disarmed.
    function changedElsewhere(what) {
      return (error) => {
        reloadButton.hidden = false;
        if (remove) { remove.dataset.armed = ""; remove.textContent = "Delete"; }
        say(`${what}: ${error.message}. Your text is still in the form; "Reload this FAQ" ` +
            "opens the current version (without your edits).", "error");
      };
    }

    async function submit() {
      const changed = Object.keys(inputs).filter((name) => !entry || inputs[name].value !== shown[name]);
      if (!changed.length) {
        say(`Nothing changed: FAQ #${entry.id} is kept as it was.`);
        closeEditor(entry.id);
        return;
      }
      const risky = changed.filter((name) => lossy.includes(name));
      if (risky.length && save.dataset.armed !== "1") {
        save.dataset.armed = "1";
        save.textContent = "Save anyway";
        say(`Not saved yet: ${risky.map((name) => FORM[name].lossy).join("; ")}, so saving your ` +
            `edit there changes more than you typed. Click "Save anyway" to save it as the form reads, or Cancel.`, "error");
        return;
      }
      const body = Object.fromEntries(changed.map((name) => [name, FORM[name].read(inputs[name].value)]));
      // If-Match: another editor's save since this form opened is a 412 (said on the status
      // line, the form kept), never silently overwritten.
      const saved = await attempt(() => entry
        ? ofEntry(entry.id, () => api("PATCH", `/faq/${entry.id}`, body, ifMatch(entry)), changedElsewhere("Not saved"))
        : api("POST", "/faq", body));
      if (!saved) return;
      const id = entry ? entry.id : saved.ids[0];
      say(`${entry ? "Saved" : "Created"} FAQ #${id}: revision ${saved.revision}.`);
      closeEditor(id, true);
    }

    editor.replaceChildren(el("form", {class: "edit", onsubmit: (e) => { e.preventDefault(); submit(); },
                                       onkeydown: (e) => { if (e.key === "Escape") cancel(); }},
      el("h3", {}, entry ? `Edit FAQ #${entry.id}` : "New FAQ"),
      el("label", {for: "edit-question"}, "Question"), q, note("question"),
      el("label", {for: "edit-answer"}, "Answer"), a, note("answer"),
      el("label", {for: "edit-alternates"}, "Alternates (other ways to ask it, one per line)"), alts, note("alternates"),
      el("label", {for: "edit-tags"}, "Tags (comma-separated)"), t, note("tags"),
      el("div", {class: "row"}, save,
        el("button", {type: "button", onclick: cancel}, "Cancel"), remove, reloadButton)));
    q.focus();
  }

  // A request about entry `id` from its editor. Deleted elsewhere (404): said, the editor
  // closed and the list reloaded; changed elsewhere (412): `onChanged(error)`. Either
  // resolves to undefined; any other failure is thrown.
  async function ofEntry(id, request, onChanged) {
    try {
      return await request();
    } catch (error) {
      if (error.code === "faq_not_found") {
        say(`FAQ #${id} was deleted elsewhere (in another tab, or by another editor): ` +
            "the editor is closed and the list reloaded.", "error");
        closeEditor(null, true);
      } else if (error.code === "precondition_failed" && onChanged) {
        onChanged(error);
      } else {
        throw error;
      }
      return undefined;
    }
  }

  // The entry as stored now, in a fresh editor: the open form's edits are dropped.
  async function reopen(id) {
    const fresh = await attempt(() => ofEntry(id, () => api("GET", `/faq/${id}`)));
    if (!fresh) return;
    edit(fresh);
    say(`Reloaded FAQ #${id} as stored now (revision ${fresh.revision}): redo your change there.`);
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
    const batches = [];
    for (let i = 0; i < parsed.items.length; i += BATCH) {
      batches.push({items: parsed.items.slice(i, i + BATCH), lines: parsed.lines.slice(i, i + BATCH)});
    }
    // One batch is all or nothing, several are not: every batch is validated (dry_run, the
    // same checks as a create) before any is stored, so a bad row anywhere stores nothing.
    for (const batch of batches) {
      try {
        await api("POST", "/faq?dry_run=true", {items: batch.items});
      } catch (error) {
        say(`Import refused, nothing stored: ${atLines(error, batch.lines)}${keyHint(error)}`, "error");
        return;
      }
    }
    let written = null;
    for (const [b, batch] of batches.entries()) {
      try {
        written = await api("POST", "/faq", {items: batch.items});
      } catch (error) {
        importStopped(error, batches, b, written);
        return;
      }
    }
    say(`Imported ${parsed.items.length} FAQs: revision ${written.revision}.`);
    load();
  }

  // A batch that passed validation failed when stored (the service or the store went away,
  // the key was revoked): the batches before it are stored, it and those after are not.
  function importStopped(error, batches, b, written) {
    const batch = batches[b];
    const why = `${atLines(error, batch.lines)}${keyHint(error)}`;
    // No answer at all: the batch may have been stored before the connection failed.
    const unsure = error.status === 0 ? " (unless the service stored them before the connection failed: check the list)" : "";
    if (b === 0) {
      say(`Import refused, nothing stored${unsure}: ${why}`, "error");
      return;
    }
    const stored = b * BATCH;
    say(`Import stopped: ${why}. The first ${stored} FAQs (to line ${batches[b - 1].lines.at(-1)}) ` +
        `were stored (revision ${written.revision}); the rows from line ${batch.lines[0]} on were not` +
        `${unsure}: import only those again.`, "error");
    load();
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
  if (preset) {
    edit(null, preset);
    // Offered once: a reload shows the list, not the same new FAQ again.
    params.delete("new");
    const rest = params.toString();
    history.replaceState(null, "", `#faqs${rest ? `?${rest}` : ""}`);
  }
  load();
}
