// What the review and gallery pages share: the token hand-over, JSON calls to the API on this origin,
// images fetched with the token, and how a score, a species and a review checklist are shown.
// A classic script loaded before each page's own: its top-level names are visible to that script.
"use strict";

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// A token can be handed over once in the fragment (#token=...); it stays in this tab only.
(function takeToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.has("token")) {
    sessionStorage.setItem("studio-token", hash.get("token"));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();

function authHeaders() {
  const token = sessionStorage.getItem("studio-token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function api(method, path, body) {
  const headers = { Accept: "application/json", ...authHeaders() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    let detail = data && data.detail;
    if (Array.isArray(detail)) detail = detail.map((d) => d.msg || String(d)).join("; ");
    throw new ApiError(response.status, detail || `${response.status} ${response.statusText}`);
  }
  return data;
}

function query(values) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") q.set(key, value);
  }
  return q.toString();
}

// <img src> cannot carry the Authorization header: with a token, fetch the bytes and show a blob.
async function showImage(img, url) {
  const headers = authHeaders();
  if (!headers.Authorization) {
    img.src = url;
    return;
  }
  const response = await fetch(url, { headers, credentials: "same-origin" });
  if (!response.ok) {
    img.alt += ` (not available: ${response.status})`;
    return;
  }
  img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
  img.src = URL.createObjectURL(await response.blob());
}

// How often the pages look for new images and decisions (?poll=ms for a faster look, e.g. in tests).
// Polling, not server-sent events: an EventSource cannot send the bearer token that a person outside
// the trusted networks needs.
const POLL_MS = Math.max(200, Number(new URLSearchParams(location.search).get("poll")) || 5000);
// Every character's counts are an aggregate over all images: refreshed when a poll saw a change, else
// only every COUNTS_EVERY polls.
const COUNTS_EVERY = 6;

// Runs `poll` (async) every POLL_MS, one at a time, for as long as the page is open.
function pollForever(poll) {
  setTimeout(() => poll().finally(() => pollForever(poll)), POLL_MS);
}

function fmtScore(score) {
  return typeof score === "number" ? score.toFixed(2) : "–";
}

function scoreLevel(score) {
  return typeof score !== "number" ? "none" : score < 0.4 ? "low" : score < 0.8 ? "mid" : "high";
}

// "dragon — NOT human" -> "dragon" (as studio.domain.appearance.species_name).
function speciesName(species) {
  return String(species || "").split(/\s[—–-]\s|[—–(,]/)[0].trim() || "unknown species";
}

function checklistRow(passed, text) {
  const row = document.createElement("li");
  row.className = passed ? "pass" : "fail";
  const mark = document.createElement("span");
  mark.className = "mark";
  mark.setAttribute("aria-hidden", "true");
  mark.textContent = passed ? "✓" : "✗";
  const hidden = document.createElement("span");
  hidden.className = "sr-only";
  hidden.textContent = passed ? "passed: " : "failed: ";
  row.append(mark, hidden, text);
  return row;
}

// The automatic review's checklist (and a failed solo check) as rows of a <ul class="checklist">.
function fillChecklist(list, review) {
  for (const check of review.checklist || []) list.append(checklistRow(check.passed, check.item));
  if (review.solo === false) list.append(checklistRow(false, "solo"));
}

// The reviewer's reason and which backend and model gave it, or its error.
function reviewReason(review) {
  if (review.error) return `Reviewer error: ${review.error}`;
  return [review.reason, review.backend && `(${review.backend}${review.model ? ` ${review.model}` : ""})`]
    .filter(Boolean).join(" ");
}

// One character of the picker: name, counts, progress toward the target; `onSelect(slug)` on click.
function characterButton(c, pressed, onSelect) {
  const li = document.createElement("li");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "character";
  button.dataset.character = c.character;
  button.setAttribute("aria-pressed", String(pressed));
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = c.name;
  const counts = document.createElement("span");
  counts.className = "counts";
  for (const key of ["approved", "pending", "rejected"]) {
    const span = document.createElement("span");
    span.className = `count ${key}`;
    span.dataset.count = key;
    span.textContent = `${c[key]} ${key}`;
    counts.append(span);
  }
  const progress = document.createElement("progress");
  progress.max = Math.max(c.target, 1);
  progress.value = Math.min(c.approved, progress.max);
  progress.setAttribute("aria-hidden", "true");
  const target = document.createElement("span");
  target.className = "target";
  const complete = c.approved >= c.target;
  target.textContent = `${c.approved} of ${c.target} approved${complete ? ": complete" : ""}`;
  button.dataset.complete = String(complete);
  button.append(name, counts, progress, target);
  button.addEventListener("click", () => onSelect(c.character));
  li.append(button);
  return li;
}
