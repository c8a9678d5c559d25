/**
 * The dashboard's style sheet. Text colours are 4.5:1 or more against their background and
 * borders and focus rings 3:1 or more (WCAG 2.2 AA); focus is always visible; system fonts only,
 * so nothing is fetched from elsewhere.
 */
export const dashboardStyles = String.raw`
:root {
  color-scheme: light;
  --text: #111827;
  --muted: #374151;
  --line: #6b7280;
  --soft: #f3f4f6;
  --accent: #1d4ed8;
  --alert-text: #991b1b;
  --alert-back: #fee2e2;
  --ok-text: #166534;
  --ok-back: #dcfce7;
  --warn-text: #854d0e;
  --warn-back: #fef9c3;
  --info-text: #1e3a8a;
  --info-back: #dbeafe;
  --focus: #1d4ed8;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--text);
  background: #ffffff;
}
.skip { position: absolute; left: -999px; top: 0; padding: 8px 12px; background: #ffffff; color: var(--accent); }
.skip:focus { left: 8px; top: 8px; z-index: 1; }
.top {
  display: flex; align-items: center; gap: 16px; flex-wrap: wrap;
  padding: 12px 24px; border-bottom: 1px solid var(--line); background: var(--soft);
}
.top h1 { margin: 0; font-size: 22px; }
#status { margin: 0; flex: 1; color: var(--muted); }
main { padding: 8px 24px 48px; max-width: 1400px; }
section { margin-top: 24px; }
section:focus { outline: none; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 16px; margin: 16px 0 4px; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
tbody th { background: transparent; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 600; border: 1px solid currentColor; }
.badge.alert { color: var(--alert-text); background: var(--alert-back); }
.badge.ok { color: var(--ok-text); background: var(--ok-back); }
.badge.warn { color: var(--warn-text); background: var(--warn-back); }
.badge.info { color: var(--info-text); background: var(--info-back); }
.mark { margin: 2px 0; }
ul.warnings { margin: 4px 0 16px; padding-left: 20px; }
ul.warnings li { margin: 4px 0; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 4px 0 8px; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; }
.muted, .note { color: var(--muted); }
.unavailable { color: var(--muted); font-style: italic; }
.error { color: var(--alert-text); }
.filters { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-end; margin-bottom: 8px; }
.filters label { display: flex; flex-direction: column; font-weight: 600; }
select, button {
  font: inherit; color: var(--text); background: #ffffff;
  border: 1px solid var(--line); border-radius: 4px; padding: 4px 10px; min-height: 32px;
}
button { cursor: pointer; background: var(--accent); color: #ffffff; border-color: var(--accent); }
a, summary { color: var(--accent); }
a:focus-visible, button:focus-visible, select:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px;
}
figure { margin: 8px 0; overflow-x: auto; }
figure svg { display: block; max-width: none; }
details { margin: 4px 0 16px; }
details ul { margin: 4px 0; padding-left: 20px; }
`;
