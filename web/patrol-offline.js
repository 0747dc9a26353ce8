// The patrol page in a field with no signal (#16): everything here works without the network.
// - IndexedDB "strawfire-patrol": `queue` (every action, written before anything is sent, sent in
//   order with its own Idempotency-Key when the network is there: at once, when the browser says
//   it is back online, when the live stream reconnects, on the next start, and every 20 s while
//   something waits), `drafts` (the verdict form of each task as typed, photo included, so a
//   reload loses nothing), `cache` (the last task list, boundaries and sign-in answer, per token).
// - The time and position of an action are taken when the patrol makes it (`acted_at`), not
//   when it is sent; the server records both.
// - Phone photos (4–12 MB) are made smaller here before they are kept: decoded, drawn at most
//   2048 px on the long side and encoded as JPEG, with the original's EXIF segment (time and GPS,
//   which the evidence checks read) copied into the new file, its orientation set to upright.
// - The service worker (/patrol-sw.js) keeps the page itself for opening offline.
// No word a user reads is written here: callers show messages from the catalogue.
"use strict";
(function () {
  const SF = window.SF;
  const O = {};
  const DB_NAME = "strawfire-patrol";
  let dbp = null;

  // ---- IndexedDB ----
  function db() {
    if (!dbp) {
      dbp = new Promise((resolve, reject) => {
        const r = indexedDB.open(DB_NAME, 1);
        r.onupgradeneeded = () => {
          const d = r.result;
          d.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
          d.createObjectStore("drafts", { keyPath: "id" });
          d.createObjectStore("cache", { keyPath: "name" });
        };
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
    }
    return dbp;
  }
  function done(req) {
    return new Promise((resolve, reject) => {
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  async function os(name, mode) {
    return (await db()).transaction(name, mode || "readonly").objectStore(name);
  }
  const idb = {
    all: async (name) => done((await os(name)).getAll()),
    get: async (name, key) => done((await os(name)).get(key)),
    put: async (name, v) => done((await os(name, "readwrite")).put(v)),
    add: async (name, v) => done((await os(name, "readwrite")).add(v)),
    del: async (name, key) => done((await os(name, "readwrite")).delete(key)),
  };
  O.idb = idb;

  // A random key for one action (crypto.randomUUID needs a secure context; this does not).
  O.uuid = function () {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  };

  // ---- the last things seen, per token ----
  O.remember = (name, value) => idb.put("cache", { name, token: SF.token(), value, at: Date.now() }).catch(() => {});
  O.recall = async function (name) {
    try {
      const c = await idb.get("cache", name);
      return c && c.token === SF.token() ? c : null;
    } catch (e) { return null; }
  };

  // ---- drafts: the verdict form of a task, as typed ----
  O.draft = (id) => idb.get("drafts", String(id)).catch(() => null);
  O.saveDraft = (id, d) => idb.put("drafts", Object.assign({}, d, { id: String(id), at: Date.now() })).catch(() => {});
  O.dropDraft = (id) => idb.del("drafts", String(id)).catch(() => {});

  // ---- the queue ----
  const listeners = [];
  // `fn(kind, item, detail)`: "queued", "sent" (detail: the answer), "failed" (detail: the
  // ApiError; the item is out of the queue), "waiting" (the network is not there), "changed".
  O.on = (fn) => listeners.push(fn);
  const emit = (kind, item, detail) => { for (const fn of listeners) { try { fn(kind, item, detail); } catch (e) { console.error(e); } } };

  O.pending = async function () {
    try { return (await idb.all("queue")).sort((a, b) => a.seq - b.seq); } catch (e) { return []; }
  };

  // Keeps an action for sending: `{task, kind: "ack"|"onsite"|"verdict", acted_at (ms), ...}`
  // (on site: lat, lon; verdict: verdict, lat, lon, note, photo (Blob), photoName). Then tries
  // to send the queue.
  O.enqueue = async function (item) {
    item = Object.assign({ key: O.uuid(), token: SF.token(), queued_at: Date.now() }, item);
    item.seq = await idb.add("queue", item);
    emit("queued", item);
    emit("changed");
    O.flush();
    return item;
  };

  function send(it) {
    const opts = { headers: { "Idempotency-Key": it.key }, token: it.token };
    const acted = new Date(it.acted_at).toISOString();
    const base = "/api/v1/tasks/" + it.task;
    if (it.kind === "verdict") {
      const fd = new FormData();
      fd.append("verdict", it.verdict);
      fd.append("lat", it.lat);
      fd.append("lon", it.lon);
      fd.append("acted_at", acted);
      if (it.note) fd.append("note", it.note);
      fd.append("photo", it.photo, it.photoName || "photo.jpg");
      return SF.api(base + "/verdict", Object.assign(opts, { form: fd }));
    }
    if (it.kind === "onsite") {
      return SF.api(base + "/on-site", Object.assign(opts, { json: { lat: it.lat, lon: it.lon, acted_at: acted } }));
    }
    return SF.api(base + "/ack", Object.assign(opts, { json: { acted_at: acted } }));
  }

  // A refusal that says the action happened already (another phone, the command center).
  function alreadyDone(it, e) {
    if (e.status !== 409 || it.kind === "verdict") return false;
    const past = it.kind === "ack" ? ["acknowledged", "on_site", "verified", "closed"] : ["on_site", "verified", "closed"];
    return past.includes(e.state);
  }

  let flushing = null;
  // Sends what waits, oldest first; stops at the first failure of the network (the rest waits
  // for the next try, keeping the order). Resolves to the number sent.
  O.flush = function () {
    if (!flushing) flushing = run().finally(() => { flushing = null; });
    return flushing;
  };
  async function run() {
    let sent = 0;
    for (const it of await O.pending()) {
      let answer;
      try {
        answer = await send(it);
      } catch (e) {
        const retry = !(e instanceof SF.ApiError) || e.status >= 500 || e.status === 408 || e.status === 429;
        if (retry) { emit("waiting", it, e); break; }
        await idb.del("queue", it.seq);
        if (alreadyDone(it, e)) { emit("sent", it, null); sent++; } else { emit("failed", it, e); }
        emit("changed");
        continue;
      }
      await idb.del("queue", it.seq);
      sent++;
      emit("sent", it, answer);
      emit("changed");
    }
    return sent;
  }
  window.addEventListener("online", () => O.flush());
  setInterval(async () => { if ((await O.pending()).length) O.flush(); }, 20000);

  // ---- photos ----
  const LONG_SIDE = 2048;
  const KEEP_BYTES = 2.5 * 1024 * 1024;

  // The APP1 "Exif" segment of a JPEG (marker included), or null.
  function exifSegment(b) {
    if (b[0] !== 0xff || b[1] !== 0xd8) return null;
    let i = 2;
    while (i + 4 <= b.length && b[i] === 0xff) {
      const m = b[i + 1];
      if (m === 0xda || m === 0xd9) return null; // image data: no more headers
      const len = (b[i + 2] << 8) | b[i + 3];
      if (m === 0xe1 && len > 8 && String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]) === "Exif" && b[i + 8] === 0 && b[i + 9] === 0) {
        return b.slice(i, i + 2 + len);
      }
      i += 2 + len;
    }
    return null;
  }
  // Sets the EXIF orientation (tag 0x0112 of IFD0) to 1: the pixels are drawn upright already.
  function upright(seg) {
    const t = 10; // FF E1, length, "Exif\0\0"
    const v = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
    if (seg.length < t + 8) return seg;
    const le = v.getUint16(t) === 0x4949;
    const ifd = t + v.getUint32(t + 4, le);
    if (ifd + 2 > seg.length) return seg;
    const n = v.getUint16(ifd, le);
    for (let k = 0; k < n; k++) {
      const e = ifd + 2 + 12 * k;
      if (e + 12 > seg.length) break;
      if (v.getUint16(e, le) === 0x0112) v.setUint16(e + 8, 1, le);
    }
    return seg;
  }
  // A JPEG with `seg` as its first segment (a JFIF APP0 of the encoder dropped: EXIF comes first).
  function withExif(jpeg, seg) {
    let rest = jpeg.subarray(2);
    if (rest[0] === 0xff && rest[1] === 0xe0) rest = rest.subarray(2 + ((rest[2] << 8) | rest[3]));
    const out = new Uint8Array(2 + seg.length + rest.length);
    out.set([0xff, 0xd8], 0);
    out.set(seg, 2);
    out.set(rest, 2 + seg.length);
    return out;
  }

  // A photo as it will be sent: `{blob, name, width, height, original, resized, exif}`. A large
  // or big photo is drawn again at most LONG_SIDE px on its long side as a JPEG (quality 0.85)
  // keeping its EXIF; a small one is kept as it is. A photo the browser cannot decode is kept.
  O.preparePhoto = async function (file) {
    const buf = new Uint8Array(await file.arrayBuffer());
    let bmp;
    try {
      bmp = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      return { blob: file, name: file.name, original: file.size, resized: false, exif: !!exifSegment(buf) };
    }
    const long = Math.max(bmp.width, bmp.height);
    if (long <= LONG_SIDE && file.size <= KEEP_BYTES) {
      const out = { blob: file, name: file.name, width: bmp.width, height: bmp.height, original: file.size, resized: false, exif: !!exifSegment(buf) };
      bmp.close();
      return out;
    }
    const scale = Math.min(1, LONG_SIDE / long);
    const w = Math.round(bmp.width * scale), h = Math.round(bmp.height * scale);
    const canvas = document.createElement("canvas");
    canvas.width = w; canvas.height = h;
    canvas.getContext("2d").drawImage(bmp, 0, 0, w, h);
    bmp.close();
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    let bytes = new Uint8Array(await blob.arrayBuffer());
    const seg = exifSegment(buf);
    if (seg) bytes = withExif(bytes, upright(seg));
    const name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
    return { blob: new Blob([bytes], { type: "image/jpeg" }), name, width: w, height: h, original: file.size, resized: true, exif: !!seg };
  };

  // ---- the service worker: the page opens with no network ----
  O.registerWorker = function () {
    if (!("serviceWorker" in navigator)) return Promise.resolve(null);
    return navigator.serviceWorker.register("/patrol-sw.js", { scope: "/patrol" }).catch((e) => {
      console.warn("service worker", e);
      return null;
    });
  };

  window.SFOffline = O;
})();
