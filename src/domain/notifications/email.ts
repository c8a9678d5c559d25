/**
 * Email content: a subject, a plain-text body and an HTML body carrying the same facts. Every
 * value from outside is HTML-escaped in the HTML body and stripped of line breaks in the subject
 * (a line break in a header would let a datasource name add headers).
 */
import type { PendingDigest } from "./digest.js";
import { linkFor, type LinkTemplates } from "./links.js";
import { clip, datasourceAndVault, escapeHtml, formatCount, singleLine } from "./text.js";
import { groupByDatasource } from "./teamsCard.js";
import { digestLead, digestTitle, groupSummary } from "./digestWording.js";
import { formatTime, type Fact, type NotificationView, type Tone } from "./view.js";

/** What an email says; the sender adds the addresses. */
export interface EmailContent {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** Options of the email renderers. */
export interface EmailRenderOptions {
  readonly links: LinkTemplates;
  readonly ruleNames?: readonly string[];
  /** Default `[pgprotect]`. */
  readonly subjectPrefix?: string;
}

// Long enough for any service error; a runaway text (a whole log) is cut so the mail stays small.
const MAX_ERROR_CHARS = 20_000;
const MAX_SUBJECT_CHARS = 200;

const toneColor: Record<Tone, string> = {
  good: "#107c10",
  attention: "#c50f1f",
  warning: "#bc4b09",
  accent: "#0f6cbd",
};

/** The email about one event. */
export function emailFor(view: NotificationView, options: EmailRenderOptions): EmailContent {
  const link = linkFor(view, options.links);
  const subject = subjectLine(
    options,
    `${view.title}: ${datasourceAndVault(view.datasourceName, view.vaultName)}`,
  );
  const errors = view.errors.map((error) => ({
    ...error,
    clipped: clip(error.message, MAX_ERROR_CHARS),
  }));

  const text: string[] = [`${view.title}: ${view.datasourceName}`, ""];
  const width = Math.max(...view.facts.map((fact) => fact.title.length));
  for (const fact of view.facts)
    text.push(`${`${fact.title}:`.padEnd(width + 2)}${singleLine(fact.value)}`);
  errors.forEach((error, index) => {
    text.push(
      "",
      errors.length > 1 ? `Error ${index + 1}: ${error.code}` : `Error: ${error.code}`,
      error.clipped.text,
    );
    if (error.clipped.truncated) text.push(truncationNote(error.clipped.originalLength));
    const actions = error.recommendedAction ?? [];
    if (actions.length > 0)
      text.push("", "Recommended action:", ...actions.map((action) => `- ${action}`));
  });
  if (link) text.push("", `${view.job ? "Job" : "Details"}: ${link}`);
  text.push("", footerText(options, view.occurredAt));

  const html = page(
    subject,
    [
      heading(`${view.title}: ${view.datasourceName}`, view.tone),
      factTable(view.facts),
      ...errors.map((error, index) =>
        [
          `<h3 style="color:${toneColor.attention};margin:16px 0 4px">${escapeHtml(errors.length > 1 ? `Error ${index + 1}` : "Error")}: <code>${escapeHtml(error.code)}</code></h3>`,
          `<pre style="white-space:pre-wrap;font-family:inherit;margin:0">${escapeHtml(error.clipped.text)}</pre>`,
          error.clipped.truncated
            ? `<p style="color:#616161"><em>${escapeHtml(truncationNote(error.clipped.originalLength))}</em></p>`
            : "",
          (error.recommendedAction ?? []).length > 0
            ? `<h4 style="margin:12px 0 4px">Recommended action</h4><ul>${(error.recommendedAction ?? []).map((action) => `<li>${escapeHtml(action)}</li>`).join("")}</ul>`
            : "",
        ].join(""),
      ),
      link
        ? `<p><a href="${escapeHtml(link)}">${view.job ? "Open job" : "Open in portal"}</a></p>`
        : "",
      `<p style="color:#616161;font-size:12px">${escapeHtml(footerText(options, view.occurredAt))}</p>`,
    ].join("\n"),
  );
  return { subject, text: `${text.join("\n")}\n`, html };
}

/** The email of a digest. */
export function digestEmailFor(digest: PendingDigest, options: EmailRenderOptions): EmailContent {
  const groups = groupByDatasource(digest.entries);
  const title = digestTitle(digest.entries, groups.length);
  const lead = digestLead(digest.entries);
  const first = digest.entries[0];
  const last = digest.entries[digest.entries.length - 1];
  const span =
    first && last ? `From ${formatTime(first.occurredAt)} to ${formatTime(last.occurredAt)}.` : "";
  const subject = subjectLine(options, `Digest: ${title}`);

  const text: string[] = [title, span, lead, ""];
  const sections: string[] = [];
  for (const group of groups) {
    const latest = group.entries[group.entries.length - 1]!;
    const headline = `${datasourceAndVault(latest.datasourceName, latest.vaultName)}: ${groupSummary(group.entries)}`;
    text.push(singleLine(headline));
    const rows: Fact[] = group.entries.map((entry) => ({
      title: formatTime(entry.occurredAt),
      value: `${entry.title}${entry.errorCode ? ` - ${entry.errorCode}` : ""}${entry.errorMessage ? `: ${entry.errorMessage}` : ""}`,
    }));
    for (const row of rows) text.push(`  ${row.title}  ${singleLine(row.value)}`);
    text.push("");
    sections.push(`<h3 style="margin:16px 0 4px">${escapeHtml(headline)}</h3>${factTable(rows)}`);
  }
  text.push(footerText(options, last?.occurredAt));
  const html = page(
    subject,
    [
      heading(title, "attention"),
      `<p>${escapeHtml(span)} ${escapeHtml(lead)}</p>`,
      ...sections,
      `<p style="color:#616161;font-size:12px">${escapeHtml(footerText(options, last?.occurredAt))}</p>`,
    ].join("\n"),
  );
  return { subject, text: `${text.join("\n")}\n`, html };
}

function subjectLine(options: EmailRenderOptions, text: string): string {
  const prefix = singleLine(options.subjectPrefix ?? "[pgprotect]");
  return clip(singleLine(`${prefix} ${text}`), MAX_SUBJECT_CHARS).text;
}

function truncationNote(originalLength: number): string {
  return `(Shortened: the message has ${formatCount(originalLength)} characters; the full text is in the job details.)`;
}

function footerText(options: EmailRenderOptions, occurredAt: string | undefined): string {
  return [
    "Sent by pgprotect",
    options.ruleNames && options.ruleNames.length > 0
      ? `routing rule: ${options.ruleNames.join(", ")}`
      : undefined,
    occurredAt ? `event time: ${formatTime(occurredAt)}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(" · ");
}

function heading(text: string, tone: Tone): string {
  return `<h2 style="color:${toneColor[tone]};margin:0 0 12px">${escapeHtml(text)}</h2>`;
}

function factTable(facts: readonly Fact[]): string {
  const rows = facts
    .map(
      (fact) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0;vertical-align:top">${escapeHtml(fact.title)}</th><td style="padding:2px 0">${escapeHtml(fact.value)}</td></tr>`,
    )
    .join("");
  return `<table style="border-collapse:collapse">${rows}</table>`;
}

function page(title: string, content: string): string {
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title></head>`,
    '<body style="font-family:Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#242424">',
    content,
    "</body></html>",
    "",
  ].join("\n");
}
