/**
 * The dashboard's script, served as `dashboard.js` from the app's own origin (the page's
 * Content-Security-Policy runs nothing else). It holds no data and no key: it takes the key from
 * the page's address (`?code=`), keeps it in memory only, removes it from the address bar, and sends
 * it as `x-functions-key`; behind App Service authentication the browser's session signs each call.
 * Everything shown is built with `textContent`, never parsed as HTML, so no name can inject markup.
 *
 * @remarks Plain ES2020 for the browser, kept free of template literals so it can live in a raw
 * string here and ship inside the compiled app (no build step, no bundler, nothing fetched).
 */
export const dashboardScript = String.raw`"use strict";
(function () {
  const params = new URLSearchParams(window.location.search);
  const key = params.get("code");
  if (key !== null) {
    params.delete("code");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }
  const apiBase = window.location.pathname.replace(/\/dashboard\/?$/, "/");
  const byId = (id) => document.getElementById(id);

  function el(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children || []) {
      if (child === undefined || child === null) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || "HTTP " + status);
      this.status = status;
      this.code = problem && problem.code;
    }
  }

  async function api(path, asText) {
    const headers = { accept: asText ? "image/svg+xml" : "application/json" };
    if (key) headers["x-functions-key"] = key;
    const response = await fetch(apiBase + path, { headers: headers, credentials: "same-origin", cache: "no-store" });
    if (!response.ok) {
      let problem;
      try { problem = await response.json(); } catch (ignored) { problem = undefined; }
      throw new ApiError(response.status, problem);
    }
    return asText ? response.text() : response.json();
  }

  function explain(error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      return "The API refused the request (" + error.status + "): open this page with the function key as ?code=, or sign in with the Backup.Reader role. " + error.message;
    }
    return error instanceof ApiError ? error.message + (error.code ? " (" + error.code + ")" : "") : String(error);
  }

  function when(iso) {
    if (!iso) return "—";
    const text = new Date(iso).toISOString();
    return text.slice(0, 10) + " " + text.slice(11, 16) + " UTC";
  }

  function count(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function badge(text, kind) {
    return el("span", { class: "badge " + kind }, [text]);
  }

  function showFailure(container, what, error) {
    container.replaceChildren(el("p", { class: "error", role: "alert" }, ["Could not load " + what + ": " + explain(error)]));
  }

  function table(caption, headers, rows) {
    return el("table", {}, [
      el("caption", {}, [caption]),
      el("thead", {}, [el("tr", {}, headers.map((h) => el("th", { scope: "col" }, [h])))]),
      el("tbody", {}, rows),
    ]);
  }

  const verdictKinds = { Succeeded: "ok", Failed: "alert", InProgress: "info" };

  // The lifecycle states in words, with how much they call for a look; the service's own word
  // is shown beneath, as the API and the CLI name it.
  const lifecycleLabels = {
    ProtectionConfigured: ["Protected", "ok"],
    ConfiguringProtection: ["Configuring protection", "info"],
    BackupSchedulesSuspended: ["Backups suspended", "warn"],
    ProtectionStopped: ["Protection stopped", "warn"],
    ProtectionError: ["Protection error", "alert"],
    ConfiguringProtectionFailed: ["Protection failed", "alert"],
    SoftDeleted: ["Deleted", "warn"],
  };

  function stateCell(item) {
    const state = item.protectionState || item.protectionStatus;
    const label = lifecycleLabels[state] || [state, "info"];
    const cell = [badge(label[0], label[1]), el("div", { class: "muted" }, [state])];
    if (item.protectionError) cell.push(el("div", { class: "error" }, [item.protectionError.code + ": " + item.protectionError.message]));
    return cell;
  }

  // An alarm's mark: a word that says what happened, and its numbers beside it in text.
  function alarmMark(alarm) {
    const word = alarm.kind === "stuck" ? "Stuck" : "Anomaly";
    return el("div", { class: "mark", "data-alarm": alarm.kind }, [
      badge(word, alarm.kind === "stuck" ? "alert" : "warn"),
      " ",
      el("span", { class: "muted" }, [alarm.summary + " (raised " + when(alarm.raisedAt) + ")"]),
    ]);
  }

  function itemAlarms(item) {
    if (!item.alarms) return [el("span", { class: "muted" }, ["—"])];
    const marks = [item.alarms.stuck, item.alarms.anomaly].filter(Boolean).map(alarmMark);
    return marks.length > 0 ? marks : [el("span", { class: "muted" }, ["None"])];
  }

  function lastDrill(item) {
    const drill = item.lastDrill;
    if (!drill) return [el("span", { class: "muted" }, [drill === null ? "None yet" : "—"])];
    return [
      badge(drill.verdict, verdictKinds[drill.verdict] || "info"),
      el("div", { class: "muted" }, [when(drill.startTime) + (typeof drill.timeToRestoreSeconds === "number" ? ", restored in " + duration(drill.timeToRestoreSeconds) : "")]),
    ];
  }

  function renderItems(items) {
    const body = byId("items-body");
    if (items.length === 0) {
      body.replaceChildren(el("p", {}, ["No protected items yet."]));
      return;
    }
    const overdue = items.filter((item) => item.overdueSince).length;
    const stuck = items.filter((item) => item.alarms && item.alarms.stuck).length;
    const anomalies = items.filter((item) => item.alarms && item.alarms.anomaly).length;
    const rows = items.map((item) => {
      const last = item.lastSuccessfulBackup;
      return el("tr", { "data-item": item.name }, [
        el("th", { scope: "row" }, [item.friendlyName, el("div", { class: "muted" }, [item.kind + " in vault " + item.vaultName])]),
        el("td", { "data-column": "state" }, stateCell(item)),
        el("td", {}, [item.policy.name]),
        el("td", {}, [last ? when(last.time) : "never"]),
        el("td", {}, [when(item.nextScheduledBackup)]),
        el("td", {}, [item.overdueSince ? badge("Overdue since " + when(item.overdueSince), "alert") : badge("On time", "ok")]),
        el("td", { "data-column": "alarms" }, itemAlarms(item)),
        el("td", { "data-column": "drill" }, lastDrill(item)),
        el("td", {}, [String(item.recoveryPointCount)]),
      ]);
    });
    body.replaceChildren(
      table(
        count(items.length, "protected item", "protected items") + ", " + overdue + " overdue, " + stuck + " stuck, " + count(anomalies, "anomaly", "anomalies"),
        ["Item", "State", "Policy", "Last backup", "Next backup", "Overdue", "Alarms", "Last drill", "Recovery points"],
        rows,
      ),
    );
  }

  async function loadDeleted() {
    const body = byId("deleted-body");
    try {
      const deleted = (await api("deleted-backup-instances")).value || [];
      if (deleted.length === 0) {
        body.replaceChildren(el("p", { class: "muted" }, ["No deleted protected items."]));
        return;
      }
      const rows = deleted.map((item) => el("tr", { "data-deleted": item.name }, [
        el("th", { scope: "row" }, [item.friendlyName, el("div", { class: "muted" }, [item.kind + " in vault " + item.vaultName])]),
        el("td", {}, [badge("Deleted", "warn")]),
        el("td", {}, [item.policy.name]),
        el("td", {}, [when(item.deletionTime)]),
        el("td", {}, [item.scheduledPurgeTime ? when(item.scheduledPurgeTime) : "not said"]),
        el("td", {}, [item.undeletable ? "Yes, until it is purged" : "No"]),
      ]));
      body.replaceChildren(table(count(deleted.length, "deleted protected item", "deleted protected items") + " (soft-deleted, kept until purged)", ["Item", "State", "Policy", "Deleted", "Purged", "Can be undeleted"], rows));
    } catch (error) {
      if (notAvailable(body, error, "deleted protected items")) return;
      showFailure(body, "the deleted protected items", error);
    }
  }

  // A route this app does not have answers 404 with the host's NOT_FOUND (or, in Azure, no
  // problem document at all), never with a code of the app's own.
  function notAvailable(container, error, what) {
    if (!(error instanceof ApiError) || error.status !== 404 || (error.code && error.code !== "NOT_FOUND")) return false;
    container.replaceChildren(el("p", { class: "unavailable" }, ["Not available: this app has no " + what + " route yet."]));
    return true;
  }

  function fillInstanceFilter(items) {
    const select = byId("filter-instance");
    const chosen = select.value;
    const options = [el("option", { value: "" }, ["Any"])].concat(
      items.map((item) => el("option", { value: item.name }, [item.friendlyName + " (" + item.vaultName + ")"])),
    );
    select.replaceChildren.apply(select, options);
    select.value = chosen;
  }

  async function loadJobs() {
    const body = byId("jobs-body");
    const query = new URLSearchParams({ top: "50" });
    for (const name of ["status", "operation", "instance"]) {
      const value = byId("filter-" + name).value;
      if (value) query.set(name, value);
    }
    try {
      const page = await api("jobs?" + query.toString());
      const jobs = page.value;
      if (jobs.length === 0) {
        body.replaceChildren(el("p", {}, ["No jobs match."]));
        return jobs;
      }
      const rows = jobs.map((job) => {
        const error = (job.errorDetails || [])[0];
        return el("tr", { "data-job": job.name }, [
          el("td", {}, [when(job.startTime)]),
          el("td", {}, [job.operation]),
          el("td", {}, [job.backupInstanceFriendlyName]),
          el("td", {}, [job.status === "Failed" ? badge("Failed", "alert") : job.status === "Completed" ? badge("Completed", "ok") : job.status]),
          el("td", {}, [when(job.endTime)]),
          el("td", { "data-column": "alarms" }, (job.alarms || []).map(alarmMark)),
          el("td", {}, [error ? error.code + ": " + error.message : ""]),
        ]);
      });
      body.replaceChildren(table(count(jobs.length, "most recent job", "most recent jobs") + ", newest first", ["Started", "Operation", "Item", "Status", "Ended", "Alarms", "Error"], rows));
      return jobs;
    } catch (error) {
      showFailure(body, "jobs", error);
      return [];
    }
  }

  function calendarFigure(svgText, name) {
    const parsed = new DOMParser().parseFromString(svgText, "image/svg+xml");
    const svg = parsed.documentElement;
    if (svg.nodeName !== "svg" || parsed.getElementsByTagName("parsererror").length > 0) {
      return el("p", { class: "error" }, ["The calendar of " + name + " could not be read."]);
    }
    // Only drawing elements are kept: anything that could run or load is dropped.
    for (const node of Array.from(svg.querySelectorAll("script, foreignObject, image, use, a"))) node.remove();
    const figure = el("figure", {}, [document.importNode(svg, true)]);
    const days = Array.from(svg.querySelectorAll("g.day")).filter((g) => g.getAttribute("data-backups") !== "0" || g.getAttribute("data-deletions") !== "0");
    const list = el("ul", {}, days.map((g) => el("li", {}, [g.querySelector("title").textContent])));
    return el("div", { class: "calendar", "data-policy": name }, [
      figure,
      el("details", {}, [el("summary", {}, ["The calendar of " + name + " as a list (" + count(days.length, "day", "days") + " with backups or expiries)"]), list]),
    ]);
  }

  async function loadPolicies(items) {
    const body = byId("policies-body");
    const vaults = Array.from(new Set(items.map((item) => item.vaultName)));
    if (vaults.length === 0) {
      body.replaceChildren(el("p", {}, ["No vault in use yet: protect a database to see its policies."]));
      return;
    }
    const parts = [];
    for (const vault of vaults) {
      try {
        const policies = (await api("vaults/" + encodeURIComponent(vault) + "/policies")).value || [];
        for (const policy of policies) {
          parts.push(el("h3", {}, ["Policy " + policy.name + " (vault " + vault + ")"]));
          try {
            const svg = await api("vaults/" + encodeURIComponent(vault) + "/policies/" + encodeURIComponent(policy.name) + "/calendar.svg", true);
            parts.push(calendarFigure(svg, policy.name));
          } catch (error) {
            parts.push(el("p", { class: "error" }, ["No calendar for " + policy.name + ": " + explain(error)]));
          }
        }
      } catch (error) {
        parts.push(el("p", { class: "error" }, ["Could not load the policies of vault " + vault + ": " + explain(error)]));
      }
    }
    body.replaceChildren.apply(body, parts.length > 0 ? parts : [el("p", {}, ["No policies."])]);
  }

  function duration(totalSeconds) {
    if (typeof totalSeconds !== "number" || !isFinite(totalSeconds)) return "—";
    const seconds = Math.round(totalSeconds);
    if (seconds < 60) return seconds + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + (seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  async function loadDrills() {
    const body = byId("drills-body");
    try {
      const drills = (await api("drills?top=20")).value || [];
      if (drills.length === 0) {
        body.replaceChildren(el("p", {}, ["No restore drill has run yet."]));
        return drills;
      }
      const rows = drills.map((drill) => {
        const verification = drill.verification;
        const details = drill.error
          ? el("span", { class: "error" }, [drill.error.code + ": " + drill.error.message])
          : verification && verification.verified
            ? count(verification.tables, "table", "tables") + ", " + count(verification.rows, "row", "rows") + " verified"
            : verification
              ? el("span", { class: "error" }, [count(verification.mismatches.length, "difference", "differences") + ": " + verification.mismatches.join("; ")])
              : "";
        return el("tr", { "data-drill": drill.id }, [
          el("td", {}, [when(drill.startTime)]),
          el("th", { scope: "row" }, [drill.friendlyName || drill.backupInstanceName, el("div", { class: "muted" }, ["vault " + drill.vaultName])]),
          el("td", {}, [badge(drill.verdict, verdictKinds[drill.verdict] || "info")]),
          el("td", {}, [duration(drill.timeToRestoreSeconds)]),
          el("td", {}, [when(drill.recoveryPointTime)]),
          el("td", {}, [details]),
        ]);
      });
      body.replaceChildren(table(count(drills.length, "most recent drill", "most recent drills") + ", newest first", ["Started", "Item", "Verdict", "Time to restore", "Recovery point", "Verification"], rows));
      return drills;
    } catch (error) {
      if (!notAvailable(body, error, "restore drill")) showFailure(body, "the restore drills", error);
      return [];
    }
  }

  const severityKinds = { high: "alert", medium: "warn", low: "info" };

  // The settings a person checks first, in words; each is the vault's own value.
  function settingsList(settings) {
    if (!settings) return null;
    const soft = settings.softDelete || {};
    const guard = settings.resourceGuard || {};
    const rows = [
      ["Redundancy", settings.redundancy],
      ["Immutability", settings.immutability],
      ["Soft delete", soft.state + (typeof soft.retentionDays === "number" ? ", " + soft.retentionDays + " days" : "")],
      ["Cross-region restore", settings.crossRegionRestore],
      ["Cross-subscription restore", settings.crossSubscriptionRestore],
      ["Multi-user authorization", guard.state],
      ["Job failure alerts", settings.jobFailureAlerts],
    ];
    return el("dl", { class: "settings" }, rows.flatMap((row) => [el("dt", {}, [row[0]]), el("dd", {}, [String(row[1])])]));
  }

  async function loadPosture() {
    const body = byId("posture-body");
    try {
      const vaults = (await api("vaults")).value || [];
      if (vaults.length === 0) {
        body.replaceChildren(el("p", {}, ["No vault."]));
        return [];
      }
      const parts = vaults.map((vault) => {
        const name = vault.name;
        const warningsFound = vault.warnings || [];
        const verdict = vault.error
          ? badge("Could not be read", "alert")
          : warningsFound.length === 0 && vault.meetsBaseline
            ? badge("Meets the baseline", "ok")
            : badge(count(warningsFound.length, "warning", "warnings"), "alert");
        const warnings = warningsFound.map((warning) => el("li", { "data-warning": warning.code }, [
          badge(warning.severity, severityKinds[warning.severity] || "info"),
          " ",
          el("strong", {}, [warning.setting + ": " + warning.found]),
          " (recommended: " + warning.recommended + "). " + warning.why + " ",
          el("span", { class: "muted" }, ["To change: " + warning.change]),
        ]));
        return el("div", { class: "vault", "data-vault": name }, [
          el("h3", {}, ["Vault " + name + " ", verdict]),
          vault.error ? el("p", { class: "error" }, [vault.error.code + ": " + vault.error.message]) : null,
          settingsList(vault.settings),
          warnings.length > 0 ? el("ul", { class: "warnings" }, warnings) : vault.error ? null : el("p", { class: "muted" }, ["No warning: soft delete, immutability and the other settings meet the recommended baseline."]),
        ]);
      });
      body.replaceChildren.apply(body, parts);
      return vaults;
    } catch (error) {
      if (!notAvailable(body, error, "vault posture")) showFailure(body, "the vault posture", error);
      return [];
    }
  }

  async function refresh() {
    const status = byId("status");
    status.textContent = "Loading…";
    let items = [];
    try {
      items = (await api("backup-instances")).value;
      renderItems(items);
      fillInstanceFilter(items);
    } catch (error) {
      showFailure(byId("items-body"), "the protected items", error);
      status.textContent = "Could not load the dashboard: " + explain(error);
      return;
    }
    const [jobs] = await Promise.all([loadJobs(), loadDeleted(), loadDrills(), loadPosture()]);
    await loadPolicies(items);
    const failed = jobs.filter((job) => job.status === "Failed").length;
    status.textContent = "Updated " + when(new Date().toISOString()) + ": " + count(items.length, "protected item", "protected items") + ", " + count(failed, "failed job", "failed jobs") + " in the list.";
  }

  byId("job-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    void loadJobs();
  });
  byId("refresh").addEventListener("click", () => void refresh());
  void refresh();
})();
`;
