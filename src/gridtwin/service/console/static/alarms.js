// The alarm list: GET /alarms, refreshed on every message of the alarm stream;
// acknowledge, reset, shelve (chosen duration or one-shot), unshelve and comment call the
// API, which decides whether the user may. Buttons the user's role may not use are
// disabled (from GET /auth/me); the API refuses them anyway.
"use strict";

(() => {
  const PRIORITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };
  const SHELVE_CHOICES_S = [900, 3600, 7200, 14400, 28800];
  let me = null;
  let maxShelveS = 28800;
  let openForm = null; // {instance, kind}: the inline form kept open across refreshes

  function byPriorityThenTime(a, b) {
    const pa = PRIORITY_RANK[a.priority] ?? 9;
    const pb = PRIORITY_RANK[b.priority] ?? 9;
    if (pa !== pb) return pa - pb;
    const ta = a.last_change_utc ?? "";
    const tb = b.last_change_utc ?? "";
    if (ta !== tb) return ta < tb ? 1 : -1; // newest first
    return a.instance_id < b.instance_id ? -1 : 1;
  }

  function duration(s) {
    return s % 3600 === 0 ? s / 3600 + " h" : Math.round(s / 60) + " min";
  }

  async function act(instanceId, action, body) {
    try {
      await gt.api("POST", "/alarms/" + encodeURIComponent(instanceId) + "/" + action, body);
      gt.say(action + " of " + instanceId + " done", "info");
      openForm = null;
      if (document.activeElement) document.activeElement.blur();
      refresh();
      return true;
    } catch (err) {
      if (err.status === 403) gt.say("Refused (403): " + err.detail);
      else if (err.status !== 401) gt.say(action + " failed (" + err.status + "): " + err.detail);
      return false;
    }
  }

  function button(label, action, onClick) {
    const b = gt.el("button", { type: "button", "data-action": action }, label);
    if (!gt.mayAct(me, "operator")) {
      b.disabled = true;
      b.title = "this needs the operator role or higher; you have the role " + me.role;
    } else b.addEventListener("click", onClick);
    return b;
  }

  // The inline form of a shelve or a comment, in a row below the alarm's.
  function formRow(a, kind) {
    const tr = gt.el("tr", { class: "alarm-form", "data-form": kind, "data-for": a.instance_id });
    const td = gt.el("td", { colspan: "7" });
    const form = gt.el("form", { class: "inline" });
    const id = "f-" + kind + "-" + a.instance_id.replace(/[^A-Za-z0-9_-]/g, "_");
    const text = gt.el("input", {
      id: id + "-text",
      name: "text",
      required: "",
      maxlength: "2000",
      size: "40",
      "aria-label": kind === "shelve" ? "Reason" : "Comment",
      placeholder: kind === "shelve" ? "reason (required)" : "comment",
    });
    if (kind === "shelve") {
      const sel = gt.el("select", { id: id + "-duration", name: "duration", "aria-label": "Shelve for" });
      for (const s of SHELVE_CHOICES_S.filter((x) => x <= maxShelveS)) {
        const o = gt.el("option", { value: String(s) }, duration(s));
        if (s === 3600) o.selected = true;
        sel.append(o);
      }
      const one = gt.el("input", { id: id + "-oneshot", type: "checkbox", name: "one_shot" });
      if (!a.condition_active) {
        one.disabled = true;
        one.title = "one-shot needs the alarm's condition active";
      }
      form.append(
        gt.el("label", { for: sel.id }, "Shelve for "),
        sel,
        " ",
        one,
        gt.el("label", { for: one.id }, " one-shot (until it returns to normal, at most "
          + duration(maxShelveS) + ") "),
        text,
      );
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        const body = one.checked
          ? { text: text.value, one_shot: true }
          : { text: text.value, duration_s: Number(sel.value) };
        act(a.instance_id, "shelve", body);
      });
    } else {
      form.append(gt.el("label", { for: text.id }, "Comment "), text);
      form.addEventListener("submit", (ev) => {
        ev.preventDefault();
        act(a.instance_id, "comment", { text: text.value });
      });
    }
    const ok = gt.el("button", { type: "submit", "data-action": kind + "-submit" },
      kind === "shelve" ? "Shelve" : "Add comment");
    const cancel = gt.el("button", { type: "button" }, "Cancel");
    cancel.addEventListener("click", () => {
      openForm = null;
      cancel.blur();
      refresh();
    });
    form.append(" ", ok, " ", cancel);
    td.append(form);
    tr.append(td);
    return tr;
  }

  function toggleForm(a, kind) {
    const same = openForm && openForm.instance === a.instance_id && openForm.kind === kind;
    openForm = same ? null : { instance: a.instance_id, kind };
    render(lastAlarms);
    if (openForm) {
      const input = document.querySelector("tr.alarm-form input[name='text']");
      if (input) input.focus();
    }
  }

  let lastAlarms = [];

  function render(alarms) {
    lastAlarms = alarms;
    const rows = document.getElementById("alarm-rows");
    const focused = document.activeElement;
    const keep = focused && focused.closest && focused.closest("tr.alarm-form");
    if (keep) return; // do not pull the form from under the typing user; next refresh draws it
    rows.replaceChildren();
    const open = alarms.filter((a) => a.state !== "normal").sort(byPriorityThenTime);
    for (const a of open) {
      const tr = gt.el("tr", {
        "data-instance": a.instance_id,
        "data-state": a.state,
        class: "priority-" + a.priority + (a.state.endsWith("unacknowledged") ? " unack" : ""),
      });
      const history = gt.el("a", {
        href: "/alarms/history?instance_id=" + encodeURIComponent(a.instance_id),
      }, a.element);
      const elementCell = gt.el("td");
      elementCell.append(history);
      tr.append(
        gt.el("td", { class: "priority" }, a.priority),
        gt.el("td", {}, gt.utc(a.last_change_utc)),
        elementCell,
        gt.el("td", {}, a.rule_id),
        gt.el("td", { class: "state" }, a.state + (a.one_shot ? " (one-shot)" : "")),
        gt.el("td", {}, a.condition_active ? "active" : "returned"),
      );
      const actions = gt.el("td", { class: "actions" });
      if (a.state === "unacknowledged" || a.state === "returned_unacknowledged")
        actions.append(button("Acknowledge", "acknowledge", () => act(a.instance_id, "acknowledge", { text: "" })));
      if (a.state === "latched")
        actions.append(button("Reset", "reset", () => act(a.instance_id, "reset", { text: "" })));
      if (a.state === "shelved")
        actions.append(button("Unshelve", "unshelve", () => act(a.instance_id, "unshelve", { text: "" })));
      else if (a.state !== "suppressed" && a.state !== "out_of_service")
        actions.append(button("Shelve…", "shelve", () => toggleForm(a, "shelve")));
      actions.append(button("Comment…", "comment", () => toggleForm(a, "comment")));
      tr.append(actions);
      rows.append(tr);
      if (openForm && openForm.instance === a.instance_id) rows.append(formRow(a, openForm.kind));
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
      maxShelveS = list.max_shelve_s;
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
    me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    const hint = document.getElementById("role-hint");
    if (hint && !gt.mayAct(me, "operator")) {
      hint.textContent = "Your role (" + me.role + ") may look but not act: the action buttons "
        + "are disabled (the API refuses them too).";
      hint.hidden = false;
    }
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
