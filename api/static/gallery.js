// The gallery: one character's whole dataset (every status), filtered by view, source, score and batch,
// with its count against the target, a "dataset complete" state, and each image full size with its
// provenance and review. Read only; the API helpers are in client.js. Text from the server only ever
// goes into textContent.
"use strict";

const params = new URLSearchParams(location.search);
const PAGE_SIZE = Number(params.get("limit")) || 60;
const FILTERS = ["status", "source", "min_score", "max_score", "batch"];
const state = {
  project: params.get("project") || "",
  character: params.get("character") || "",
  filters: Object.fromEntries(FILTERS.map((name) => [name, params.get(name) || ""])),
  characters: [],
  summary: null,
  items: [],
  next: null,
  loadSeq: 0, // discards answers for a character or filters no longer shown
  viewing: null, // id of the image open full size
};

const $ = (id) => document.getElementById(id);
const els = {
  characters: $("characters"), charactersEmpty: $("characters-empty"), heading: $("gallery-heading"),
  summary: $("summary"), complete: $("complete"), progress: $("progress"), progressText: $("progress-text"),
  summaryCounts: $("summary-counts"), views: $("views"), filters: $("filters"), grid: $("grid"),
  empty: $("empty"), more: $("more"), notice: $("notice"), tile: $("tile-template"), viewer: $("viewer"),
};

let noticeTimer = 0;
function notify(message, kind = "info") {
  clearTimeout(noticeTimer);
  els.notice.dataset.kind = kind;
  els.notice.textContent = message;
  noticeTimer = setTimeout(() => { els.notice.textContent = ""; }, 8000);
}

function keepInAddress() {
  const q = query({ project: state.project, character: state.character, ...state.filters });
  history.replaceState(null, "", q ? `${location.pathname}?${q}` : location.pathname);
}

// ---- Characters and the summary ----------------------------------------------------------------

async function loadCharacters() {
  const characters = await api("GET", `/api/review/counts?${query({ project: state.project })}`);
  if (JSON.stringify(characters) === JSON.stringify(state.characters)) return false;
  state.characters = characters;
  els.charactersEmpty.hidden = characters.length > 0;
  els.characters.replaceChildren(...characters.map((c) =>
    characterButton(c, c.character === state.character, selectCharacter)));
  return true;
}

// Whether the summary moved since it was last shown; only then is it drawn again (an open batch list
// is not replaced under the pointer).
async function loadSummary() {
  const character = state.character;
  const summary = await api("GET", `/api/gallery/${encodeURIComponent(character)}`);
  if (character !== state.character || JSON.stringify(summary) === JSON.stringify(state.summary)) return false;
  state.summary = summary;
  els.summary.hidden = false;
  els.summary.dataset.complete = String(summary.complete);
  els.complete.hidden = !summary.complete;
  els.complete.textContent = summary.complete
    ? `Dataset complete: ${summary.approved} of ${summary.target} approved, ready for training` : "";
  els.progressText.textContent = summary.complete
    ? `${summary.approved} approved (target ${summary.target})`
    : `${summary.approved} of ${summary.target} approved, ${summary.missing} to go`;
  els.progress.max = Math.max(summary.target, 1);
  els.progress.value = Math.min(summary.approved, els.progress.max);
  els.summaryCounts.textContent = `${summary.pending} pending · ${summary.rejected} rejected · ` +
    `${summary.uploaded} uploaded · ${summary.batches.length} batches · ${summary.gpu_seconds.toFixed(1)} GPU s`;
  fillBatches(summary.batches);
  return true;
}

function fillBatches(batches) {
  const select = els.filters.elements.batch;
  const options = batches.map((b) => {
    const option = document.createElement("option");
    option.value = b.batch;
    const started = new Date(b.started_at).toLocaleString();
    const failed = b.status === "failed" ? ", failed" : "";
    option.textContent = `${started}: ${b.generated} of ${b.requested} made${failed} (${b.batch.slice(0, 8)})`;
    return option;
  });
  const any = document.createElement("option");
  any.value = "";
  any.textContent = "any";
  select.replaceChildren(any, ...options);
  select.value = state.filters.batch;
}

