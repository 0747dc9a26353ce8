// The patrol page's service worker (#16), served at /patrol-sw.js with the scope /patrol: the
// page and its files are kept so the page opens with no network (the task list it last saw
// comes from the page's own IndexedDB, see patrol-offline.js). `VERSION` is put in by the
// server (a hash of the page and its files): a new binary is a new worker that keeps the new
// files and drops the old ones. The API is never answered from here.
"use strict";
const VERSION = "__STRAWFIRE_VERSION__";
const CACHE = "strawfire-patrol-" + VERSION;
const SHELL = [
  "/patrol",
  "/static/app.css",
  "/static/i18n.js",
  "/static/common.js",
  "/static/gcj02.js",
  "/static/patrol-nav.js",
  "/static/patrol-offline.js",
  "/static/patrol.js",
  "/static/patrol.webmanifest",
  "/static/icons/patrol-192.png",
  "/static/icons/patrol-512.png",
  "/static/icons/patrol.svg",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
  "/static/vendor/leaflet/images/marker-icon.png",
  "/static/vendor/leaflet/images/marker-icon-2x.png",
  "/static/vendor/leaflet/images/marker-shadow.png",
  "/static/vendor/leaflet/images/layers.png",
  "/static/vendor/leaflet/images/layers-2x.png",
];
// How long the page may take from the network before the kept copy is shown.
const PAGE_WAIT_MS = 4000;

self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (ev) => {
  ev.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("strawfire-patrol-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The page: from the network when it answers in time (and kept), else the kept copy.
async function page(req) {
  const cache = await caches.open(CACHE);
  const net = fetch(req).then((r) => {
    if (r.ok) cache.put("/patrol", r.clone());
    return r;
  });
  const late = new Promise((resolve) => setTimeout(resolve, PAGE_WAIT_MS, null));
  try {
    const r = await Promise.race([net, late]);
    if (r) return r;
  } catch (e) { /* no network: the kept copy */ }
  const kept = await cache.match("/patrol");
  return kept || net;
}

// A static file: the kept copy (this version's), else the network (and kept).
async function file(req) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(req, { ignoreSearch: true });
  if (kept) return kept;
  const r = await fetch(req);
  if (r.ok) cache.put(req, r.clone());
  return r;
}

self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === "/patrol") ev.respondWith(page(ev.request));
  else if (url.pathname.startsWith("/static/")) ev.respondWith(file(ev.request));
});
