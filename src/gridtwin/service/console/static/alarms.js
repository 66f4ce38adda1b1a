// The alarm list: GET /alarms, refreshed on every message of the alarm stream;
// acknowledge and shelve call the API, which decides whether the user may.
"use strict";

(() => {
  const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const SHELVE_S = 3600;

  function byPriorityThenTime(a, b) {
    const pa = PRIORITY_RANK[a.priority] ?? 9;
    const pb = PRIORITY_RANK[b.priority] ?? 9;
    if (pa !== pb) return pa - pb;
    const ta = a.last_change_utc ?? "";
    const tb = b.last_change_utc ?? "";
    if (ta !== tb) return ta < tb ? 1 : -1; // newest first
    return a.instance_id < b.instance_id ? -1 : 1;
  }

  async function act(instanceId, action) {
    const body =
      action === "shelve"
        ? { text: "shelved from the console", duration_s: SHELVE_S }
        : { text: "" };
    try {
      await gt.api("POST", "/alarms/" + encodeURIComponent(instanceId) + "/" + action, body);
      gt.say(action + " of " + instanceId + " done", "info");
      refresh();
    } catch (err) {
      if (err.status === 403) gt.say("Refused (403): " + err.detail);
      else if (err.status !== 401) gt.say(action + " failed (" + err.status + "): " + err.detail);
    }
  }

  function button(label, instanceId, action) {
    const b = gt.el("button", { type: "button", "data-action": action }, label);
    b.addEventListener("click", () => act(instanceId, action));
    return b;
  }

  function render(alarms) {
    const rows = document.getElementById("alarm-rows");
    rows.replaceChildren();
    const open = alarms.filter((a) => a.state !== "normal").sort(byPriorityThenTime);
    for (const a of open) {
      const tr = gt.el("tr", {
        "data-instance": a.instance_id,
        "data-state": a.state,
        class: "priority-" + a.priority + (a.state.endsWith("unacknowledged") ? " unack" : ""),
      });
      tr.append(
        gt.el("td", { class: "priority" }, a.priority),
        gt.el("td", {}, gt.utc(a.last_change_utc)),
        gt.el("td", {}, a.element),
        gt.el("td", {}, a.rule_id),
        gt.el("td", { class: "state" }, a.state),
        gt.el("td", {}, a.condition_active ? "active" : "returned"),
      );
      const actions = gt.el("td", { class: "actions" });
      if (a.state === "unacknowledged" || a.state === "returned_unacknowledged")
        actions.append(button("Acknowledge", a.instance_id, "acknowledge"));
      if (a.state !== "shelved") actions.append(button("Shelve 1 h", a.instance_id, "shelve"));
      else actions.append(button("Unshelve", a.instance_id, "unshelve"));
      tr.append(actions);
      rows.append(tr);
    }
    document.getElementById("alarm-count").textContent = String(open.length);
    document.getElementById("no-alarms").hidden = open.length > 0;
  }

  function renderHealth(h) {
    const dl = document.getElementById("health");
    dl.replaceChildren();
    const add = (term, value) => dl.append(gt.el("dt", {}, term), gt.el("dd", {}, value));
    for (const p of h.positions) {
      add(p.position + ": alarms", String(p.alarms));
      add(p.position + ": mean / max per 10 min", p.mean_per_10min.toFixed(2) + " / " + p.max_per_10min);
      add(p.position + ": 10-min periods in flood", p.share_10min_over_flood_percent.toFixed(1) + " %");
    }
    const split = Object.entries(h.priority_percent)
      .map(([k, v]) => k + " " + v.toFixed(0) + " %")
      .join(", ");
    add("priority split", split || "-");
    add("stale", h.stale.join(", ") || "none");
    add("chattering", h.chattering.join(", ") || "none");
    add("bad actors", h.bad_actors.slice(0, 5).join(", ") || "none");
  }

  async function refresh() {
    try {
      const [list, twin] = await Promise.all([gt.api("GET", "/alarms"), gt.api("GET", "/twin")]);
      render(list.alarms);
      document.getElementById("twin-time").textContent = gt.utc(twin.latest_interval_utc);
    } catch (err) {
      if (err.status !== 401) gt.say("Alarms unavailable (" + err.status + "): " + err.detail);
      return;
    }
    try {
      renderHealth(await gt.api("GET", "/alarms/health"));
    } catch (err) {
      if (err.status === 404) document.getElementById("health").replaceChildren();
      else if (err.status !== 401) gt.say("Alarm health unavailable: " + err.detail);
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    await refresh();
    const soon = gt.debounce(refresh, 100);
    gt.alarmStream(
      () => soon(),
      (status) => {
        document.getElementById("stream-status").textContent = status;
        if (status === "live") soon(); // events missed while connecting
      },
    );
  });
})();
