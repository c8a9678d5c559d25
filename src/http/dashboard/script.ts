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

  function renderItems(items) {
    const body = byId("items-body");
    if (items.length === 0) {
      body.replaceChildren(el("p", {}, ["No protected items yet."]));
      return;
    }
    const overdue = items.filter((item) => item.overdueSince).length;
    const rows = items.map((item) => {
      const last = item.lastSuccessfulBackup;
      const state = [item.protectionStatus];
      if (item.protectionError) state.push(el("div", { class: "error" }, [item.protectionError.code + ": " + item.protectionError.message]));
      return el("tr", { "data-item": item.name }, [
        el("th", { scope: "row" }, [item.friendlyName, el("div", { class: "muted" }, [item.kind + " in vault " + item.vaultName])]),
        el("td", {}, state),
        el("td", {}, [item.policy.name]),
        el("td", {}, [last ? when(last.time) : "never"]),
        el("td", {}, [when(item.nextScheduledBackup)]),
        el("td", {}, [item.overdueSince ? badge("Overdue since " + when(item.overdueSince), "alert") : badge("On time", "ok")]),
        el("td", {}, [String(item.recoveryPointCount)]),
      ]);
    });
    body.replaceChildren(
      table(count(items.length, "protected item", "protected items") + ", " + overdue + " overdue", ["Item", "State", "Policy", "Last backup", "Next backup", "Overdue", "Recovery points"], rows),
    );
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
          el("td", {}, [error ? error.code + ": " + error.message : ""]),
        ]);
      });
      body.replaceChildren(table(count(jobs.length, "most recent job", "most recent jobs") + ", newest first", ["Started", "Operation", "Item", "Status", "Ended", "Error"], rows));
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
    const jobs = await loadJobs();
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
