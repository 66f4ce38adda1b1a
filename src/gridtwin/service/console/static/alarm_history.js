// Alarm history: every alarm (GET /alarms?all=true) and the events (GET /alarms/events)
// with who and when, filtered by the API's query parameters (priority, state, kind,
// element, alarm, user, time range). The filters live in the page's URL.
"use strict";

(() => {
  const EVENT_LIMIT = 1000;

  // "2016-01-01T00:15" (a datetime-local value, read as UTC) -> "2016-01-01T00:15Z"
  function utcParam(v) {
    return v ? v + (v.length === 16 ? ":00Z" : "Z") : "";
  }

  function fromUrl(form) {
    const q = new URLSearchParams(location.search);
    for (const box of form.querySelectorAll("input[name='priority']"))
      box.checked = q.getAll("priority").includes(box.value);
    for (const name of ["state", "kind", "element", "instance_id", "by"])
      form.elements[name].value = q.get(name) ?? "";
    for (const name of ["since", "until"])
      form.elements[name].value = (q.get(name) ?? "").replace(/(:00)?Z$/, "");
  }

  function toUrl(form) {
    const q = new URLSearchParams();
    for (const box of form.querySelectorAll("input[name='priority']:checked"))
      q.append("priority", box.value);
    for (const name of ["state", "kind", "element", "instance_id", "by"]) {
      const v = form.elements[name].value.trim();
      if (v) q.set(name, v);
    }
    for (const name of ["since", "until"]) {
      const v = utcParam(form.elements[name].value);
      if (v) q.set(name, v);
    }
    return q;
  }

  function alarmQuery(q) {
    const out = new URLSearchParams({ all: "true" });
    for (const p of q.getAll("priority")) out.append("priority", p);
    for (const name of ["state", "element"]) if (q.get(name)) out.set(name, q.get(name));
    return out;
  }

  function eventQuery(q) {
    const out = new URLSearchParams({ limit: String(EVENT_LIMIT) });
    for (const p of q.getAll("priority")) out.append("priority", p);
    for (const name of ["kind", "element", "instance_id", "by", "since", "until"])
      if (q.get(name)) out.set(name, q.get(name));
    if (q.get("state")) out.set("state", q.get("state"));
    return out;
  }

  function renderAlarms(alarms, q) {
    const rows = document.getElementById("hist-alarm-rows");
    rows.replaceChildren();
    const only = q.get("instance_id");
    const shown = only ? alarms.filter((a) => a.instance_id === only) : alarms;
    for (const a of shown) {
      const tr = gt.el("tr", { "data-instance": a.instance_id, class: "priority-" + a.priority });
      const events = gt.el("a", {
        href: "/alarms/history?instance_id=" + encodeURIComponent(a.instance_id),
      }, "events");
      const link = gt.el("td");
      link.append(events);
      const trend = gt.el("td");
      const m = /^(bus|line|trafo):\d+$/.exec(a.element);
      if (m) trend.append(gt.el("a", { href: "/trends?element=" + encodeURIComponent(a.element) }, a.element));
      else trend.textContent = a.element;
      tr.append(
        gt.el("td", { class: "priority" }, a.priority),
        gt.el("td", {}, gt.utc(a.last_change_utc)),
        trend,
        gt.el("td", {}, a.rule_id),
        gt.el("td", { class: "state" }, a.state),
        gt.el("td", {}, String(a.activation_count)),
        link,
      );
      rows.append(tr);
    }
    document.getElementById("hist-alarm-count").textContent = String(shown.length);
  }

  function num(v) {
    return v === null || v === undefined ? "" : Number(v).toPrecision(4);
  }

  function renderEvents(events) {
    const rows = document.getElementById("hist-event-rows");
    rows.replaceChildren();
    for (const e of [...events].reverse()) {
      const tr = gt.el("tr", { "data-instance": e.instance_id, "data-kind": e.kind });
      tr.append(
        gt.el("td", { class: "when" }, gt.utc(e.time_utc)),
        gt.el("td", {}, e.element + " " + e.rule_id),
        gt.el("td", { class: "kind" }, e.kind),
        gt.el("td", {}, e.from_state + " → " + e.to_state),
        gt.el("td", {}, e.priority),
        gt.el("td", { class: "who" }, e.user),
        gt.el("td", { class: "text" }, e.reason || e.message),
        gt.el("td", {}, e.value === null ? "" : num(e.value) + " / " + num(e.limit)),
      );
      rows.append(tr);
    }
    document.getElementById("hist-event-count").textContent = String(events.length);
  }

  async function load() {
    const q = new URLSearchParams(location.search);
    try {
      const [alarms, events] = await Promise.all([
        gt.api("GET", "/alarms?" + alarmQuery(q)),
        gt.api("GET", "/alarms/events?" + eventQuery(q)),
      ]);
      gt.say("");
      renderAlarms(alarms.alarms, q);
      renderEvents(events.events);
    } catch (err) {
      if (err.status !== 401) gt.say("History unavailable (" + err.status + "): " + err.detail);
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    const form = document.getElementById("history-filters");
    fromUrl(form);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      history.replaceState(null, "", "/alarms/history?" + toUrl(form));
      load();
    });
    form.addEventListener("reset", () => {
      history.replaceState(null, "", "/alarms/history");
      setTimeout(load, 0);
    });
    await load();
    gt.alarmStream(gt.debounce(load, 300), () => {});
  });
})();
