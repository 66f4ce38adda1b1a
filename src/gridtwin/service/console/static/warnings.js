// Early warning: the next day's potential deviations (probability, lead time) and the
// measures checked by power flow, from GET /warnings.
"use strict";

(() => {
  function num(v, digits) {
    return v === null || v === undefined ? "-" : Number(v).toFixed(digits);
  }

  function render(r) {
    document.getElementById("warnings-summary").textContent =
      r.name + ": day " + r.day + " (forecast " + r.method + ", issued " + gt.utc(r.issue_utc)
      + "), reported from P >= " + r.threshold + ": " + r.warnings.length
      + " potential deviation(s); " + r.power_flows + " power flows in "
      + num(r.timings_s.total, 1) + " s";
    const rows = document.getElementById("warning-rows");
    rows.replaceChildren();
    for (const w of r.warnings) {
      const tr = gt.el("tr", { "data-element": w.element, "data-rule": w.rule_id });
      const el = gt.el("td");
      el.append(gt.el("a", { href: "/trends?element=" + encodeURIComponent(w.element) }, w.element));
      const m = w.measure;
      tr.append(
        gt.el("td", {}, gt.utc(w.first_utc)),
        gt.el("td", {}, num(w.lead_time_s / 3600, 1)),
        el,
        gt.el("td", { title: w.message }, w.rule_id),
        gt.el("td", {}, w.priority),
        gt.el("td", { class: "probability" }, num(w.probability, 2)),
        gt.el("td", {}, num(w.value, 3)),
        gt.el("td", {}, num(w.band_value, 3)),
        gt.el("td", {}, num(w.limit, 3)),
        gt.el("td", { class: "measure" }, m ? m.description + " (" + num(m.cost_eur, 0) + " EUR)"
          : "none of the checked measures removes it"),
      );
      rows.append(tr);
    }
    document.getElementById("warning-count").textContent = String(r.warnings.length);
    const mrows = document.getElementById("measure-rows");
    mrows.replaceChildren();
    r.measures.forEach((m, k) => {
      const tr = gt.el("tr", { "data-kind": m.kind });
      tr.append(
        gt.el("td", {}, String(k + 1)),
        gt.el("td", {}, m.description),
        gt.el("td", {}, String(m.removed)),
        gt.el("td", {}, String(m.remaining)),
        gt.el("td", {}, String(m.new)),
        gt.el("td", {}, num(m.max_probability, 2)),
        gt.el("td", {}, num(m.cost_eur, 2)),
        gt.el("td", {}, m.cost_note),
      );
      mrows.append(tr);
    });
    document.getElementById("warning-notes").replaceChildren(...r.notes.map((n) => gt.el("li", {}, n)));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    try {
      render(await gt.api("GET", "/warnings"));
    } catch (err) {
      document.getElementById("warnings-summary").textContent = "-";
      if (err.status !== 401) gt.say("Early warning unavailable (" + err.status + "): " + err.detail);
    }
  });
})();
