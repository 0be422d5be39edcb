// The review page: pick a character, then approve or reject its pending images, keyboard first.
// Talks only to the review JSON API on this origin; no framework, no build step.
"use strict";

const CATEGORIES = [
  ["wrong_species", "Wrong species"],
  ["off_model_colours", "Off-model colours"],
  ["extra_limbs", "Extra limbs"],
  ["not_solo", "Not solo"],
  ["blurry", "Blurry"],
  ["bad_anatomy", "Bad anatomy"],
  ["style_drift", "Style drift"],
  ["other", "Other"],
];
const params = new URLSearchParams(location.search);
const PAGE_SIZE = Number(params.get("limit")) || 50;
const state = {
  project: params.get("project") || "",
  character: params.get("character") || "",
  characters: [],
  items: [],     // pending images shown, in grid order
  next: null,    // cursor for the next page, or null
  selected: 0,   // index into items
  rejecting: null, // {id, categories: Set} while the reject form is open
  busy: false,   // a decision is in flight
  loadSeq: 0,    // discards answers for a character no longer shown
};

const $ = (id) => document.getElementById(id);
const els = {
  characters: $("characters"),
  charactersEmpty: $("characters-empty"),
  heading: $("queue-heading"),
  grid: $("grid"),
  empty: $("empty"),
  more: $("more"),
  notice: $("notice"),
  card: $("card-template"),
  reject: $("reject-template"),
};

// ---- Notices -----------------------------------------------------------------------------------

let noticeTimer = 0;
function notify(message, kind = "info") {
  clearTimeout(noticeTimer);
  // Emptying first makes screen readers announce a repeated message again.
  els.notice.textContent = "";
  els.notice.dataset.kind = kind;
  requestAnimationFrame(() => { els.notice.textContent = message; });
  noticeTimer = setTimeout(() => { els.notice.textContent = ""; }, 8000);
}

// ---- Character picker --------------------------------------------------------------------------

async function loadCounts() {
  let characters;
  try {
    characters = await api("GET", `/api/review/counts?${query({ project: state.project })}`);
  } catch (err) {
    notify(`Could not load characters: ${err.message}`, "error");
    return;
  }
  // Polled: rebuilt only when a count moved, so a focused button is not replaced for nothing.
  if (JSON.stringify(characters) === JSON.stringify(state.characters)) return;
  state.characters = characters;
  renderCharacters();
}

function renderCharacters() {
  els.charactersEmpty.hidden = state.characters.length > 0;
  els.characters.replaceChildren(...state.characters.map((c) =>
    characterButton(c, c.character === state.character, selectCharacter)));
}

function characterName(slug) {
  const c = state.characters.find((x) => x.character === slug);
  return c ? c.name : slug;
}

async function selectCharacter(slug) {
  state.character = slug;
  params.set("character", slug);
  history.replaceState(null, "", `${location.pathname}?${params}`);
  for (const b of els.characters.querySelectorAll("button.character")) {
    b.setAttribute("aria-pressed", String(b.dataset.character === slug));
  }
  state.items = [];
  state.next = null;
  state.selected = 0;
  state.rejecting = null;
  els.heading.textContent = `Pending: ${characterName(slug)}`;
  const gallery = document.getElementById("gallery-link");
  gallery.querySelector("a").href = `/gallery?${query({ project: state.project, character: slug })}`;
  gallery.hidden = false;
  await loadPage(true);
}

// ---- Queue -------------------------------------------------------------------------------------

async function loadPage(first = false) {
  const seq = ++state.loadSeq;
  const character = state.character;
  els.more.disabled = true;
  let page;
  try {
    page = await api("GET", `/api/review/pending?${query({
      character, project: state.project, status: "pending", limit: PAGE_SIZE, after: first ? null : state.next,
    })}`);
  } catch (err) {
    if (seq === state.loadSeq) notify(`Could not load images: ${err.message}`, "error");
    els.more.disabled = false;
    return;
  }
  if (seq !== state.loadSeq || character !== state.character) return;
  const known = new Set(state.items.map((i) => i.id));
  const fresh = page.items.filter((i) => !known.has(i.id));
  state.items = first ? page.items : state.items.concat(fresh);
  state.next = page.next ?? null;
  renderGrid();
  if (first) {
    select(0);
    if (state.items.length) notify(`${state.items.length}${state.next ? "+" : ""} pending for ${characterName(character)}`);
  }
}

function renderGrid() {
  const existing = new Map([...els.grid.children].map((li) => [Number(li.dataset.id), li]));
  els.grid.replaceChildren(...state.items.map((item) => existing.get(item.id) || renderCard(item)));
  els.empty.hidden = state.items.length > 0 || !state.character;
  els.more.hidden = !state.next;
  els.more.disabled = false;
  updateSelection(false);
}

