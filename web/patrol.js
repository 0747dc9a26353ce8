// The patrol page, for a phone: my open tasks (list and map) with their deadline clocks,
// Acknowledge, On site (with the phone's position when the browser gives it; otherwise the
// position must be typed: never invented), and the verdict form with photo, position and time,
// posted as multipart. Errors are told in the page's language (SF.errorText, with the API's own
// detail) and mark the field the API names. Every word comes from the catalogue (SF.t).
// Offline first (#16, the section "offline" below and patrol-offline.js): every action goes
// into a queue in IndexedDB before it is sent, with the time (and position) of the moment it was
// made; the cards show what waits ("待发送"); the verdict form is kept as a draft (photo too);
// the last task list and the patrol's record are shown when the server cannot be reached.
"use strict";
(function () {
  const SF = window.SF;
  const O = window.SFOffline;
  const tr = SF.t; // `t` is a task below
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map");
  // No zoom animation: a vector drawn while one runs (a parcel, patrol-nav.js) lands at the old
  // zoom's pixels, and a phone gains nothing from the animation.
  const map = L.map(mapEl, { zoomControl: false, zoomAnimation: false }).setView([35.55, 114.7], 10);
  let zoom = null;
  function addZoom() {
    if (zoom) zoom.remove();
    zoom = L.control.zoom({ zoomInTitle: tr("map.zoom_in"), zoomOutTitle: tr("map.zoom_out") }).addTo(map);
  }
  addZoom();
  map.attributionControl.setPrefix(false);
  // Drawn in the basemap's datum (web/gcj02.js), like the pins.
  const unitLayer = L.geoJSON(null, { style: { color: "#607d8b", weight: 1, fill: false }, interactive: false, coordsToLatLng: SF.coordsToMap }).addTo(map);
  const parcelLayer = L.layerGroup().addTo(map);
  const taskLayer = L.layerGroup().addTo(map);
  // geoNote: what the page knows about the phone's position, in the page's language.
  const state = { tasks: [], position: null, geoNote: null, units: {}, pending: [], photos: new Map() };
  const geoNote = () => state.geoNote ? state.geoNote() : "";

  // The phone's position, when the browser allows it. Resolves to null otherwise.
  function locate() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { state.geoNote = () => tr("geo.none"); return resolve(null); }
      navigator.geolocation.getCurrentPosition(
        (p) => { state.position = p.coords; state.geoNote = () => tr("geo.ok", { m: Math.round(p.coords.accuracy) }); resolve(p.coords); },
        (e) => { state.geoNote = () => tr("geo.failed", { msg: e.message }); resolve(null); },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  // Marks the input an API error names and shows the error text (the server's `message_zh` on a
  // Chinese page; its English detail and the problems it lists on an English one).
  function showError(card, scope, e) {
    const out = card.querySelector(".result");
    out.className = "result error";
    const english = SF.lang() !== "zh-CN" && e.details && e.details.length;
    out.textContent = SF.errorText(e) + (english ? " (" + e.details.join("; ") + ")" : "");
    for (const el of scope.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    if (e.field) {
      const el = scope.querySelector("[name='" + e.field + "'], ." + CSS.escape("onsite-" + e.field));
      if (el) { el.setAttribute("aria-invalid", "true"); el.focus(); }
    }
  }
  function showOk(card, text) {
    const out = card.querySelector(".result");
    out.className = "result ok";
    out.textContent = text;
  }

  // Cards with a form open, by task id: a redraw must not lose what the patrol was typing.
  function openCards() {
    const open = new Map();
    for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) {
      if ([...card.querySelectorAll(".verdict-form, .onsite-form")].some((f) => !f.hidden)) {
        open.set(card.dataset.taskId, card);
      }
    }
    return open;
  }

  // Moves what was typed (and the chosen photo) from an old card's open forms to a new one.
  function carryOver(from, to) {
    for (const sel of [".verdict-form", ".onsite-form"]) {
      const a = from.querySelector(sel), b = to.querySelector(sel);
      if (!a || !b || a.hidden) continue;
      b.hidden = false;
      const note = a.querySelector(".geo-note"), noteTo = b.querySelector(".geo-note");
      if (note && noteTo) noteTo.textContent = note.textContent;
      const fields = a.querySelectorAll("input, select, textarea");
      const targets = b.querySelectorAll("input, select, textarea");
      fields.forEach((el, i) => {
        const t = targets[i];
        if (!t) return;
        if (el.type === "file") { if (el.files && el.files.length) t.files = el.files; }
        else t.value = el.value;
      });
    }
  }

  function render() {
    const list = $("tasks");
    const open = openCards();
    list.textContent = "";
    taskLayer.clearLayers();
    const tpl = $("task-card");
    const tasks = state.tasks.slice().sort((a, b) =>
      (Date.parse(a.properties.next_due) || Infinity) - (Date.parse(b.properties.next_due) || Infinity));
    if (!tasks.length) {
      list.innerHTML = "<li class='muted card'>" + SF.esc(tr("task.none")) + "</li>";
    }
    for (const f of tasks) {
      const t = f.properties;
      const n = tasks.indexOf(f) + 1; // the card's number, the same as its pin's (SF.nav)
      // The language is part of it: after a switch every card is drawn again in the new words.
      const fingerprint = SF.lang() + JSON.stringify(f);
      const old = open.get(String(t.id));
      if (old && old.dataset.fingerprint === fingerprint) {
        // Nothing changed for this task: keep its card as it is, open form and all.
        list.appendChild(old);
        SF.nav.card(old, f, n);
        addMarker(f, old, n);
        showPending(old, t);
        continue;
      }
      const card = tpl.content.firstElementChild.cloneNode(true);
      card.dataset.taskId = t.id;
      card.dataset.fingerprint = fingerprint;
      SF.translate(card);
      card.querySelector(".task-title").textContent = tr("task.title", { id: t.id }) + (t.priority === "high" ? " · " + tr("priority.high") : "");
      const st = card.querySelector(".state");
      st.textContent = SF.has("state." + t.state) ? tr("state." + t.state) : t.state;
      st.dataset.state = t.state;
      const [lon, lat] = f.geometry.coordinates; // WGS84, as stored
      const unit = state.units[t.unit] ? state.units[t.unit] + " " + t.unit : t.unit;
      card.querySelector(".where").textContent = tr("task.where", { unit, time: SF.time(t.created_at) });
      card.querySelector(".position").textContent = tr("task.position", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
      SF.nav.card(card, f, n);
      const ack = card.querySelector(".ack"), onsite = card.querySelector(".onsite");
      ack.disabled = !["new", "notified"].includes(t.state);
      onsite.disabled = !["new", "notified", "acknowledged"].includes(t.state);

      ack.addEventListener("click", () => queueAck(card, t));

      const onsiteForm = card.querySelector(".onsite-form");
      onsite.addEventListener("click", async () => {
        onsiteForm.hidden = false;
        const pos = await locate();
        onsiteForm.querySelector(".geo-note").textContent = geoNote();
        if (pos) {
          onsiteForm.querySelector(".onsite-lat").value = pos.latitude.toFixed(6);
          onsiteForm.querySelector(".onsite-lon").value = pos.longitude.toFixed(6);
        }
      });
      card.querySelector(".onsite-send").addEventListener("click", async () => {
        const lat = Number(onsiteForm.querySelector(".onsite-lat").value);
        const lon = Number(onsiteForm.querySelector(".onsite-lon").value);
        if (!onsiteForm.querySelector(".onsite-lat").value || !isFinite(lat)) return showError(card, onsiteForm, { message: tr("err.type_lat"), field: "lat" });
        if (!onsiteForm.querySelector(".onsite-lon").value || !isFinite(lon)) return showError(card, onsiteForm, { message: tr("err.type_lon"), field: "lon" });
        queueOnsite(card, t, lat, lon);
      });

      const form = card.querySelector(".verdict-form");
      card.querySelector(".open-verdict").addEventListener("click", async () => {
        form.hidden = !form.hidden;
        if (form.hidden) return;
        // The time field shows the deployment's clock (北京时间), like every time on the page.
        form.elements.time.value = SF.zoneInput(Date.now());
        const pos = await locate();
        form.querySelector(".geo-note").textContent = geoNote();
        if (pos && !form.elements.lat.value) {
          form.elements.lat.value = pos.latitude.toFixed(6);
          form.elements.lon.value = pos.longitude.toFixed(6);
        }
      });
      form.addEventListener("submit", (ev) => { ev.preventDefault(); queueVerdict(card, t, form); });
      offlineCard(card, t, form, !!old);

      if (old) carryOver(old, card);
      addMarker(f, card, n);
      list.appendChild(card);
    }
    mapEl.dataset.tasks = String(tasks.length);
    if (tasks.length) map.fitBounds(L.latLngBounds(tasks.map(SF.latlng)).pad(0.3), { maxZoom: 14 });
    SF.nav.parcels(map, parcelLayer, tasks);
    tick();
  }

  function addMarker(f, card, n) {
    const t = f.properties;
    const m = SF.nav.pin(f, n, tr("task.title", { id: t.id })).addTo(taskLayer);
    m.bindPopup(() => SF.esc(tr("task.title", { id: t.id })) + " · " + SF.esc(SF.has("state." + t.state) ? tr("state." + t.state) : t.state));
    m.on("click", () => { card.scrollIntoView({ behavior: "smooth" }); card.classList.add("active"); });
  }

  function tick() {
    const now = Date.now();
    for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) {
      const f = state.tasks.find((x) => String(x.properties.id) === card.dataset.taskId);
      if (!f) continue;
      const c = SF.clock(f.properties.next_due, now);
      // Which deadline the clock is for (after a verdict sent back: on site again).
      const name = card.querySelector(".due-name");
      if (name) name.textContent = f.properties.next_deadline ? tr("deadline." + f.properties.next_deadline) : "";
      const el = card.querySelector(".clock");
      el.textContent = c.text;
      el.className = "clock" + (c.overdue || f.properties.overdue ? " overdue" : "") + (c.none ? " none" : "");
    }
  }
  setInterval(tick, 1000);

  // Redraws when the tasks changed; cards with an open form keep what was typed (`render`).
  async function load() {
    state.pending = await O.pending();
    try {
      const fc = await SF.apiAll("/api/v1/tasks?status=open");
      O.remember("tasks", fc.features);
      state.tasksAt = null;
      const same = JSON.stringify(fc.features) === JSON.stringify(state.tasks);
      state.tasks = fc.features;
      if (!same || !document.querySelector("#tasks .card")) render();
    } catch (e) {
      if (!(e instanceof SF.ApiError)) return loadKept();
      SF.say(e.status === 404 ? tr("err.tasks_unavailable") : tr("err.tasks", { msg: SF.errorText(e) }));
    }
    showSync();
    loadRecord();
  }

  // A new language: the cards are drawn again (typed values carried over, `render`).
  SF.onLang(() => {
    addZoom();
    if (state.tasks.length || document.querySelector("#tasks .card")) render();
  });

  let started = false;
  SF.patrolMap = map; // for the console and the browser tests
  SF.signin(async (cfg) => {
    if (!started) SF.basemap(map, cfg);
    let units = null;
    try {
      units = await SF.api("/api/v1/units?level=township");
      O.remember("units", units);
    } catch (e) {
      const kept = await O.recall("units"); // the map works without boundaries
      if (kept) units = kept.value;
    }
    if (units) {
      unitLayer.clearLayers();
      unitLayer.addData(units);
      for (const u of units.features) state.units[u.properties.code] = u.properties.name;
    }
    await load();
    O.flush(); // what waited since the last time the page was open
    if (started) return;
    started = true;
    // An event in my township may have made a task for me; a stream that opens again means the
    // server is back: what waits is sent.
    SF.live({ open: () => { O.flush(); load(); }, event: load, task: load, verdict: load, resync: load });
  }, {
    offline: {
      remember: (cfg) => O.remember("config", cfg),
      recall: async () => { const c = await O.recall("config"); return c && c.value; },
    },
  });
  O.registerWorker();

  // ---- offline (#16) ----
  const what = (kind) => kind === "ack" ? tr("queue.ack") : kind === "onsite" ? tr("queue.onsite") : tr("queue.verdict");
  const doneWhat = (kind) => kind === "ack" ? tr("done.ack") : kind === "onsite" ? tr("done.onsite") : tr("done.verdict");
  const cardOf = (id) => document.querySelector("#tasks .card[data-task-id='" + id + "']");

  // The tasks last seen, when the server cannot be reached: cards, clocks and pins as they were.
  async function loadKept() {
    const kept = await O.recall("tasks");
    if (kept) {
      state.tasksAt = kept.at;
      if (JSON.stringify(kept.value) !== JSON.stringify(state.tasks) || !document.querySelector("#tasks .card")) {
        state.tasks = kept.value;
        render();
      }
    } else {
      SF.say(tr("err.tasks", { msg: tr("err.network") }));
    }
    showSync();
    loadRecord();
  }

  // The line under the header: how many actions wait, and since when the list is old.
  function showSync() {
    const parts = [];
    if (state.tasksAt) parts.push(tr("offline.tasks", { time: SF.time(state.tasksAt) }));
    if (state.pending.length) parts.push(tr("queue.count", { n: state.pending.length }));
    $("sync").textContent = parts.join(" · ");
    document.body.dataset.pending = String(state.pending.length);
  }

  // What waits to be sent for this task, on its card; the buttons of what waits are off.
  function showPending(card, t) {
    const mine = state.pending.filter((p) => String(p.task) === String(t.id));
    const ul = card.querySelector(".pending");
    ul.textContent = "";
    for (const p of mine) {
      const li = document.createElement("li");
      li.dataset.kind = p.kind;
      li.textContent = tr("queue.item", { what: what(p.kind), time: SF.time(p.acted_at, { bare: true }) });
      ul.appendChild(li);
    }
    ul.hidden = !mine.length;
    card.dataset.pending = String(mine.length);
    const waits = (k) => mine.some((p) => p.kind === k);
    const ack = card.querySelector(".ack"), onsite = card.querySelector(".onsite");
    if (waits("ack") || waits("onsite") || waits("verdict")) ack.disabled = true;
    if (waits("onsite") || waits("verdict")) onsite.disabled = true;
    card.querySelector(".open-verdict").disabled = waits("verdict");
  }

  async function queued(card, t, item) {
    try {
      await O.enqueue(Object.assign({ task: t.id, acted_at: Date.now() }, item));
      showOk(card, tr("queue.saved"));
    } catch (e) { showError(card, card, e); }
  }
  function queueAck(card, t) { return queued(card, t, { kind: "ack" }); }
  function queueOnsite(card, t, lat, lon) {
    card.querySelector(".onsite-form").hidden = true;
    return queued(card, t, { kind: "onsite", lat, lon });
  }

  // The verdict into the queue, checked first (what the server would refuse for sure is said here,
  // also offline), with the time the form says (the moment it was opened, or as corrected).
  async function queueVerdict(card, t, form) {
    const el = form.elements;
    const fail = (field, msg) => showError(card, form, { message: tr("err.field", { field: tr("field." + field), msg }), field });
    if (!el.verdict.value) return fail("verdict", tr("err.choose_verdict"));
    const lat = el.lat.value.trim(), lon = el.lon.value.trim();
    if (!lat || !isFinite(Number(lat))) return fail("lat", tr("err.type_lat"));
    if (!lon || !isFinite(Number(lon))) return fail("lon", tr("err.type_lon"));
    let photo = state.photos.get(String(t.id));
    if (photo) photo = await photo;
    if (!photo && el.photo.files[0]) photo = { blob: el.photo.files[0], name: el.photo.files[0].name };
    if (!photo) return fail("photo", tr("err.photo_missing"));
    const at = el.time.value ? SF.fromZoneInput(el.time.value) : Date.now();
    const button = form.querySelector(".send-verdict");
    button.disabled = true;
    try {
      await queued(card, t, {
        kind: "verdict", acted_at: isFinite(at) ? at : Date.now(),
        verdict: el.verdict.value, lat, lon, note: el.note.value.trim(), photo: photo.blob, photoName: photo.name,
      });
      form.hidden = true;
      await O.dropDraft(t.id);
    } finally {
      button.disabled = false;
    }
  }

  // A card's offline parts: what waits, the photo made ready to send, the form kept as a draft
  // (and brought back after a reload, or after the server refused what was queued).
  function offlineCard(card, t, form, carried) {
    showPending(card, t);
    const el = form.elements;
    const id = String(t.id);
    const photoNote = form.querySelector(".photo-note"), preview = form.querySelector(".photo-preview");
    const showPhoto = (p) => {
      if (!p) return;
      photoNote.textContent = p.resized
        ? tr("photo.resized", { w: p.width, h: p.height, kb: Math.round(p.blob.size / 1024), mb: (p.original / 1048576).toFixed(1) })
        : "";
      if (p.exif === false) photoNote.textContent += (photoNote.textContent ? "；" : "") + tr("photo.no_exif");
      if (preview.src) URL.revokeObjectURL(preview.src);
      preview.src = URL.createObjectURL(p.blob);
      preview.hidden = false;
      form.dataset.photo = p.resized ? "resized" : "kept";
    };
    const save = async () => {
      const p = state.photos.get(id);
      const ready = p ? await p.catch(() => null) : null;
      O.saveDraft(id, {
        open: !form.hidden, verdict: el.verdict.value, lat: el.lat.value, lon: el.lon.value, time: el.time.value,
        note: el.note.value, photo: ready && ready.blob, photoName: ready && ready.name,
        photoInfo: ready && { width: ready.width, height: ready.height, original: ready.original, resized: ready.resized, exif: ready.exif },
      });
    };
    el.photo.addEventListener("change", () => {
      const file = el.photo.files[0];
      if (!file) return;
      const p = O.preparePhoto(file);
      state.photos.set(id, p);
      form.dataset.photo = "preparing";
      p.then((ready) => { showPhoto(ready); save(); },
        (e) => { photoNote.textContent = tr("photo.failed", { msg: String(e && e.message || e) }); state.photos.delete(id); form.dataset.photo = ""; });
    });
    form.addEventListener("input", (ev) => { if (ev.target !== el.photo) save(); });
    form.addEventListener("change", (ev) => { if (ev.target !== el.photo) save(); });
    card.querySelector(".open-verdict").addEventListener("click", () => setTimeout(save, 0));
    const kept = state.photos.get(id);
    if (kept) kept.then(showPhoto, () => {});
    if (carried) return;
    O.draft(id).then((d) => {
      if (!d || !d.open || !card.isConnected) return;
      form.hidden = false;
      for (const k of ["verdict", "lat", "lon", "time", "note"]) if (d[k] != null && !el[k].value) el[k].value = d[k];
      if (d.photo && !el.photo.files.length) {
        const file = new File([d.photo], d.photoName || "photo.jpg", { type: d.photo.type || "image/jpeg" });
        try { const dt = new DataTransfer(); dt.items.add(file); el.photo.files = dt.files; } catch (e) { /* the preview still shows it */ }
        const ready = Object.assign({ blob: d.photo, name: d.photoName }, d.photoInfo || {});
        state.photos.set(id, Promise.resolve(ready));
        showPhoto(ready);
      }
      if (d.error) showError(card, form, d.error);
      form.dataset.restored = "true";
    });
  }

  O.on(async (kind, it, detail) => {
    if (kind === "changed") {
      state.pending = await O.pending();
      for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) showPending(card, { id: card.dataset.taskId });
      showSync();
      return;
    }
    if (kind === "sent") {
      const card = cardOf(it.task);
      const flags = (detail && detail.flags) || [];
      const flagName = (x) => SF.has("flag." + x.flag) ? tr("flag." + x.flag) : (x.flag || JSON.stringify(x));
      const said = tr("done.said", { id: it.task, what: doneWhat(it.kind) }) +
        (flags.length ? tr("done.flags", { flags: flags.map(flagName).join("；") }) : "");
      if (card) showOk(card, said);
      SF.say(said, true);
      if (it.kind === "verdict") document.body.dataset.lastVerdict = String(it.task);
      load();
      return;
    }
    if (kind === "failed") {
      const card = cardOf(it.task);
      if (it.kind === "verdict") {
        // Back into the form, with the server's words: nothing typed or photographed is lost.
        await O.saveDraft(it.task, {
          open: true, verdict: it.verdict, lat: it.lat, lon: it.lon, time: SF.zoneInput(it.acted_at), note: it.note,
          photo: it.photo, photoName: it.photoName, error: { message: SF.errorText(detail), field: detail.field, status: detail.status },
        });
        state.photos.delete(String(it.task));
        if (card) {
          const form = card.querySelector(".verdict-form");
          for (const el of form.querySelectorAll("input:not([type=file]), select")) el.value = "";
          card.dataset.fingerprint = "";
        }
        render();
      } else if (card) {
        showError(card, card, detail);
      }
      SF.say(tr("queue.failed", { what: what(it.kind), msg: SF.errorText(detail) }));
    }
  });

  // The patrol's record: the verdicts this token filed, newest first, in the deployment's zone.
  async function loadRecord() {
    let list, note = "";
    try {
      list = (await SF.api("/api/v1/verdicts/mine")).verdicts;
      O.remember("record", list);
    } catch (e) {
      const kept = await O.recall("record");
      if (!kept) return;
      list = kept.value;
      note = tr("record.offline");
    }
    const ul = $("record-list");
    ul.textContent = "";
    document.querySelector("#record .record-note").textContent = note;
    if (!list.length) {
      const li = document.createElement("li");
      li.className = "card muted";
      li.textContent = tr("record.none");
      ul.appendChild(li);
    }
    for (const v of list) {
      const li = document.createElement("li");
      li.className = "card";
      li.dataset.taskId = v.task_id;
      const head = document.createElement("strong");
      head.textContent = tr("record.item", { id: v.task_id, verdict: SF.has("verdict." + v.verdict) ? tr("verdict." + v.verdict) : v.verdict });
      li.appendChild(head);
      if (v.review) {
        const r = document.createElement("span");
        r.className = "review";
        r.textContent = tr("record.review");
        li.appendChild(r);
      }
      const times = document.createElement("div");
      times.className = "muted times";
      times.textContent = tr("record.times", { reported: SF.time(v.reported_at), received: SF.time(v.received_at) });
      li.appendChild(times);
      if (v.note) {
        const n = document.createElement("div");
        n.textContent = v.note;
        li.appendChild(n);
      }
      ul.appendChild(li);
    }
    document.body.dataset.record = String(list.length);
  }
  SF.onLang(() => { loadRecord(); showSync(); });
})();