async function selectCharacter(slug) {
  if (state.character && slug !== state.character) {
    state.filters.batch = ""; // a batch is one character's
    showFilters();
  }
  state.character = slug;
  for (const b of els.characters.querySelectorAll("button.character")) {
    b.setAttribute("aria-pressed", String(b.dataset.character === slug));
  }
  const c = state.characters.find((x) => x.character === slug);
  els.heading.textContent = `Gallery: ${c ? c.name : slug}`;
  els.views.hidden = false;
  els.filters.hidden = false;
  keepInAddress();
  try {
    await loadSummary();
  } catch (err) {
    notify(`Could not load ${slug}: ${err.message}`, "error");
    return;
  }
  await loadPage(true);
}

// ---- Images ------------------------------------------------------------------------------------

async function loadPage(first = false) {
  const seq = ++state.loadSeq;
  els.more.disabled = true;
  let page;
  try {
    page = await api("GET", `/api/gallery/${encodeURIComponent(state.character)}/images?${query({
      ...state.filters, limit: PAGE_SIZE, after: first ? null : state.next,
    })}`);
  } catch (err) {
    if (seq === state.loadSeq) notify(`Could not load images: ${err.message}`, "error");
    els.more.disabled = false;
    return;
  }
  if (seq !== state.loadSeq) return;
  state.items = first ? page.items : state.items.concat(page.items);
  state.next = page.next ?? null;
  if (first) els.grid.replaceChildren();
  els.grid.append(...(first ? state.items : page.items).map(renderTile));
  els.empty.hidden = state.items.length > 0;
  els.more.hidden = !state.next;
  els.more.disabled = false;
}

function statusText(item) {
  if (item.status === "pending") return "pending";
  return `${item.status}${item.decided_by ? ` (${item.decided_by === "human" ? item.reviewer || "person" : "auto"})` : ""}`;
}

function renderTile(item) {
  const li = els.tile.content.firstElementChild.cloneNode(true);
  li.dataset.id = item.id;
  li.dataset.status = item.status;
  const img = li.querySelector(".thumb");
  img.alt = `Image ${item.id} of ${item.character_name}, ${item.status}`;
  showImage(img, item.thumb_url || item.image_url);
  li.querySelector(".id").textContent = `#${item.id}`;
  const badge = li.querySelector(".badge");
  badge.textContent = item.source === "uploaded" ? `${item.status}, uploaded` : item.status;
  badge.dataset.status = item.status;
  const score = li.querySelector(".score");
  const value = item.quality_score ?? (item.review || {}).quality_score;
  score.textContent = fmtScore(value);
  score.dataset.level = scoreLevel(value);
  li.querySelector(".open").addEventListener("click", () => openViewer(item.id));
  return li;
}

// ---- Full size, provenance and review ----------------------------------------------------------

function fact(list, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt");
  dt.textContent = name;
  const dd = document.createElement("dd");
  dd.textContent = String(value);
  list.append(dt, dd);
}

function when(value) {
  return value ? new Date(value).toLocaleString() : null;
}