function renderCard(item) {
  const li = els.card.content.firstElementChild.cloneNode(true);
  const review = item.review || {};
  li.dataset.id = item.id;
  const value = item.quality_score ?? review.quality_score;
  const needsSpecies = item.non_human && review.species_ok !== true;
  li.setAttribute("aria-label", `Image ${item.id}, score ${fmtScore(value)}${needsSpecies ? ", needs species check" : ""}`);

  const img = li.querySelector(".thumb");
  showImage(img, item.thumb_url || item.image_url);
  img.alt = `Image ${item.id} of ${item.character_name}${item.seed != null ? `, seed ${item.seed}` : ""}`;
  li.querySelector(".id").textContent = `#${item.id}`;

  const score = li.querySelector(".score");
  score.textContent = `score ${fmtScore(value)}`;
  score.dataset.level = scoreLevel(value);

  if (item.non_human) {
    const species = li.querySelector(".species");
    species.hidden = false;
    species.dataset.ok = String(!needsSpecies);
    const name = speciesName(item.species);
    species.textContent = !needsSpecies ? `Species OK: ${name}` : `Needs species check: ${name}`;
  }

  fillChecklist(li.querySelector(".checklist"), review);
  li.querySelector(".reason").textContent = reviewReason(review);
  const prompt = li.querySelector(".prompt");
  if (item.prompt) prompt.querySelector("p").textContent = item.prompt;
  else prompt.remove();

  li.querySelector(".approve").addEventListener("click", () => { selectId(item.id); approve(); });
  li.querySelector(".reject").addEventListener("click", () => { selectId(item.id); openReject(); });
  li.addEventListener("click", (e) => { if (!e.target.closest("button, input, label, summary")) selectId(item.id); });
  return li;
}

// ---- Selection ---------------------------------------------------------------------------------

function cards() {
  return [...els.grid.children];
}

function select(index, focus = true) {
  if (state.rejecting) closeReject();
  state.selected = Math.max(0, Math.min(index, state.items.length - 1));
  updateSelection(focus);
}

function selectId(id) {
  const index = state.items.findIndex((i) => i.id === id);
  if (index >= 0 && index !== state.selected) select(index);
}

function updateSelection(focus) {
  const all = cards();
  all.forEach((li, i) => {
    const on = i === state.selected;
    li.classList.toggle("selected", on);
    li.setAttribute("aria-current", on ? "true" : "false");
    li.tabIndex = on ? 0 : -1;
  });
  const current = all[state.selected];
  if (current && focus) {
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: "nearest" });
  }
}

function columns() {
  return getComputedStyle(els.grid).gridTemplateColumns.split(" ").filter(Boolean).length || 1;
}

function move(delta) {
  if (!state.items.length) return;
  const target = state.selected + delta;
  if (target >= state.items.length && state.next) {
    loadPage().then(() => select(Math.min(target, state.items.length - 1)));
    return;
  }
  select(Math.max(0, Math.min(target, state.items.length - 1)));
}

// ---- Decisions ---------------------------------------------------------------------------------

function currentItem() {
  return state.items[state.selected];
}

function openReject() {
  const item = currentItem();
  if (!item || state.busy) return;
  if (state.rejecting) return;
  const li = cards()[state.selected];
  const form = els.reject.content.firstElementChild.cloneNode(true);
  const box = form.querySelector(".categories");
  CATEGORIES.forEach(([key, label], i) => {
    const wrap = document.createElement("label");
    wrap.className = "category";
    const input = document.createElement("input");
    input.type = "checkbox";
    input.name = "categories";
    input.value = key;
    const num = document.createElement("kbd");
    num.textContent = String(i + 1);
    wrap.append(input, num, ` ${label}`);
    box.append(wrap);
  });
  state.rejecting = { id: item.id, form };
  form.addEventListener("submit", (e) => { e.preventDefault(); confirmReject(); });
  form.querySelector(".cancel").addEventListener("click", () => { closeReject(); updateSelection(true); });
  li.classList.add("rejecting");
  li.querySelector(".actions").hidden = true;
  li.append(form);
  li.focus({ preventScroll: true });
  li.scrollIntoView({ block: "nearest" });
}

function closeReject() {
  const rejecting = state.rejecting;
  if (!rejecting) return;
  state.rejecting = null;
  const li = rejecting.form.closest("li");
  rejecting.form.remove();
  if (li) {
    li.classList.remove("rejecting");
    li.querySelector(".actions").hidden = false;
  }
}

