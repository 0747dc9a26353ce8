// The alarm of the dashboard: a new high-priority task arriving while the page is open sounds a
// beep (WebAudio, generated: no sound file) and shows a browser notification, so an operator
// looking at another window hears and sees it. On by default; the 警报 button in the bar turns it
// off and on (kept per browser, localStorage "strawfire.alarm").
//
// Browsers let a page play sound only after a user gesture on it: the AudioContext is made (or
// resumed) on the first click or key anywhere on the page, and on the button; until then the
// button says sound is waiting for a click (data-audio="blocked"). Notifications need the
// user's permission, asked when the alarm is turned on with the button.
//
// What counts as new: SF.alarm.tasks(features) is given every task list the page loads. The
// first load is the baseline (nothing rings for tasks already open when the page opened); after
// it, a task id not seen before, of priority "high" and created at most NEW_WITHIN_MS before it
// was first seen (so a filter change that shows older tasks rings nothing), rings once.
// window.SF_alarms counts what happened ({rung, beeps, notifications, blocked, last}) for
// people and tests.
"use strict";
(function () {
  const SF = window.SF;
  const KEY = "strawfire.alarm";
  const NEW_WITHIN_MS = 10 * 60 * 1000;
  const counts = (window.SF_alarms = { rung: 0, beeps: 0, notifications: 0, blocked: 0, last: null });
  let ctx = null;
  let seen = null; // ids seen, after the baseline
  const button = document.getElementById("alarm-toggle");
  let onRing = null;

  const enabled = () => localStorage.getItem(KEY) !== "off";

  function audio() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!ctx) ctx = new AC();
    if (ctx.state === "suspended") ctx.resume().then(show, show);
    return ctx;
  }
  function show() {
    if (!button) return;
    const on = enabled();
    button.setAttribute("aria-pressed", String(on));
    const blocked = on && (!ctx || ctx.state !== "running");
    button.dataset.audio = blocked ? "blocked" : on ? "on" : "off";
    button.textContent = !on ? SF.t("alarm.off") : blocked ? SF.t("alarm.click_for_sound") : SF.t("alarm.on");
    button.title = SF.t("alarm.title");
  }

  // Three short 880 Hz beeps, about a second.
  function beep() {
    const c = ctx;
    if (!c || c.state !== "running") { counts.blocked++; return false; }
    const t0 = c.currentTime + 0.02;
    for (let k = 0; k < 3; k++) {
      const osc = c.createOscillator(), gain = c.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      const s = t0 + k * 0.3;
      gain.gain.setValueAtTime(0.0001, s);
      gain.gain.exponentialRampToValueAtTime(0.25, s + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, s + 0.2);
      osc.connect(gain).connect(c.destination);
      osc.start(s);
      osc.stop(s + 0.22);
    }
    counts.beeps++;
    return true;
  }

  function notify(task, text) {
    if (!("Notification" in window) || Notification.permission !== "granted") return false;
    try {
      const n = new Notification(SF.t("alarm.notify_title", { id: task.id }), {
        body: text, tag: "strawfire-task-" + task.id, requireInteraction: true,
      });
      n.onclick = () => { window.focus(); if (onRing) onRing(task, true); n.close(); };
      counts.notifications++;
      return true;
    } catch (e) {
      return false; // some browsers allow notifications only from a service worker
    }
  }

  function ring(task, text) {
    counts.rung++;
    counts.last = task.id;
    document.body.dataset.alarms = String(counts.rung);
    beep();
    notify(task, text);
    if (onRing) onRing(task, false);
  }

  SF.alarm = {
    // `fn(task, clicked)` runs when a task rings (and when its notification is clicked).
    onRing: (fn) => { onRing = fn; },
    // The task list as loaded (GeoJSON features); `describe(props)` gives the notification text.
    tasks(features, describe) {
      const now = Date.now();
      if (seen === null) {
        seen = new Set(features.map((f) => f.properties.id));
        return;
      }
      for (const f of features) {
        const p = f.properties;
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        const created = Date.parse(p.created_at);
        const fresh = !isFinite(created) || now - created <= NEW_WITHIN_MS;
        if (p.priority === "high" && fresh && enabled()) ring(p, describe ? describe(p) : "");
      }
    },
  };

  if (button) {
    button.addEventListener("click", () => {
      const on = !enabled();
      localStorage.setItem(KEY, on ? "on" : "off");
      if (on) {
        audio();
        if ("Notification" in window && Notification.permission === "default") {
          Notification.requestPermission().then(show, show);
        }
      }
      show();
    });
  }
  // The first gesture anywhere unlocks sound.
  const unlock = () => {
    if (enabled()) {
      audio();
      if ("Notification" in window && Notification.permission === "default") {
        Notification.requestPermission().then(show, show);
      }
    }
    show();
  };
  document.addEventListener("pointerdown", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });
  SF.onLang(show);
  show();
})();
