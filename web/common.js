// strawfire pages: what the dashboard and the patrol page share. No framework, no build step.
// The API needs a bearer token: the user pastes it into the sign-in box; it is kept in this
// browser's localStorage under "strawfire.token" and sent as `Authorization: Bearer`.
"use strict";
(function () {
  const KEY = "strawfire.token";
  const SF = {};

  SF.token = () => localStorage.getItem(KEY) || "";
  SF.setToken = (t) => t ? localStorage.setItem(KEY, t) : localStorage.removeItem(KEY);

  SF.esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // An API failure: the server's JSON error text, the field it names, the status.
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || ("HTTP " + status));
      this.status = status;
      this.field = body && body.field;
      this.details = (body && body.details) || [];
    }
  }
  SF.ApiError = ApiError;

  // fetch with the token; JSON in and out. `opts.form` sends a FormData (multipart).
  SF.api = async function (path, opts) {
    opts = opts || {};
    const headers = { Authorization: "Bearer " + SF.token() };
    let body;
    if (opts.form) {
      body = opts.form;
    } else if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(opts.json);
    }
    const r = await fetch(path, { method: opts.method || (body ? "POST" : "GET"), headers, body });
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { error: text }; }
    if (!r.ok) throw new ApiError(r.status, data);
    return data;
  };

  // "in 12 min", "overdue 1 h 05 min" for a deadline (RFC 3339) seen at `now` (ms).
  SF.clock = function (dueIso, now) {
    if (!dueIso) return { text: "no deadline", overdue: false, none: true };
    const ms = Date.parse(dueIso) - now;
    const abs = Math.abs(ms);
    const h = Math.floor(abs / 3600000);
    const m = Math.floor((abs % 3600000) / 60000);
    const s = Math.floor((abs % 60000) / 1000);
    const span = h > 0 ? h + " h " + String(m).padStart(2, "0") + " min"
      : m > 0 ? m + " min " + String(s).padStart(2, "0") + " s" : s + " s";
    return ms >= 0 ? { text: span + " left", overdue: false } : { text: "overdue " + span, overdue: true };
  };

  // Shows a message; `ok` for good news. Returns the element.
  SF.say = function (text, ok) {
    const el = document.getElementById("message");
    if (el) { el.textContent = text || ""; el.className = "message" + (ok ? " ok" : ""); }
    return el;
  };

  // Wires the sign-in box; calls `onReady(role)` once a token works (and again after a new sign-in).
  SF.signin = function (onReady) {
    const form = document.getElementById("signin");
    const input = document.getElementById("token-input");
    const out = document.getElementById("signout-button");
    const who = document.getElementById("whoami");
    async function check() {
      if (!SF.token()) { who.textContent = "not signed in"; return; }
      try {
        const cfg = await SF.api("/api/v1/dashboard-config");
        who.textContent = "signed in as " + cfg.role;
        document.body.dataset.role = cfg.role;
        input.value = ""; input.hidden = true;
        document.getElementById("signin-button").hidden = true;
        out.hidden = false;
        SF.say("");
        onReady(cfg);
      } catch (e) {
        who.textContent = "";
        SF.say(e.status === 401 ? "sign-in failed: " + e.message : "cannot reach the server: " + e.message);
      }
    }
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      SF.setToken(input.value.trim());
      check();
    });
    out.addEventListener("click", () => { SF.setToken(""); location.reload(); });
    check();
  };

  // Live updates over SSE. EventSource cannot send headers, so the token goes as `?token=`.
  // Reconnects with backoff after any error (the browser's own retry stops on HTTP errors).
  SF.live = function (handlers) {
    const badge = document.getElementById("live");
    let es = null, wait = 1000, timer = null;
    const state = (s) => { if (badge) badge.dataset.state = s; document.body.dataset.live = s; };
    function connect() {
      if (es) es.close();
      es = new EventSource("/api/v1/stream?token=" + encodeURIComponent(SF.token()));
      es.addEventListener("hello", () => { wait = 1000; state("open"); if (handlers.open) handlers.open(); });
      for (const name of ["hotspots", "event", "task", "verdict", "resync"]) {
        es.addEventListener(name, (ev) => {
          let data = {};
          try { data = JSON.parse(ev.data); } catch (e) { /* keep {} */ }
          if (handlers[name]) handlers[name](data);
        });
      }
      es.onerror = () => {
        state("error");
        es.close();
        clearTimeout(timer);
        timer = setTimeout(connect, wait);
        wait = Math.min(wait * 2, 30000);
      };
    }
    connect();
  };

  // A GeoJSON point's [lat, lon] for Leaflet.
  SF.latlng = (f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]];

  // Runs `fn` at most once per `ms` (the last call wins).
  SF.debounce = function (fn, ms) {
    let t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  };

  window.SF = SF;
})();
