// The PlateStream console: live events (Server-Sent Events), camera health, search by plate.
// Plain browser JavaScript, no build step and nothing loaded from elsewhere.
"use strict";

const state = {
  token: localStorage.getItem("platestream-token") || "",
  seen: new Set(),          // ids of live events shown
  latencies: [],            // ms from the server's hand-over to display, live events only
};
// Read by the browser test (Tests/IntegrationTests/ConsoleBrowserTests.swift).
window.consoleStats = state;

const $ = (id) => document.getElementById(id);

function withToken(url) {
  if (!state.token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(state.token);
}

async function api(url) {
  const response = await fetch(withToken(url));
  if (response.status === 403) { askForToken(); throw new Error("a valid API token is needed"); }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.detail || response.statusText);
  }
  return response.json();
}

function askForToken() {
  $("token-form").hidden = false;
  setConnection("token needed", "bad");
}

$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  state.token = $("token").value.trim();
  localStorage.setItem("platestream-token", state.token);
  $("token-form").hidden = true;
  connect();
  refreshCameras();
});

function setConnection(text, kind) {
  const pill = $("connection");
  pill.textContent = text;
  pill.className = "pill " + (kind || "");
}

// Degrees as Plate Recognizer gives them: 0 = moving right, counter-clockwise; CSS rotates clockwise.
function arrow(direction) {
  return direction == null ? "" : `<span style="display:inline-block;transform:rotate(${-direction}deg)">➜</span>`;
}

function render(event, options = {}) {
  const node = $("event-template").content.firstElementChild.cloneNode(true);
  node.dataset.id = event.id;
  node.dataset.plate = event.plate || "";
  const images = event.images || {};
  for (const [kind, selector] of [["plate", ".plate-crop"], ["vehicle", ".vehicle"]]) {
    const img = node.querySelector(selector);
    if (images[kind]) img.src = withToken(images[kind]); else img.remove();
  }
  node.querySelector(".plate").textContent = event.plate || "(no plate)";
  node.querySelector(".arrow").innerHTML = arrow(event.direction);
  node.querySelector(".score").textContent = event.score == null ? "" : Math.round(event.score * 100) + "%";
  node.querySelector(".region").textContent = event.region || "";
  node.querySelector(".match").textContent = event.match && event.match !== "exact" ? event.match.replace("_", " ") : "";
  node.querySelector(".camera").textContent = event.camera_id;
  const time = node.querySelector("time");
  time.dateTime = event.timestamp;
  time.textContent = new Date(event.timestamp).toLocaleString();
  const history = node.querySelector(".history");
  if (event.plate) {
    history.addEventListener("click", (e) => { e.preventDefault(); search(event.plate, true); });
  } else {
    history.remove();
  }
  if (options.fresh) node.classList.add("fresh");
  return node;
}

// Live events.
let source;
function connect() {
  if (source) source.close();
  source = new EventSource(withToken("/api/events/stream"));
  source.onopen = () => setConnection("live", "ok");
  source.onerror = () => setConnection("reconnecting…", "bad");
  source.addEventListener("plate", (message) => {
    const shownAt = Date.now();
    const event = JSON.parse(message.data);
    if (state.seen.has(event.id)) return;
    state.seen.add(event.id);
    const list = $("live");
    list.prepend(render(event, { fresh: !event.replay }));
    while (list.children.length > 100) list.lastElementChild.remove();
    if (!event.replay && event.emitted_at_ms) {
      state.latencies.push(shownAt - event.emitted_at_ms);
      const sorted = [...state.latencies].sort((a, b) => a - b);
      $("latency").textContent = `latency ${sorted[Math.floor(sorted.length / 2)]} ms (median of ${sorted.length})`;
    }
  });
}

// Camera health, every 2 seconds.
async function refreshCameras() {
  try {
    const body = await api("/api/cameras");
    const box = $("cameras");
    box.replaceChildren(...body.cameras.map((c) => {
      const card = document.createElement("div");
      card.className = "camera-card";
      card.dataset.camera = c.id;
      const lag = c.lag_seconds == null ? "–" : c.lag_seconds.toFixed(2) + " s";
      card.innerHTML = `<b></b><span class="status ${c.status}">${c.status}</span>
        <div class="numbers">in ${c.input_fps.toFixed(1)} fps · recognized ${c.recognized_fps.toFixed(1)} fps ·
        lag ${lag} · dropped ${c.dropped} · events ${c.events}</div><div class="error"></div>`;
      card.querySelector("b").textContent = c.id;
      card.querySelector(".error").textContent = c.last_error || "";
      return card;
    }));
  } catch (error) {
    // The pill already says why (token, or the server is gone).
  }
}

// Search by plate and time range; `history` lists one plate's own events (exact or folded matches).
async function search(plate, history = false) {
  const params = new URLSearchParams();
  if (plate) params.set("plate", plate);
  if (!history) {
    if ($("from").value) params.set("from", new Date($("from").value).toISOString());
    if ($("to").value) params.set("to", new Date($("to").value).toISOString());
  }
  params.set("limit", "100");
  $("q").value = plate || "";
  $("search-status").textContent = "searching…";
  try {
    const body = await api("/api/events?" + params);
    let events = body.events;
    if (history) events = events.filter((e) => e.match === "exact" || e.match === "folded");
    $("results").replaceChildren(...events.map((e) => render(e)));
    $("search-status").textContent = (history ? `history of ${plate}: ` : "") +
      `${events.length} event(s) in ${body.took_ms} ms`;
  } catch (error) {
    $("search-status").textContent = "search failed: " + error.message;
  }
}

$("search").addEventListener("submit", (e) => { e.preventDefault(); search($("q").value.trim()); });

connect();
refreshCameras();
setInterval(refreshCameras, 2000);
// `/?q=ABC123` opens with that search.
const initial = new URLSearchParams(location.search).get("q");
if (initial) search(initial); else search("");
