// strawfire pages: what the dashboard and the patrol page share. No framework, no build step.
// The API needs a bearer token: the user pastes it into the sign-in box; it is kept in this
// browser's localStorage under "strawfire.token" and sent as `Authorization: Bearer`.
// Words come from the message catalogues (web/i18n/*.json, loaded as /static/i18n.js) through
// SF.t(key, params); no text a user reads is written here. The page's language is the
// deployment's (`<html lang>`, from `[ui] lang`) unless the 中文 / English switch chose another
// (localStorage "strawfire.lang"); times are shown in the deployment's zone (`data-time-zone`,
// from `[ui] time_zone`) with Intl.DateTimeFormat.
"use strict";
(function () {
  const KEY = "strawfire.token";
  const LANG_KEY = "strawfire.lang";
  const SF = {};
  const CATS = window.SF_MESSAGES || {};
  const root = document.documentElement;
  const DEFAULT_LANG = CATS[root.lang] ? root.lang : "zh-CN";

  // ---- words ----
  SF.lang = () => {
    const l = localStorage.getItem(LANG_KEY);
    return CATS[l] ? l : DEFAULT_LANG;
  };
  SF.has = (key) => (CATS[SF.lang()] || {})[key] != null;
  // The text of `key` in the page's language, `{name}` placeholders filled from `params`
  // (a null value shows as "–").
  SF.t = function (key, params) {
    let s = (CATS[SF.lang()] || {})[key];
    if (s == null) s = (CATS["zh-CN"] || {})[key];
    if (s == null) s = key;
    if (!params) return s;
    return s.replace(/\{(\w+)\}/g, (m, n) => !(n in params) ? m : params[n] == null ? "–" : String(params[n]));
  };
  // Fills elements marked data-i18n (text), data-i18n-placeholder, data-i18n-title.
  SF.translate = function (scope) {
    scope = scope || document;
    for (const el of scope.querySelectorAll("[data-i18n]")) el.textContent = SF.t(el.dataset.i18n);
    for (const el of scope.querySelectorAll("[data-i18n-placeholder]")) el.setAttribute("placeholder", SF.t(el.dataset.i18nPlaceholder));
    for (const el of scope.querySelectorAll("[data-i18n-title]")) el.setAttribute("title", SF.t(el.dataset.i18nTitle));
  };
  const langHandlers = [];
  // `fn(lang)` runs after the language changed (pages redraw what they drew).
  SF.onLang = (fn) => langHandlers.push(fn);
  function applyLang() {
    const l = SF.lang();
    root.lang = l;
    document.body.dataset.lang = l;
    SF.translate(document);
    for (const b of document.querySelectorAll("[data-set-lang]")) {
      b.setAttribute("aria-pressed", String(b.dataset.setLang === l));
    }
  }
  SF.setLang = function (l) {
    if (!CATS[l]) return;
    localStorage.setItem(LANG_KEY, l);
    applyLang();
    for (const fn of langHandlers) fn(l);
  };
  for (const b of document.querySelectorAll("[data-set-lang]")) {
    b.addEventListener("click", () => SF.setLang(b.dataset.setLang));
  }
  applyLang();

  // ---- times, in the deployment's zone ----
  SF.zone = root.dataset.timeZone || "Asia/Shanghai";
  const BEIJING = ["Asia/Shanghai", "Asia/Chongqing", "Asia/Chungking", "Asia/Harbin", "PRC"];
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  let partsFmt = null;
  function zoneParts(ms) {
    if (!partsFmt) {
      partsFmt = new Intl.DateTimeFormat("en-US", {
        timeZone: SF.zone, year: "numeric", month: "numeric", day: "numeric",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    const p = {};
    for (const x of partsFmt.formatToParts(new Date(ms))) p[x.type] = x.value;
    const month = Number(p.month);
    return { y: p.year, m: month, mon: MONTHS[month - 1], d: Number(p.day), hh: p.hour.padStart(2, "0"), mm: p.minute };
  }
  // The zone as users call it: 北京时间 / Beijing time, else "UTC+6".
  SF.zoneName = function () {
    if (BEIJING.includes(SF.zone)) return SF.t("zone.beijing");
    const off = new Intl.DateTimeFormat("en-US", { timeZone: SF.zone, timeZoneName: "shortOffset" })
      .formatToParts(new Date()).find((x) => x.type === "timeZoneName");
    return SF.t("zone.offset", { offset: off ? off.value.replace("GMT", "") : "" });
  };
  // A time (RFC 3339 or ms) in the zone: "2026年12月4日 16:45 北京时间"; this year's without the
  // year ("12月4日 16:45 北京时间") unless `opts.full`; `opts.bare` leaves the zone out.
  SF.time = function (iso, opts) {
    opts = opts || {};
    const ms = typeof iso === "number" ? iso : Date.parse(iso);
    if (!isFinite(ms)) return "–";
    const p = zoneParts(ms);
    const thisYear = zoneParts(Date.now()).y === p.y;
    const text = opts.full || !thisYear ? SF.t("time.full", p) : SF.t("time.short", p);
    return opts.bare ? text : text + " " + SF.zoneName();
  };
  // A calendar date "YYYY-MM-DD" as words: "2026年12月4日".
  SF.dateText = function (ymd) {
    const [y, m, d] = String(ymd).split("-").map(Number);
    if (!y || !m || !d) return String(ymd || "–");
    return SF.t("time.date", { y, m, mon: MONTHS[m - 1], d });
  };
  // Today (or the day of `ms`) in the zone, "YYYY-MM-DD" (for date inputs).
  SF.dayInZone = function (ms) {
    const p = zoneParts(ms == null ? Date.now() : ms);
    return p.y + "-" + String(p.m).padStart(2, "0") + "-" + String(p.d).padStart(2, "0");
  };
  // A `datetime-local` input's value ("2026-12-04T16:45[:05]") for the instant `ms`, as a clock
  // in the deployment's zone reads it (not the browser's zone).
  SF.zoneInput = function (ms) {
    const d = new Date(ms);
    const p = new Intl.DateTimeFormat("en-US", {
      timeZone: SF.zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(d).reduce((o, x) => { o[x.type] = x.value; return o; }, {});
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute + ":" + p.second;
  };
  // The instant (ms) a `datetime-local` value names, read as the deployment zone's wall clock.
  SF.fromZoneInput = function (value) {
    const wall = Date.parse(value + "Z"); // the wall clock as if it were UTC
    if (!isFinite(wall)) return NaN;
    // The zone's offset at about that instant (twice, for a value near an offset change).
    const offset = (ms) => Date.parse(SF.zoneInput(ms) + "Z") - Math.floor(ms / 1000) * 1000;
    let ms = wall - offset(wall);
    ms = wall - offset(ms);
    return ms;
  };

  // "12分钟前" / "12 min ago".
  SF.ago = function (iso) {
    const min = Math.round((Date.now() - Date.parse(iso)) / 60000);
    return min < 60 ? SF.t("ago.min", { n: min }) : min < 2880 ? SF.t("ago.h", { n: Math.round(min / 60) })
      : SF.t("ago.d", { n: Math.round(min / 1440) });
  };
  // A role as words: 管理员, 县区 410526, 乡镇巡查 410526101.
  SF.roleName = function (role) {
    const [kind, code] = String(role || "").split(":");
    return kind === "admin" ? SF.t("role.admin") : kind === "county" ? SF.t("role.county", { code })
      : kind === "patrol" ? SF.t("role.patrol", { code }) : String(role || "");
  };

  SF.token = () => localStorage.getItem(KEY) || "";
  SF.setToken = (t) => t ? localStorage.setItem(KEY, t) : localStorage.removeItem(KEY);

  SF.esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  // An API failure: the server's JSON error (its English `error` naming the field, its `code`,
  // and `message_zh`, the same failure in Chinese), the field it names, the status.
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || ("HTTP " + status));
      this.status = status;
      this.field = body && body.field;
      this.details = (body && body.details) || [];
      this.state = body && body.state;
      this.code = body && body.code;
      this.messageZh = body && body.message_zh;
    }
  }
  SF.ApiError = ApiError;

  // What to tell a user about a failure, in the page's language. strawfire's own answers carry
  // their words: `message_zh` on a Chinese page (the English `error` when it has none), the
  // English `error` on an English one. An answer without them (a proxy's 502 page, a network
  // failure) is told by its status.
  SF.errorText = function (e) {
    if (!(e instanceof ApiError)) return e instanceof TypeError ? SF.t("err.network") : String((e && e.message) || e);
    if (e.code) {
      const zh = SF.lang() === "zh-CN";
      return zh ? e.messageZh || e.message : e.message || e.messageZh;
    }
    if (e.status === 401) return SF.t("err.401");
    if (e.status === 403) return SF.t("err.403");
    if (e.status === 404) return SF.t("err.404");
    if (e.status === 413) return SF.t("err.413");
    return SF.t("err.server", { status: e.status });
  };

  // fetch with the token; JSON in and out. `opts.form` sends a FormData (multipart);
  // `opts.headers` adds headers, `opts.token` sends another token (a queued action's own).
  SF.api = async function (path, opts) {
    opts = opts || {};
    const headers = Object.assign({ Authorization: "Bearer " + (opts.token || SF.token()) }, opts.headers || {});
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

  // A GeoJSON list endpoint whole: the API answers pages (at most 5,000 features each) with
  // `next`, the cursor of the following page; this follows it and joins the features.
  SF.apiAll = async function (path) {
    const sep = /[?&]$/.test(path) ? "" : path.includes("?") ? "&" : "?";
    const base = path + sep + "limit=5000";
    let page = await SF.api(base);
    const features = page.features.slice();
    while (page.next) {
      page = await SF.api(base + "&cursor=" + encodeURIComponent(page.next));
      for (const f of page.features) features.push(f);
    }
    return { type: "FeatureCollection", features: features, next: null };
  };

  // "剩余 12分05秒", "逾期 1小时05分" for a deadline (RFC 3339) seen at `now` (ms).
  SF.clock = function (dueIso, now) {
    if (!dueIso) return { text: SF.t("clock.none"), overdue: false, none: true };
    const ms = Date.parse(dueIso) - now;
    const abs = Math.abs(ms);
    const h = Math.floor(abs / 3600000);
    const m = Math.floor((abs % 3600000) / 60000);
    const s = Math.floor((abs % 60000) / 1000);
    const pad = (v) => String(v).padStart(2, "0");
    const span = h > 0 ? SF.t("span.hm", { h, mm: pad(m) })
      : m > 0 ? SF.t("span.ms", { m, ss: pad(s) }) : SF.t("span.s", { s });
    return ms >= 0 ? { text: SF.t("clock.left", { span }), overdue: false }
      : { text: SF.t("clock.overdue", { span }), overdue: true };
  };

  // Shows a message; `ok` for good news. Returns the element.
  SF.say = function (text, ok) {
    const el = document.getElementById("message");
    if (el) { el.textContent = text || ""; el.className = "message" + (ok ? " ok" : ""); }
    return el;
  };

  // Wires the sign-in box; calls `onReady(role)` once a token works (and again after a new sign-in).
  // With `opts.offline`, a page that cannot reach the server starts with the answer it last had
  // for this token (`cfg.offline` true), so it opens in a field with no signal.
  SF.signin = function (onReady, opts) {
    opts = opts || {};
    const form = document.getElementById("signin");
    const input = document.getElementById("token-input");
    const out = document.getElementById("signout-button");
    const who = document.getElementById("whoami");
    let role = null;
    const showWho = () => {
      who.textContent = !SF.token() ? SF.t("signin.none") : role ? SF.t("signin.as", { role: SF.roleName(role) }) : "";
    };
    SF.onLang(showWho);
    async function check() {
      if (!SF.token()) { showWho(); return; }
      try {
        let cfg;
        try {
          cfg = await SF.api("/api/v1/dashboard-config");
          if (opts.offline) opts.offline.remember(cfg);
        } catch (e) {
          const kept = opts.offline && !(e instanceof ApiError) ? await opts.offline.recall() : null;
          if (!kept) throw e;
          cfg = Object.assign({}, kept, { offline: true });
        }
        role = cfg.role;
        showWho();
        document.body.dataset.role = cfg.role;
        input.value = ""; input.hidden = true;
        document.getElementById("signin-button").hidden = true;
        out.hidden = false;
        SF.say("");
        onReady(cfg);
      } catch (e) {
        role = null;
        who.textContent = "";
        SF.say(e.status === 401 ? SF.t("signin.failed", { msg: SF.errorText(e) })
          : SF.t("err.unreachable", { msg: SF.errorText(e) }));
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
  // The badge (#live) and body[data-live] say what is true: "connecting" (the first attempt),
  // "open" (online: the stream answered
  // within the last two pings), "reconnecting" (the first failed attempt), "offline" (the browser
  // has no network, or two attempts in a row failed); it keeps trying in every state. The
  // server pings every `ping_s` (from `hello`); silence for two pings is a dead stream.
  SF.live = function (handlers) {
    const badge = document.getElementById("live");
    let es = null, wait = 1000, timer = null, failures = 0, pingMs = 15000, lastHeard = 0;
    const state = (s) => {
      document.body.dataset.live = s;
      if (!badge) return;
      badge.dataset.state = s;
      badge.textContent = SF.t("live." + s);
    };
    SF.onLang(() => state(document.body.dataset.live || "reconnecting"));
    const heard = () => { lastHeard = Date.now(); };
    function retry() {
      failures++;
      state(failures >= 2 || navigator.onLine === false ? "offline" : "reconnecting");
      if (es) es.close();
      clearTimeout(timer);
      timer = setTimeout(connect, wait);
      wait = Math.min(wait * 2, 30000);
    }
    function connect() {
      if (es) es.close();
      heard();
      es = new EventSource("/api/v1/stream?token=" + encodeURIComponent(SF.token()));
      es.addEventListener("hello", (ev) => {
        heard();
        try { pingMs = 1000 * (JSON.parse(ev.data).ping_s || 15); } catch (e) { /* keep 15 s */ }
        wait = 1000; failures = 0; state("open");
        if (handlers.open) handlers.open();
      });
      es.addEventListener("ping", heard);
      for (const name of ["hotspots", "event", "task", "verdict", "resync"]) {
        es.addEventListener(name, (ev) => {
          heard();
          let data = {};
          try { data = JSON.parse(ev.data); } catch (e) { /* keep {} */ }
          if (handlers[name]) handlers[name](data);
        });
      }
      es.onerror = retry;
    }
    setInterval(() => {
      if (document.body.dataset.live === "open" && Date.now() - lastHeard > 2 * pingMs + 5000) retry();
    }, 5000);
    window.addEventListener("offline", () => state("offline"));
    window.addEventListener("online", () => { clearTimeout(timer); wait = 1000; connect(); });
    state("connecting");
    connect();
  };

  // A GeoJSON point's [lat, lon] for Leaflet, in the map's datum (SF.toMap of web/gcj02.js on a
  // page that loads it: the dashboard, whose basemap may be GCJ-02). For a WGS84 position to
  // compute with or send, read f.geometry.coordinates.
  SF.latlng = (f) => {
    const ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
    return SF.toMap ? SF.toMap(ll) : ll;
  };

  // Runs `fn` at most once per `ms` (the last call wins).
  SF.debounce = function (fn, ms) {
    let t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  };

  window.SF = SF;
})();
