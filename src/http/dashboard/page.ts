/**
 * The dashboard's page: a fixed HTML shell with no data and no key in it. Its script
 * (`dashboard.js`) reads the key from the address (`?code=`, then drops it from the address bar)
 * or relies on the App Service session, and fills the page from the API's own routes.
 */

/** The route prefix the page's relative links resolve under (`/api/dashboard` → `/api/`). */
const assetBase = "dashboard/";

/** The HTML of `GET /api/dashboard`. */
export function dashboardPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>pgprotect dashboard</title>
<link rel="stylesheet" href="${assetBase}dashboard.css">
<script src="${assetBase}dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#items">Skip to the protected items</a>
<header class="top">
  <h1>pgprotect</h1>
  <p id="status" role="status" aria-live="polite">Loading…</p>
  <button id="refresh" type="button">Refresh</button>
</header>
<main>
  <section id="items" aria-labelledby="items-heading" tabindex="-1">
    <h2 id="items-heading">Protected items</h2>
    <div id="items-body"><p>Loading…</p></div>
    <h3 id="deleted-heading">Deleted protected items</h3>
    <div id="deleted-body"><p>Loading…</p></div>
  </section>
  <section id="jobs" aria-labelledby="jobs-heading">
    <h2 id="jobs-heading">Recent jobs</h2>
    <form id="job-filters" class="filters" aria-label="Job filters">
      <label>Status
        <select id="filter-status" name="status">
          <option value="">Any</option>
          <option>InProgress</option>
          <option>Completed</option>
          <option>Failed</option>
          <option>Cancelled</option>
        </select>
      </label>
      <label>Operation
        <select id="filter-operation" name="operation">
          <option value="">Any</option>
          <option value="OnDemandBackup,ScheduledBackup">Backup</option>
          <option value="OnDemandBackup">On-demand backup</option>
          <option value="ScheduledBackup">Scheduled backup</option>
          <option value="Restore">Restore</option>
        </select>
      </label>
      <label>Protected item
        <select id="filter-instance" name="instance">
          <option value="">Any</option>
        </select>
      </label>
      <button type="submit">Show jobs</button>
    </form>
    <div id="jobs-body"><p>Loading…</p></div>
  </section>
  <section id="policies" aria-labelledby="policies-heading">
    <h2 id="policies-heading">Policies and what they keep</h2>
    <p class="note">Each calendar covers the next 12 months, one cell per UTC day, from the policy simulator. Hover a day, or open its list, for the backups taken, where each is kept and when it expires.</p>
    <div id="policies-body"><p>Loading…</p></div>
  </section>
  <section id="drills" aria-labelledby="drills-heading">
    <h2 id="drills-heading">Restore drills and times to restore</h2>
    <div id="drills-body"><p>Loading…</p></div>
  </section>
  <section id="posture" aria-labelledby="posture-heading">
    <h2 id="posture-heading">Vault posture</h2>
    <p class="note">Each vault's security settings against the recommended baseline (soft delete, immutability, redundancy, cross-region restore, multi-user authorization, alerts), with what to change.</p>
    <div id="posture-body"><p>Loading…</p></div>
  </section>
</main>
</body>
</html>
`;
}
