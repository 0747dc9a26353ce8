// The command center's work on fires and verdicts (#17), beside the map of dashboard.js:
// - the events list, one page at a time from GET /events (its cursor), filtered by the task's
//   state or the reason an event has none, each event saying which;
// - the action panel: a task made by hand for a task-less event, a task reassigned to another
//   township or cancelled, each with a reason (the server audits it);
// - the review of verdicts: photo (fetched with the token, shown as a blob URL), note, GPS
//   distance, times, evidence flags with their reasons; close, send back, reopen.
// It follows the dashboard's filters and refreshes when the dashboard redraws events or tasks
// (the map's data-events/data-tasks counters), so the two scripts share no state but SF.dash.
"use strict";
(function () {
  const SF = window.SF;
  const t = SF.t;
  const $ = (id) => document.getElementById(id);
  const PAGE = 50;
  const REVIEW_PAGE = 20;
  const STATES = ["new", "notified", "acknowledged", "on_site", "verified", "closed", "cancelled"];
  const REASONS = ["too_old", "masked", "not_on_farmland", "outside_units", "low_confidence"];
  const ev = { cursors: [null], page: 0, features: [] };
  const rv = { cursors: [null], page: 0 };
  const townships = {}; // code → {name, parent}
  let selected = null; // {kind: "event"|"task", id, ...}
  let started = false;

  const role = () => document.body.dataset.role || "";
  const commandCenter = () => role() === "admin" || role().startsWith("county:");
  const stateName = (s) => t("state." + s);
  const reasonText = (p) => {
    const r = SF.has("task_reason." + p.task_reason) ? t("task_reason." + p.task_reason) : p.task_reason;
    return p.task_reason === "masked" && p.mask ? r + t("ops.masked_by", { mask: p.mask }) : r;
  };
  const unitLabel = (code) => {
    const u = code && ((SF.dash && SF.dash.units[code]) || townships[code]);
    return u ? u.name : code || t("unit.unknown");
  };

  // ---- the events list ----
  function fillFilter() {
    const sel = $("event-filter");
    const keep = sel.value;
    sel.textContent = "";
    const add = (value, text) => {
      const o = document.createElement("option");
      o.value = value;
      o.textContent = text;
      sel.appendChild(o);
    };
    for (const v of ["", "any", "none", "open"]) add(v, t("ops.filter." + (v || "all")));
    for (const s of STATES) add(s, t("ops.filter.state", { state: stateName(s) }));
    for (const r of REASONS) add(r, t("event.no_task", { reason: t("task_reason." + r) }));
    sel.value = keep;
  }

  async function loadEvents() {
    const q = SF.dash ? SF.dash.timeQuery() : new URLSearchParams();
    if ($("event-filter").value) q.set("task", $("event-filter").value);
    q.set("order", "newest");
    q.set("limit", String(PAGE));
    const cursor = ev.cursors[ev.page];
    if (cursor) q.set("cursor", cursor);
    let fc;
    try {
      fc = await SF.api("/api/v1/events?" + q);
    } catch (e) {
      SF.say(t("err.events", { msg: SF.errorText(e) }));
      return;
    }
    ev.features = fc.features;
    ev.cursors[ev.page + 1] = fc.next || null;
    ev.cursors.length = ev.page + 2;
    const list = $("events");
    list.textContent = "";
    for (const f of fc.features) {
      const p = f.properties;
      const li = document.createElement("li");
      li.className = "event-item" + (p.task_id ? " has-task" : " no-task");
      li.dataset.eventId = p.id;
      if (p.task_id) li.dataset.taskId = p.task_id;
      const what = document.createElement("span");
      what.textContent = t("event.item", {
        id: p.id, n: p.sightings, ago: SF.ago(p.last_seen), unit: unitLabel(p.township || p.county),
      });
      const badge = document.createElement("span");
      badge.className = "badge " + (p.task_id ? "state-" + p.task_state : "reason");
      badge.textContent = p.task_id
        ? t("ops.task_badge", { id: p.task_id, state: stateName(p.task_state) })
        : p.task_reason ? t("event.no_task", { reason: reasonText(p) }) : t("ops.no_decision");
      li.append(what, " ", badge);
      li.addEventListener("click", () => {
        if (SF.dash) SF.dash.focus(SF.latlng(f));
        select(p.task_id ? { kind: "task", id: p.task_id } : { kind: "event", id: p.id, p });
      });
      list.appendChild(li);
    }
    $("event-count").textContent = "(" + fc.features.length + (fc.next ? "+" : "") + ")";
    $("event-page").textContent = t("ops.page", { n: ev.page + 1 });
    $("event-prev").disabled = ev.page === 0;
    $("event-next").disabled = !fc.next;
    $("events").dataset.page = String(ev.page + 1);
    $("events").dataset.count = String(fc.features.length);
  }
  function firstPage() { ev.cursors = [null]; ev.page = 0; loadEvents(); }

  // ---- townships for the unit choice (the caller's scope only) ----
  async function loadTownships() {
    try {
      const fc = await SF.apiAll("/api/v1/units?level=township");
      for (const f of fc.features) townships[f.properties.code] = f.properties;
    } catch (e) { /* no township layer: the event's own unit only */ }
  }
  function unitChoice(current, county) {
    const sel = document.createElement("select");
    sel.id = "ops-unit";
    const codes = Object.keys(townships)
      .filter((c) => !county || townships[c].parent === county || c.startsWith(county))
      .sort();
    if (current && !codes.includes(current)) codes.unshift(current);
    for (const c of codes) {
      const o = document.createElement("option");
      o.value = c;
      o.textContent = unitLabel(c) + " " + c;
      sel.appendChild(o);
    }
    sel.value = current || "";
    return sel;
  }

  // ---- the action panel ----
  // It shows the task as it is now: a live update of the task (another operator, the patrol, the
  // escalation sweep) draws it again, keeping what the operator typed and chose, and says what
  // changed. Each move sends the `version` the panel showed as `expect`; a task changed since is
  // refused by the server (409 `stale`, its words shown) and the panel is drawn again.
  let current = null; // the task the panel shows (its moves act on this one)
  async function select(what) {
    const box = $("ops-panel");
    const again = selected && selected.kind === what.kind && selected.id === what.id;
    // Kept: the typed reason, and the township only if the operator chose another than shown.
    const shownUnit = box.dataset.unit;
    const chosen = $("ops-unit") && $("ops-unit").value;
    const kept = again && $("ops-reason") ? { reason: $("ops-reason").value, unit: chosen && chosen !== shownUnit ? chosen : null } : null;
    selected = what;
    if (what.kind === "event") {
      current = null;
      box.textContent = "";
      box.dataset.kind = what.kind;
      box.dataset.id = what.id;
      delete box.dataset.version;
      const p = what.p;
      box.dataset.unit = p.township || "";
      const head = document.createElement("p");
      const body = document.createElement("div");
      box.append(head, body);
      head.textContent = t("event.title", { id: p.id }) + " · " + unitLabel(p.township || p.county) + " · " +
        (p.task_reason ? t("event.no_task", { reason: reasonText(p) }) : t("ops.no_decision"));
      if (!commandCenter()) { body.textContent = t("ops.read_only"); return; }
      form(body, p.township || "", p.county, [["ops-create", t("ops.create"), () => create(p)]]);
      restore(kept);
      return;
    }
    let task;
    try {
      task = (await SF.api("/api/v1/tasks/" + what.id)).properties;
    } catch (e) {
      if (selected !== what) return;
      current = null;
      box.textContent = "";
      const head = document.createElement("p");
      head.textContent = SF.errorText(e);
      box.appendChild(head);
      return;
    }
    if (selected !== what) return;
    const before = again && current && current.id === task.id ? current : null;
    const open = (s) => !["verified", "closed", "cancelled"].includes(s);
    current = task;
    box.dataset.kind = what.kind;
    box.dataset.id = what.id;
    box.dataset.state = task.state;
    box.dataset.unit = task.unit;
    box.dataset.version = task.version;
    const headText = t("task.title", { id: task.id }) + " · " + unitLabel(task.unit) + " · " + stateName(task.state) +
      (task.escalations && task.escalations.length ? " · " + t("task.escalated") : "");
    const changed = before && before.version !== task.version ? (before.unit !== task.unit
      ? t("ops.changed_unit", { unit: unitLabel(task.unit), state: stateName(task.state) })
      : t("ops.changed", { state: stateName(task.state) })) : null;
    // Still open and its form on screen: updated in place, so what the operator is typing keeps
    // its focus and caret.
    if (before && open(before.state) && open(task.state) && commandCenter() && $("ops-reason")) {
      box.querySelector(".ops-head").textContent = headText;
      if (changed) {
        let note = box.querySelector(".ops-changed");
        if (!note) {
          note = document.createElement("p");
          note.className = "ops-changed";
          box.insertBefore(note, box.querySelector(".ops-head").nextSibling);
        }
        note.textContent = changed;
      }
      const sel = $("ops-unit");
      if (sel.value === before.unit) {
        if (![...sel.options].some((o) => o.value === task.unit)) {
          const o = document.createElement("option");
          o.value = task.unit;
          o.textContent = unitLabel(task.unit) + " " + task.unit;
          sel.insertBefore(o, sel.firstChild);
        }
        sel.value = task.unit;
      }
      return;
    }
    box.textContent = "";
    const head = document.createElement("p");
    head.className = "ops-head";
    head.textContent = headText;
    const body = document.createElement("div");
    box.append(head, body);
    if (changed) {
      const note = document.createElement("p");
      note.className = "ops-changed";
      note.textContent = changed;
      box.insertBefore(note, body);
    }
    if (!commandCenter()) { body.textContent = t("ops.read_only"); return; }
    if (!open(task.state)) {
      body.appendChild(document.createTextNode(t("ops.not_open")));
      return;
    }
    form(body, task.unit, task.county, [
      ["ops-reassign", t("ops.reassign"), () => reassign(current)],
      ["ops-cancel", t("ops.cancel"), () => cancel(current)],
    ]);
    restore(kept);
  }
  // What the operator had typed and chosen, back into the redrawn form.
  function restore(kept) {
    if (!kept) return;
    if (kept.reason && $("ops-reason")) $("ops-reason").value = kept.reason;
    const sel = $("ops-unit");
    if (kept.unit && sel && [...sel.options].some((o) => o.value === kept.unit)) sel.value = kept.unit;
  }
  // A live update of a task: the panel showing it is drawn again.
  function taskChanged(id) {
    if (selected && selected.kind === "task" && Number(selected.id) === Number(id)) select(selected);
  }
  document.addEventListener("sf:live", (ev) => {
    const d = ev.detail || {};
    if (d.kind === "resync" && selected && selected.kind === "task") select(selected);
    else if (d.kind === "task") taskChanged(d.data.id);
    else if (d.kind === "verdict") taskChanged(d.data.task_id);
  });

  function form(body, unit, county, buttons) {
    const unitLine = document.createElement("label");
    const unitWord = document.createElement("span");
    unitWord.textContent = t("ops.unit");
    unitLine.append(unitWord, " ", unitChoice(unit, county));
    const reasonLine = document.createElement("label");
    const reasonWord = document.createElement("span");
    reasonWord.textContent = t("ops.reason");
    const reason = document.createElement("input");
    reason.id = "ops-reason";
    reason.placeholder = t("ops.reason_placeholder");
    reason.maxLength = 500;
    reasonLine.append(reasonWord, " ", reason);
    const row = document.createElement("div");
    row.className = "row";
    for (const [id, text, fn] of buttons) {
      const b = document.createElement("button");
      b.type = "button";
      b.id = id;
      b.textContent = text;
      b.addEventListener("click", fn);
      row.appendChild(b);
    }
    body.append(unitLine, reasonLine, row);
  }

  function reasonOrSay() {
    const r = $("ops-reason").value.trim();
    if (!r) { SF.say(t("ops.need_reason")); $("ops-reason").focus(); }
    return r;
  }

  async function act(path, json, done) {
    try {
      const out = await SF.api(path, { json });
      SF.say(done(out.properties), true);
      SF.dash && SF.dash.reload();
      firstPage();
      select({ kind: "task", id: out.properties.id });
    } catch (e) {
      SF.say(SF.errorText(e));
      // Refused on an old picture of the task: show it as it is now (what was typed is kept).
      if (e.code === "stale" && selected) select(selected);
    }
  }
  function create(p) {
    const reason = reasonOrSay();
    if (!reason) return;
    const unit = $("ops-unit").value;
    const json = { reason };
    if (unit && unit !== p.township) json.unit = unit;
    act("/api/v1/events/" + p.id + "/task", json, (task) => t("ops.created", { id: task.id, event: p.id }));
  }
  function reassign(task) {
    const reason = reasonOrSay();
    if (!reason) return;
    const unit = $("ops-unit").value;
    act("/api/v1/tasks/" + task.id + "/reassign", { unit, reason, expect: task.version },
      (x) => t("ops.reassigned", { id: x.id, unit: unitLabel(x.unit) }));
  }
  function cancel(task) {
    const reason = reasonOrSay();
    if (!reason) return;
    act("/api/v1/tasks/" + task.id + "/cancel", { reason, expect: task.version }, (x) => t("ops.cancelled", { id: x.id }));
  }

  // ---- the review of verdicts ----
  const REVIEW_QUERY = {
    flagged: { status: "verified", review: "true" },
    verified: { status: "verified" },
    closed: { status: "closed" },
  };
  const photoUrls = [];

  function flagText(f) {
    const name = SF.has("flag." + f.flag) ? t("flag." + f.flag) : f.flag;
    if (f.distance_m != null) return name + t("review.detail.distance", { m: Math.round(f.distance_m) });
    if (f.other_task != null) return name + t("review.detail.other_task", { id: f.other_task });
    if (f.gap_min != null) return name + t("review.detail.gap", { n: f.gap_min });
    return name;
  }

  async function loadReview() {
    const q = new URLSearchParams(REVIEW_QUERY[$("review-filter").value]);
    if ($("unit").value) q.set("unit", $("unit").value);
    q.set("limit", String(REVIEW_PAGE));
    const cursor = rv.cursors[rv.page];
    if (cursor) q.set("cursor", cursor);
    let fc;
    try {
      fc = await SF.api("/api/v1/tasks?" + q);
    } catch (e) {
      $("review-list").textContent = SF.errorText(e);
      return;
    }
    rv.cursors[rv.page + 1] = fc.next || null;
    rv.cursors.length = rv.page + 2;
    for (const u of photoUrls.splice(0)) URL.revokeObjectURL(u);
    const list = $("review-list");
    list.textContent = "";
    if (!fc.features.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = t("review.empty");
      list.appendChild(li);
    }
    for (const f of fc.features) list.appendChild(reviewCard(f.properties));
    $("review-page").textContent = t("ops.page", { n: rv.page + 1 });
    $("review-prev").disabled = rv.page === 0;
    $("review-next").disabled = !fc.next;
    list.dataset.count = String(fc.features.length);
  }

  function line(text, cls) {
    const p = document.createElement("p");
    if (cls) p.className = cls;
    p.textContent = text;
    return p;
  }

  function reviewCard(task) {
    const li = document.createElement("li");
    li.className = "review-card" + (task.review ? " flagged" : "");
    li.dataset.taskId = task.id;
    li.dataset.state = task.state;
    const img = document.createElement("img");
    img.className = "review-photo";
    img.alt = t("review.photo_alt");
    const text = document.createElement("div");
    text.className = "review-text";
    li.append(img, text);
    text.appendChild(line(t("review.title", {
      id: task.id, unit: unitLabel(task.unit),
      verdict: task.verdict ? t("verdict." + task.verdict) : "–",
    }), "review-head"));
    // The verdict's facts and the photo come with the task (GET /tasks/{id}, /photo).
    (async () => {
      try {
        const v = (await SF.api("/api/v1/tasks/" + task.id)).properties.verdict;
        if (!v) return;
        text.appendChild(line(v.note ? t("review.note", { note: v.note }) : t("review.no_note"), "review-note"));
        text.appendChild(line(t("review.distance", { m: Math.round(v.distance_m) }), "review-distance"));
        text.appendChild(line(t("review.times", { reported: SF.time(v.reported_at), received: SF.time(v.received_at) })));
        const flags = document.createElement("ul");
        flags.className = "review-flags";
        for (const f of v.flags) {
          const fl = document.createElement("li");
          fl.dataset.flag = f.flag;
          fl.textContent = flagText(f);
          flags.appendChild(fl);
        }
        text.appendChild(line(v.flags.length ? t("review.flags") : t("review.no_flags")));
        text.appendChild(flags);
        text.appendChild(reviewActions(task));
        const r = await fetch("/api/v1/tasks/" + task.id + "/photo", { headers: { Authorization: "Bearer " + SF.token() } });
        if (!r.ok) throw new SF.ApiError(r.status, null);
        const url = URL.createObjectURL(await r.blob());
        photoUrls.push(url);
        img.onload = () => { img.dataset.loaded = "1"; };
        img.src = url;
      } catch (e) {
        img.replaceWith(line(t("review.photo_failed"), "muted"));
      }
    })();
    return li;
  }

  function reviewActions(task) {
    const box = document.createElement("div");
    box.className = "review-actions";
    if (!commandCenter()) return box;
    const reason = document.createElement("input");
    reason.className = "review-reason";
    reason.placeholder = t("ops.reason_placeholder");
    reason.maxLength = 500;
    box.appendChild(reason);
    const button = (cls, text, fn) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = cls;
      b.textContent = text;
      b.addEventListener("click", fn);
      box.appendChild(b);
    };
    const post = async (path, json, done) => {
      try {
        await SF.api(path, { json });
        SF.say(done, true);
        SF.dash && SF.dash.reload();
        loadReview();
      } catch (e) {
        SF.say(SF.errorText(e));
      }
    };
    const withReason = (fn) => () => {
      const r = reason.value.trim();
      if (!r) { SF.say(t("ops.need_reason")); reason.focus(); return; }
      fn(r);
    };
    const base = "/api/v1/tasks/" + task.id;
    if (task.state === "verified") {
      button("review-close", t("review.close"),
        () => post(base + "/close", {}, t("review.done.close", { id: task.id })));
      button("review-send-back", t("review.send_back"),
        withReason((r) => post(base + "/send-back", { reason: r, expect: task.version }, t("review.done.send_back", { id: task.id }))));
    } else if (task.state === "closed") {
      button("review-reopen", t("review.reopen"),
        withReason((r) => post(base + "/reopen", { reason: r, expect: task.version }, t("review.done.reopen", { id: task.id }))));
    }
    return box;
  }
  function firstReviewPage() { rv.cursors = [null]; rv.page = 0; loadReview(); }

  // ---- wiring ----
  $("event-filter").addEventListener("change", firstPage);
  $("event-prev").addEventListener("click", () => { if (ev.page > 0) { ev.page--; loadEvents(); } });
  $("event-next").addEventListener("click", () => { if (ev.cursors[ev.page + 1]) { ev.page++; loadEvents(); } });
  $("review-filter").addEventListener("change", firstReviewPage);
  $("review-prev").addEventListener("click", () => { if (rv.page > 0) { rv.page--; loadReview(); } });
  $("review-next").addEventListener("click", () => { if (rv.cursors[rv.page + 1]) { rv.page++; loadReview(); } });
  // A task chosen in the dashboard's task list opens in the action panel.
  $("tasks").addEventListener("click", (e) => {
    const li = e.target.closest(".task-item");
    if (li) select({ kind: "task", id: Number(li.dataset.taskId) });
  });
  fillFilter();
  SF.onLang(() => {
    fillFilter();
    if (!started) return;
    loadEvents();
    loadReview();
    if (selected) select(selected);
  });

  // The dashboard redrew events or tasks (a filter changed, a live update came): so do we, on
  // the first page when the filters changed, on the same page otherwise.
  const redraw = SF.debounce(() => { loadEvents(); loadReview(); }, 250);
  new MutationObserver(() => { if (started) redraw(); })
    .observe($("map"), { attributes: true, attributeFilter: ["data-events", "data-tasks"] });
  for (const id of ["window", "unit", "from", "to"]) $(id).addEventListener("change", () => { ev.cursors = [null]; ev.page = 0; rv.cursors = [null]; rv.page = 0; });

  // Starts once the dashboard has signed in (it puts the role on <body>).
  new MutationObserver(async () => {
    if (!role()) return;
    await loadTownships();
    started = true;
    firstPage();
    firstReviewPage();
  }).observe(document.body, { attributes: true, attributeFilter: ["data-role"] });
})();