async function openViewer(id) {
  state.viewing = id;
  let detail;
  try {
    detail = await api("GET", `/api/images/${id}/provenance`);
  } catch (err) {
    notify(`Could not open #${id}: ${err.message}`, "error");
    return;
  }
  const { image, provenance, feedback } = detail;
  const review = image.review || {};
  $("viewer-title").textContent = `#${image.id} · ${image.character_name}`;
  const full = $("viewer-image");
  full.removeAttribute("src");
  full.alt = `Image ${image.id} of ${image.character_name}, full size`;
  showImage(full, image.image_url);
  $("viewer-status").textContent = `${statusText(image)} · score ${fmtScore(image.quality_score ?? review.quality_score)}`;
  $("viewer-status").dataset.status = image.status;
  $("viewer-reason").textContent = reviewReason(review);
  const checklist = $("viewer-checklist");
  checklist.replaceChildren();
  fillChecklist(checklist, review);
  if (image.non_human) checklist.append(checklistRow(review.species_ok === true, `species: ${speciesName(image.species)}`));
  $("viewer-feedback").replaceChildren(...feedback.map((f) => {
    const li = document.createElement("li");
    li.className = f.decision;
    const reasons = f.categories.length ? `: ${f.categories.join(", ")}` : "";
    li.textContent = `${f.decision} by ${f.reviewer}${reasons}${f.comment ? ` (“${f.comment}”)` : ""}, ${when(f.created_at)}`;
    return li;
  }));
  const facts = $("viewer-provenance");
  facts.replaceChildren();
  fact(facts, "Source", image.source);
  fact(facts, "Batch", provenance.batch);
  fact(facts, "Correction", provenance.batch_strategy);
  fact(facts, "Seed", image.seed);
  fact(facts, "Checkpoint", provenance.checkpoint);
  fact(facts, "LoRA", provenance.lora);
  fact(facts, "Size", provenance.width && `${provenance.width} × ${provenance.height}`);
  fact(facts, "Backend", provenance.backend);
  fact(facts, "GPU time", provenance.gpu_seconds != null ? `${provenance.gpu_seconds.toFixed(1)} s` : null);
  fact(facts, "Workflow", provenance.workflow_hash);
  fact(facts, "ComfyUI prompt", provenance.comfy_prompt_id);
  fact(facts, "SHA-256", provenance.sha256);
  fact(facts, "Created", when(image.created_at));
  fact(facts, "Reviewed", when(image.reviewed_at));
  $("viewer-prompt").textContent = image.prompt || "–";
  $("viewer-negative").textContent = provenance.negative_prompt || "–";
  if (!els.viewer.open) els.viewer.showModal();
}

// ← and → in the viewer step through the images shown, in grid order.
els.viewer.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
  e.preventDefault();
  const index = state.items.findIndex((i) => i.id === state.viewing) + (e.key === "ArrowRight" ? 1 : -1);
  if (index >= 0 && index < state.items.length) openViewer(state.items[index].id);
});

// ---- Views and filters -------------------------------------------------------------------------

function showFilters() {
  for (const b of els.views.querySelectorAll("button")) {
    b.setAttribute("aria-pressed", String(b.dataset.status === state.filters.status));
  }
  for (const name of ["source", "min_score", "max_score", "batch"]) els.filters.elements[name].value = state.filters[name];
}

function applyFilters(changes) {
  Object.assign(state.filters, changes);
  showFilters();
  keepInAddress();
  if (state.character) loadPage(true);
}

els.views.addEventListener("click", (e) => {
  const button = e.target.closest("button[data-status]");
  if (button) applyFilters({ status: button.dataset.status });
});
els.filters.addEventListener("change", () => {
  const form = els.filters.elements;
  applyFilters({ source: form.source.value, min_score: form.min_score.value, max_score: form.max_score.value,
                 batch: form.batch.value });
});
els.filters.addEventListener("submit", (e) => e.preventDefault());
els.filters.addEventListener("reset", (e) => {
  e.preventDefault();
  applyFilters({ source: "", min_score: "", max_score: "", batch: "" });
});
els.more.addEventListener("click", () => loadPage());

// ---- Live counts -------------------------------------------------------------------------------

// Polled every POLL_MS (client.js): the shown character's summary is cheap (one character's rows); when
// it moved (a batch added images, a person decided), the first page and every character's counts follow.
// A person deep in "Load more", or looking at one image, is not moved.
let polls = 0;

async function poll() {
  polls += 1;
  try {
    const moved = state.character ? await loadSummary() : false;
    if (moved && !els.viewer.open && state.items.length <= PAGE_SIZE) await loadPage(true);
    if (moved || polls % COUNTS_EVERY === 0) await loadCharacters();
  } catch (err) {
    notify(`Could not refresh: ${err.message}`, "error");
  }
}

showFilters();
loadCharacters().catch((err) => notify(`Could not load characters: ${err.message}`, "error")).then(() => {
  const known = state.characters.some((c) => c.character === state.character);
  if (known) selectCharacter(state.character);
  else if (state.characters.length === 1) selectCharacter(state.characters[0].character);
  pollForever(poll);
});