function toggleCategory(n) {
  const box = state.rejecting && state.rejecting.form.querySelectorAll("input[name=categories]")[n - 1];
  if (box) box.checked = !box.checked;
}

function confirmReject() {
  const { form, id } = state.rejecting;
  const categories = [...form.querySelectorAll("input[name=categories]:checked")].map((b) => b.value);
  if (!categories.length) {
    notify("Pick at least one reason (1–8) before rejecting.", "error");
    return;
  }
  const comment = form.querySelector("input[name=comment]").value.trim();
  decide(id, "reject", { categories, comment });
}

function approve() {
  const item = currentItem();
  if (item && !state.rejecting) decide(item.id, "approve", {});
}

async function decide(id, action, body) {
  if (state.busy) return;
  state.busy = true;
  const li = els.grid.querySelector(`li[data-id="${id}"]`);
  if (li) li.setAttribute("aria-busy", "true");
  try {
    await api("POST", `/api/images/${id}/${action}`, body);
    removeItem(id);
    notify(action === "approve" ? `Approved #${id}` : `Rejected #${id}`);
  } catch (err) {
    if (err.status === 409) {
      removeItem(id);
      notify(`Someone else already decided #${id} (${err.message}).`, "warn");
    } else if (err.status === 404) {
      removeItem(id);
      notify(`#${id} no longer exists; it was removed.`, "warn");
    } else {
      notify(`Could not ${action} #${id}: ${err.message}`, "error");
    }
  } finally {
    state.busy = false;
    if (li) li.removeAttribute("aria-busy");
  }
  loadCounts();
}

function removeItem(id) {
  const index = state.items.findIndex((i) => i.id === id);
  if (index < 0) return;
  if (state.rejecting && state.rejecting.id === id) state.rejecting = null;
  state.items.splice(index, 1);
  if (index < state.selected || state.selected >= state.items.length) state.selected = Math.max(0, state.selected - 1);
  renderGrid();
  updateSelection(true);
  if (!state.items.length && state.next) loadPage();
}

// ---- Keyboard ----------------------------------------------------------------------------------

function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const typing = e.target.matches && e.target.matches("input[type=text], textarea, select");

  if (state.rejecting) {
    if (e.key === "Escape") {
      e.preventDefault();
      closeReject();
      updateSelection(true);
    } else if (e.key === "Enter" && !e.target.closest(".cancel")) {
      e.preventDefault();
      confirmReject();
    } else if (!typing && /^[1-8]$/.test(e.key)) {
      e.preventDefault();
      toggleCategory(Number(e.key));
    }
    return;
  }
  if (typing || !state.items.length) return;

  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const actions = {
    ArrowLeft: () => move(-1),
    ArrowRight: () => move(1),
    ArrowUp: () => move(-columns()),
    ArrowDown: () => move(columns()),
    a: approve,
    r: openReject,
  };
  if (actions[key]) {
    e.preventDefault();
    actions[key]();
  }
}

// ---- New images --------------------------------------------------------------------------------

// Polled every POLL_MS (client.js). Images a batch adds come after the last one shown (the queue is in
// id order), so a poll asks only for those; while more pages wait behind "Load more", they come with it.
let polls = 0;

async function pollNewImages() {
  polls += 1;
  if (await appendNewImages() || polls % COUNTS_EVERY === 0) await loadCounts();
}

// How many pending images of the shown character arrived since the last one shown.
async function appendNewImages() {
  const character = state.character;
  if (!character || state.next || state.busy) return 0;
  const seq = state.loadSeq;
  const last = state.items.length ? state.items[state.items.length - 1].id : null;
  let page;
  try {
    page = await api("GET", `/api/review/pending?${query({
      character, project: state.project, status: "pending", limit: PAGE_SIZE, after: last,
    })}`);
  } catch {
    return 0; // the next poll tries again; a service that stays away is reported by loadCounts
  }
  if (seq !== state.loadSeq || character !== state.character) return 0;
  const known = new Set(state.items.map((i) => i.id));
  const fresh = page.items.filter((i) => !known.has(i.id));
  if (!fresh.length) return 0;
  state.items = state.items.concat(fresh);
  state.next = page.next ?? null;
  renderGrid();
  notify(`${fresh.length}${state.next ? "+" : ""} new for ${characterName(character)}`);
  return fresh.length;
}

// ---- Start -------------------------------------------------------------------------------------

document.addEventListener("keydown", onKey);
els.more.addEventListener("click", () => loadPage());

loadCounts().then(() => {
  if (state.character && state.characters.some((c) => c.character === state.character)) {
    selectCharacter(state.character);
  } else if (state.characters.length === 1) {
    selectCharacter(state.characters[0].character);
  }
  pollForever(pollNewImages);
});
