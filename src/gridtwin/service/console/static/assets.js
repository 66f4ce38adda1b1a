// Assets: the maintenance ranking of the twin's asset register (GET /assets) and the
// equipment trends with their early warnings (GET /assets/trends). Each asset links to
// its trend (/trends?element=...) and to the network (/network?highlight=...).
"use strict";

(() => {
  let ranking = null;

  function num(v, digits) {
    return v === null || v === undefined ? "-" : v.toFixed(digits);
  }

  function trendable(element) {
    return /^(bus|line|trafo):\d+$/.test(element);
  }

  function assetCell(a) {
    const td = gt.el("td");
    if (trendable(a.element)) {
      td.append(gt.el("a", { href: "/trends?element=" + a.element, title: "trend" }, a.element));
      td.append(" ");
      td.append(gt.el("a", { href: "/network?highlight=" + a.element, class: "hint" }, "map"));
    } else {
      td.append(a.element);
    }
    if (a.name) td.append(gt.el("div", { class: "hint" }, a.name));
    return td;
  }

  function render() {
    const r = ranking;
    const advice = document.getElementById("advice-select").value;
    const shown = r.assets.filter((a) => !advice || a.advice === advice);
    document.getElementById("assets-summary").textContent = r.configured
      ? r.assets.length + " assets of " + (r.register_source || r.register_file) + ", as of "
        + r.as_of + (r.start_utc ? ", state history " + gt.utc(r.start_utc) + " .. " + gt.utc(r.end_utc) : "")
      : "no asset register configured";
    const rows = document.getElementById("asset-rows");
    rows.replaceChildren();
    for (const a of shown) {
      const tr = gt.el("tr", { "data-element": a.element, "data-rank": String(a.rank),
        "data-advice": a.advice, "data-hi": a.health_index });
      const why = gt.el("td");
      why.append(gt.el("ul", {}));
      for (const reason of a.reasons) why.firstChild.append(gt.el("li", {}, reason));
      tr.append(
        gt.el("td", {}, String(a.rank)),
        assetCell(a),
        gt.el("td", {}, a.type),
        gt.el("td", { class: "hi hi-" + a.health_index }, a.health_index),
        gt.el("td", {}, num(a.health_score, 2)),
        gt.el("td", {}, num(a.risk, 1)),
        gt.el("td", {}, num(a.age_years, 1) + " / " + num(a.expected_life_years, 1)),
        gt.el("td", {}, num(a.indicators.peak_loading_percent, 0)),
        gt.el("td", {}, a.calendar_due + (a.days_to_calendar_due < 0 ? " (overdue)" : "")),
        gt.el("td", {}, String(a.calendar_rank)),
        gt.el("td", { class: "advice" }, a.advice),
        why,
      );
      rows.append(tr);
    }
    document.getElementById("asset-count").textContent = String(shown.length);
    document.getElementById("assets-method").textContent = r.method;
    document.getElementById("assets-notes").replaceChildren(...r.notes.map((n) => gt.el("li", {}, n)));
  }

  async function load() {
    const days = document.getElementById("window-days").value;
    const query = days ? "?window_days=" + encodeURIComponent(days) : "";
    try {
      ranking = await gt.api("GET", "/assets" + query);
    } catch (err) {
      if (err.status !== 401) gt.say("Ranking unavailable (" + err.status + "): " + err.detail);
      return;
    }
    render();
  }

  async function trends() {
    const button = document.getElementById("trends-show");
    button.disabled = true;
    let out;
    try {
      out = await gt.api("GET", "/assets/trends");
    } catch (err) {
      if (err.status !== 401) gt.say("Trends unavailable (" + err.status + "): " + err.detail);
      return;
    } finally {
      button.disabled = false;
    }
    const rows = document.getElementById("trend-rows");
    rows.replaceChildren();
    for (const t of out.trends) {
      const tr = gt.el("tr", { "data-element": t.element, "data-quantity": t.quantity,
        "data-warning": String(t.warning), title: t.description });
      const el = gt.el("td");
      el.append(trendable(t.element)
        ? gt.el("a", { href: "/trends?element=" + t.element }, t.element) : t.element);
      tr.append(
        el,
        gt.el("td", {}, t.quantity),
        gt.el("td", {}, t.slope_per_day.toPrecision(3)),
        gt.el("td", {}, String(t.limit)),
        gt.el("td", {}, t.time_to_limit_s === null ? "-" : (t.time_to_limit_s / 86400).toFixed(1)),
        gt.el("td", { class: t.warning ? "warn" : "" }, t.warning ? "early warning" : "-"),
      );
      rows.append(tr);
    }
    document.getElementById("trend-notes").textContent =
      out.trends.length + " trends over " + out.window_days + " days, horizon " + out.horizon_days
      + " days; " + out.potential.length + " early warning(s). " + out.notes.join(" ");
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    document.getElementById("assets-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    document.getElementById("advice-select").addEventListener("change", () => ranking && render());
    document.getElementById("trends-show").addEventListener("click", trends);
    await load();
  });
})();
