"use strict";
// Scenes and episodes: shot thumbnails and status while a scene renders, re-rendering one shot,
// playing a scene or an episode with its subtitles, assembling and publishing an episode.
// Text from the server only ever goes into textContent: nothing it says becomes markup.
// API calls, the token and images come from client.js, loaded before this script.

const $ = (id) => document.getElementById(id);
const state = { project: null, kind: null, slug: null, poll: null };
const RENDER_POLL_MS = 2000;

function say(text, bad = false) {
  $("message").textContent = text;
  $("message").classList.toggle("bad", bad);
}

function element(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function fact(list, name, value) {
  list.append(element("dt", { textContent: name }), element("dd", { textContent: value }));
}

function seconds(value) {
  return value === null || value === undefined ? "–" : `${Number(value).toFixed(1)} s`;
}

async function loadProjects() {
  const projects = await api("GET", "/api/projects");
  const select = $("project");
  select.replaceChildren(...projects.map((p) => element("option", { value: p.slug, textContent: p.name })));
  if (projects.length) await pickProject(projects[0].slug);
  select.addEventListener("change", () => pickProject(select.value));
}

function listButton(kind, slug, label) {
  const button = element("button", { type: "button", textContent: label });
  button.dataset.kind = kind;
  button.dataset.slug = slug;
  button.addEventListener("click", () => (kind === "episode" ? showEpisode(slug) : showScene(slug)));
  return element("li", {}, button);
}

async function pickProject(slug) {
  state.project = slug;
  const q = `?project=${encodeURIComponent(slug)}`;
  const [episodes, scenes] = await Promise.all([api("GET", `/api/episodes${q}`), api("GET", `/api/scenes${q}`)]);
  $("episodes").replaceChildren(...episodes.map((e) =>
    listButton("episode", e.slug, `S${String(e.season).padStart(2, "0")}E${String(e.number).padStart(2, "0")} ${e.title}`)));
  $("scenes").replaceChildren(...scenes.map((s) => listButton("scene", s.slug, s.title)));
}

function select(kind, slug) {
  state.kind = kind;
  state.slug = slug;
  clearTimeout(state.poll);
  for (const b of document.querySelectorAll(".item-list button")) {
    b.setAttribute("aria-current", String(b.dataset.kind === kind && b.dataset.slug === slug));
  }
  $("hint").hidden = true;
  $("episode-view").hidden = kind !== "episode";
  $("scene-view").hidden = kind !== "scene";
  $("player-view").hidden = true;
  $("player").pause();
  say("");
}

async function showEpisode(slug) {
  select("episode", slug);
  const status = await api("GET", `/api/episodes/${encodeURIComponent(slug)}/assembly`);
  if (state.slug !== slug) return;
  $("episode-title").textContent = `S${String(status.season).padStart(2, "0")}E${String(status.number).padStart(2, "0")} · ${status.title}`;
  const facts = $("episode-facts");
  facts.replaceChildren();
  const render = status.render;
  fact(facts, "Assembled", render ? new Date(render.assembled_at).toLocaleString() : "not yet");
  if (render) {
    fact(facts, "Duration", seconds(render.duration_s));
    fact(facts, "Loudness", `${render.integrated_lufs.toFixed(1)} LUFS, peak ${render.true_peak_dbtp.toFixed(1)} dBTP (${render.normalization_type})`);
    fact(facts, "Joins", render.copy_only ? "stream copy (no re-encode)" : "re-encoded (transitions or differing clips)");
    fact(facts, "GPU time", seconds(render.gpu_seconds));
  }
  const pub = status.publication;
  const publishState = $("publish-state");
  publishState.className = "state";
  if (!pub) {
    publishState.textContent = "Not published";
  } else if (pub.announce_error) {
    publishState.textContent = `Published to ${pub.video}; Jellyfin was not told: ${pub.announce_error}`;
    publishState.classList.add("bad");
  } else {
    const told = pub.announced_at ? "Jellyfin told" : (status.jellyfin_configured ? "Jellyfin not told yet" : "no Jellyfin configured");
    publishState.textContent = `${pub.current ? "Published" : "Published (an older assembly)"} to ${pub.video} (${pub.link_mode}; ${told})`;
    publishState.classList.add(pub.current ? "ok" : "bad");
  }
  $("publish").disabled = !render;
  $("play-episode").disabled = !render;
  $("episode-scenes").replaceChildren(...status.scenes.map((s) =>
    element("li", { textContent: `${s.title}${s.transition !== "cut" && s.position > 1 ? ` (${s.transition} ${s.transition_s} s)` : ""}` })));
}

function shotCard(scene, shot) {
  const base = `/api/scenes/${encodeURIComponent(scene)}/shots/${encodeURIComponent(shot.key)}`;
  const card = element("li", { className: "shot" });
  card.dataset.status = shot.status;
  card.dataset.key = shot.key;
  const frame = shot.clip_path ? "last" : "keyframe";
  const img = element("img", { alt: `Shot ${shot.position}` });
  img.addEventListener("error", () => img.replaceWith(element("div", { className: "no-frame", textContent: "no frame yet" })));
  showImage(img, `${base}/frames/${frame}?v=${encodeURIComponent(shot.clip_path || "")}`);
  const label = `${shot.status}${shot.stale ? " · stale" : ""}${shot.error ? ` · ${shot.error}` : ""}`;
  const rerender = element("button", { type: "button", textContent: "Re-render" });
  rerender.addEventListener("click", () => rerenderShot(scene, shot.key).catch(report));
  card.append(img, element("p", { className: "status", textContent: `#${shot.position} ${label}` }), rerender);
  return card;
}

async function showScene(slug, { quiet = false } = {}) {
  if (!quiet) select("scene", slug);
  const status = await api("GET", `/api/scenes/${encodeURIComponent(slug)}/render-status`);
  if (state.slug !== slug) return;
  $("scene-title").textContent = slug;
  const rendering = status.rendering || status.shots.some((s) => s.status === "rendering");
  $("render-state").textContent = rendering ? `Rendering… about ${status.eta_minutes} min left`
    : (status.stale.length ? `${status.stale.length} shot(s) to render, about ${status.eta_minutes} min` : "All shots rendered");
  $("shots").replaceChildren(...status.shots.map((s) => shotCard(slug, s)));
  if (rendering) state.poll = setTimeout(() => showScene(slug, { quiet: true }).catch(report), RENDER_POLL_MS);
}

async function launch(asset, partition, what) {
  const run = await api("POST", "/api/runs", { asset, partition });
  say(`${what}: run ${run.run_id.slice(0, 8)} started`);
  return run;
}

async function rerenderShot(scene, key) {
  await api("POST", `/api/scenes/${encodeURIComponent(scene)}/shots/${encodeURIComponent(key)}/rerender`);
  await showScene(scene, { quiet: true });
  await launch("shot_clips", scene, `Re-rendering shot ${key}`);
}

// <video> and <track> cannot send the Authorization header either: with a token, the files come as blobs.
async function mediaSource(url) {
  const headers = authHeaders();
  if (!headers.Authorization) return url;
  const response = await fetch(url, { headers, credentials: "same-origin" });
  if (!response.ok) throw new ApiError(response.status, `${url}: ${response.status} ${response.statusText}`);
  return URL.createObjectURL(await response.blob());
}

async function play(src, subtitles) {
  const video = $("player");
  const [videoUrl, subtitlesUrl] = await Promise.all([mediaSource(src), mediaSource(subtitles).catch(() => null)]);
  video.replaceChildren(...(subtitlesUrl ? [element("track", { kind: "subtitles", srclang: "en", label: "Subtitles",
                                                                src: subtitlesUrl, default: true })] : []));
  video.src = videoUrl;
  $("player-view").hidden = false;
  video.play().catch(() => say("Press play to start the video"));
}

function report(error) {
  const hint = error.status === 503 ? " (is the Dagster webserver running?)" : "";
  say(`${error.message}${hint}`, true);
}

function on(id, handler) {
  $(id).addEventListener("click", () => Promise.resolve().then(handler).catch(report));
}

on("assemble", () => launch("episodes", state.slug, "Assembling"));
on("publish", () => api("POST", `/api/episodes/${encodeURIComponent(state.slug)}/publish`)
  .then((run) => say(`Publishing: run ${run.run_id.slice(0, 8)} started`)));
on("play-episode", () => play(`/api/episodes/${encodeURIComponent(state.slug)}/video`,
  `/api/episodes/${encodeURIComponent(state.slug)}/subtitles.vtt`));
on("render-scene", () => launch("shot_clips", state.slug, "Rendering"));
on("play-scene", () => play(`/api/scenes/${encodeURIComponent(state.slug)}/video`,
  `/api/scenes/${encodeURIComponent(state.slug)}/subtitles.vtt`));
$("player").addEventListener("error", () => say("This video cannot be played (not made yet?)", true));

loadProjects().catch(report);
