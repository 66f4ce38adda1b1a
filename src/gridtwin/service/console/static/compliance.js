// Compliance: the week's supply-voltage verdicts per feeder and per customer bus from
// GET /twin/compliance, and the power-quality module's report (HTML or PDF) of measured
// voltage or frequency points through POST /quality/assessments?format=html|pdf
// (analyst; the API decides).
"use strict";

(() => {
  let report = null;
  let me = null;

  function pct(v) {
    return v === null || v === undefined ? "-" : v.toFixed(2);
  }

  function verdictCell(v) {
    return gt.el("td", { class: "verdict verdict-" + v.replace(/ /g, "-") }, v);
  }

  function shownCustomers() {
    const feeder = document.getElementById("feeder-select").value;
    const problems = document.getElementById("only-problems").checked;
    return report.customers.filter(
      (c) => (!feeder || c.feeder === feeder) && (!problems || !c.verdict.startsWith("compliant")),
    );
  }

  function render() {
    const r = report;
    document.getElementById("compliance-summary").textContent =
      r.standard + ", week " + r.week + " (" + r.timezone + ", " + (r.complete ? "complete" : "running")
      + "): " + r.intervals + " intervals counted of " + r.intervals_elapsed + " elapsed, "
      + r.intervals_expected + " in the week (at least " + r.min_intervals + " for a verdict)";
    const frows = document.getElementById("feeder-rows");
    frows.replaceChildren();
    for (const f of r.feeders) {
      const tr = gt.el("tr", { "data-feeder": f.feeder, "data-verdict": f.verdict });
      tr.append(
        gt.el("td", {}, f.feeder),
        gt.el("td", {}, String(f.customer_buses)),
        gt.el("td", {}, String(f.customers)),
        gt.el("td", {}, pct(f.share_within_5_percent)),
        gt.el("td", {}, pct(f.share_within_10_percent)),
        gt.el("td", {}, String(f.buses_violated)),
        gt.el("td", {}, String(f.buses_insufficient)),
        verdictCell(f.verdict),
      );
      frows.append(tr);
    }
    const crows = document.getElementById("customer-rows");
    crows.replaceChildren();
    const shown = shownCustomers();
    for (const c of shown) {
      const tr = gt.el("tr", { "data-bus": String(c.bus), "data-verdict": c.verdict });
      const bus = gt.el("td");
      bus.append(gt.el("a", { href: "/trends?element=bus:" + c.bus, title: c.rule }, "bus:" + c.bus));
      tr.append(
        bus,
        gt.el("td", {}, c.feeder),
        gt.el("td", {}, c.voltage_level),
        gt.el("td", {}, String(c.n_customers)),
        gt.el("td", {}, c.u0_pu.toFixed(3)),
        gt.el("td", {}, String(c.intervals)),
        gt.el("td", {}, pct(c.share_within_5_percent)),
        gt.el("td", {}, pct(c.share_within_10_percent)),
        gt.el("td", {}, String(c.n1)),
        gt.el("td", {}, String(c.n2)),
        gt.el("td", {}, c.worst_vm_pu === null ? "-" : c.worst_vm_pu.toFixed(3)),
        verdictCell(c.verdict),
      );
      crows.append(tr);
    }
    document.getElementById("customer-count").textContent = String(shown.length);
    document.getElementById("compliance-rules").replaceChildren(
      ...Object.entries(r.rules).map(([level, rule]) => gt.el("li", {}, level + ": " + rule)),
    );
    document.getElementById("compliance-notes").replaceChildren(...r.notes.map((n) => gt.el("li", {}, n)));
  }

  async function load() {
    const week = document.getElementById("week-select").value;
    try {
      report = await gt.api("GET", "/twin/compliance?week=" + encodeURIComponent(week));
    } catch (err) {
      if (err.status !== 401) gt.say("Compliance unavailable (" + err.status + "): " + err.detail);
      return;
    }
    const select = document.getElementById("feeder-select");
    const chosen = select.value;
    select.replaceChildren(gt.el("option", { value: "" }, "all"),
      ...report.feeders.map((f) => gt.el("option", { value: f.feeder }, f.feeder)));
    select.value = report.feeders.some((f) => f.feeder === chosen) ? chosen : "";
    render();
  }

  async function fillReportPoints() {
    const { points } = await gt.api("GET", "/points");
    const select = document.getElementById("report-points");
    select.replaceChildren(
      ...points
        .filter((p) => p.source !== "twin" && ["u", "vm", "f"].includes(p.quantity))
        .map((p) => gt.el("option", { value: p.point_id, "data-unit": p.unit },
          p.point_id + " (" + p.quantity + ", " + p.unit + ")")),
    );
  }

  async function downloadReport(fmt) {
    const status = document.getElementById("report-status");
    const chosen = [...document.getElementById("report-points").selectedOptions];
    if (!report || !report.start_utc || !chosen.length) {
      status.textContent = "choose one or more points";
      return;
    }
    const body = {
      standard: report.standard,
      voltage_level: document.getElementById("report-level").value,
      timezone: report.timezone,
      point_ids: chosen.map((o) => o.value),
      start_utc: report.start_utc,
      end_utc: report.end_utc,
    };
    if (chosen.some((o) => o.dataset.unit === "V" || o.dataset.unit === "kV"))
      body.nominal_v = Number(document.getElementById("report-u0").value);
    status.textContent = "assessing " + chosen.length + " point(s) ...";
    const mediaType = fmt === "pdf" ? "application/pdf" : "text/html";
    const headers = { Accept: mediaType, "Content-Type": "application/json",
      Authorization: "Bearer " + gt.token() };
    try {
      const response = await fetch("/api/v1/quality/assessments?format=" + fmt,
        { method: "POST", headers, body: JSON.stringify(body) });
      if (!response.ok) {
        let detail = response.statusText;
        try {
          const j = await response.json();
          detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail);
        } catch { /* keep the status text */ }
        status.textContent = "";
        gt.say((response.status === 403 ? "Refused (403): " : "Report failed (" + response.status + "): ") + detail);
        return;
      }
      const blob = fmt === "pdf" ? await response.blob()
        : new Blob([await response.text()], { type: mediaType });
      const a = gt.el("a", { href: URL.createObjectURL(blob),
        download: "quality-report-" + report.week + "." + fmt });
      document.body.append(a);
      a.click();
      a.remove();
      status.textContent = fmt.toUpperCase() + " report of " + chosen.length + " point(s) downloaded";
    } catch (err) {
      status.textContent = "";
      gt.say("Report failed: " + err.message);
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    const buttons = [document.getElementById("report-html"), document.getElementById("report-pdf")];
    if (!gt.mayAct(me, "analyst")) {
      for (const button of buttons) {
        button.disabled = true;
        button.title = "this needs the analyst role or higher; you have the role " + me.role;
      }
      document.getElementById("report-status").textContent =
        "(the report needs the analyst role; you have the role " + me.role + ")";
    }
    document.getElementById("report-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      downloadReport(ev.submitter && ev.submitter.id === "report-pdf" ? "pdf" : "html");
    });
    try {
      await fillReportPoints();
    } catch (err) {
      if (err.status !== 401) gt.say("Points unavailable (" + err.status + "): " + err.detail);
    }
    const form = document.getElementById("compliance-form");
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      load();
    });
    document.getElementById("feeder-select").addEventListener("change", () => report && render());
    document.getElementById("only-problems").addEventListener("change", () => report && render());
    await load();
  });
})();
