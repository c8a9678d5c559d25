/**
 * Teams messages: an Adaptive Card 1.4 in the `attachments` of the payload a Teams Workflows
 * webhook ("When a Teams webhook request is received") accepts.
 *
 * @remarks Workflows rejects cards above version 1.4 and messages above 28 KB
 * (`MessageSizeExceeded`). Every text that comes from outside (error messages above all) is
 * clipped until the whole payload fits, and the card says what was shortened.
 */
import type { DigestEntry, PendingDigest } from "./digest.js";
import { linkFor, type LinkTemplates } from "./links.js";
import { clip, datasourceAndVault, formatCount, singleLine } from "./text.js";
import { digestLead, digestTitle, groupSummary } from "./digestWording.js";
import { formatTime, type NotificationView, type Tone } from "./view.js";
import { utf8Length } from "../events/stableId.js";

/** The Workflows limit, in bytes. */
export const TEAMS_MESSAGE_LIMIT_BYTES = 28 * 1024;
/** What pgprotect allows itself: under 28 KB however a kilobyte is counted. */
export const TEAMS_MESSAGE_BUDGET_BYTES = 28_000;

/** A JSON value of an Adaptive Card. */
export type CardElement = Readonly<Record<string, unknown>>;

/** An Adaptive Card 1.4. */
export interface AdaptiveCard {
  readonly $schema: "http://adaptivecards.io/schemas/adaptive-card.json";
  readonly type: "AdaptiveCard";
  readonly version: "1.4";
  readonly body: readonly CardElement[];
  readonly actions?: readonly CardElement[];
  readonly msteams?: { readonly width: "Full" };
}

/** The payload posted to a Teams Workflows webhook. */
export interface TeamsMessage {
  readonly type: "message";
  readonly attachments: readonly [
    {
      readonly contentType: "application/vnd.microsoft.card.adaptive";
      readonly contentUrl: null;
      readonly content: AdaptiveCard;
    },
  ];
}

/** Options of the Teams renderers. */
export interface TeamsRenderOptions {
  readonly links: LinkTemplates;
  /** The routing rules that sent the event to this channel, shown in small print. */
  readonly ruleNames?: readonly string[];
  /** Default {@link TEAMS_MESSAGE_BUDGET_BYTES}; tests lower it to exercise clipping. */
  readonly budgetBytes?: number;
}

interface Limits {
  readonly errorChars: number;
  readonly fieldChars: number;
  readonly maxErrors: number;
  readonly maxEntries: number;
}

// Tried in order until the payload fits; the last step fits any input, its texts being bounded.
const ladder: readonly Limits[] = [
  { errorChars: 20_000, fieldChars: 1_000, maxErrors: 5, maxEntries: 50 },
  { errorChars: 8_000, fieldChars: 500, maxErrors: 3, maxEntries: 30 },
  { errorChars: 4_000, fieldChars: 300, maxErrors: 3, maxEntries: 20 },
  { errorChars: 2_000, fieldChars: 200, maxErrors: 2, maxEntries: 15 },
  { errorChars: 1_000, fieldChars: 150, maxErrors: 1, maxEntries: 10 },
  { errorChars: 400, fieldChars: 100, maxErrors: 1, maxEntries: 5 },
  { errorChars: 100, fieldChars: 60, maxErrors: 1, maxEntries: 3 },
];

const toneColor: Record<Tone, string> = {
  good: "Good",
  attention: "Attention",
  warning: "Warning",
  accent: "Accent",
};
const toneStyle: Record<Tone, string> = {
  good: "good",
  attention: "attention",
  warning: "warning",
  accent: "accent",
};
const toneIcon: Record<Tone, string> = { good: "✅", attention: "❌", warning: "⚠️", accent: "ℹ️" };

/** The size of a payload as posted: UTF-8 bytes of its JSON. */
export function teamsMessageBytes(message: TeamsMessage): number {
  return utf8Length(JSON.stringify(message));
}

/** The Teams message of one event. */
export function teamsMessageFor(view: NotificationView, options: TeamsRenderOptions): TeamsMessage {
  return fit(options, (limits) => eventCard(view, options, limits));
}

/** The Teams message of a digest. */
export function teamsDigestMessageFor(
  digest: PendingDigest,
  options: TeamsRenderOptions,
): TeamsMessage {
  return fit(options, (limits) => digestCard(digest, options, limits));
}

function fit(options: TeamsRenderOptions, render: (limits: Limits) => AdaptiveCard): TeamsMessage {
  const budget = options.budgetBytes ?? TEAMS_MESSAGE_BUDGET_BYTES;
  let message: TeamsMessage | undefined;
  for (const limits of ladder) {
    message = wrap(render(limits));
    if (teamsMessageBytes(message) <= budget) return message;
  }
  // Only a budget far below Teams' own limit gets here; the smallest card is the best on offer.
  return message ?? wrap(render(ladder[ladder.length - 1]!));
}

function wrap(card: AdaptiveCard): TeamsMessage {
  return {
    type: "message",
    attachments: [
      { contentType: "application/vnd.microsoft.card.adaptive", contentUrl: null, content: card },
    ],
  };
}

function eventCard(
  view: NotificationView,
  options: TeamsRenderOptions,
  limits: Limits,
): AdaptiveCard {
  const shortened: string[] = [];
  const field = (text: string, what: string): string => {
    const clipped = clip(singleLine(text), limits.fieldChars);
    if (clipped.truncated) shortened.push(what);
    return clipped.text;
  };
  const body: CardElement[] = [
    header(
      `${toneIcon[view.tone]} ${view.title}: ${field(view.datasourceName, "the datasource name")}`,
      view.tone,
    ),
    {
      type: "FactSet",
      facts: view.facts.map((fact) => ({
        title: fact.title,
        value: field(fact.value, fact.title.toLowerCase()),
      })),
    },
  ];
  const errors = view.errors.slice(0, limits.maxErrors);
  errors.forEach((error, index) => {
    const message = clip(error.message, limits.errorChars);
    if (message.truncated) {
      shortened.push(
        `the error message (showing ${formatCount(Array.from(message.text).length - 1)} of ${formatCount(message.originalLength)} characters)`,
      );
    }
    const items: CardElement[] = [
      {
        type: "TextBlock",
        text: errors.length > 1 ? `Error ${index + 1}` : "Error",
        weight: "Bolder",
        color: "Attention",
        wrap: true,
      },
      { type: "FactSet", facts: [{ title: "Code", value: field(error.code, "the error code") }] },
      { type: "TextBlock", text: message.text, wrap: true },
    ];
    const actions = error.recommendedAction ?? [];
    if (actions.length > 0) {
      items.push({
        type: "TextBlock",
        text: "Recommended action",
        weight: "Bolder",
        wrap: true,
        spacing: "Medium",
      });
      for (const action of actions.slice(0, 3)) {
        const clipped = clip(action, limits.fieldChars * 2);
        if (clipped.truncated) shortened.push("the recommended action");
        items.push({ type: "TextBlock", text: `• ${clipped.text}`, wrap: true, spacing: "Small" });
      }
    }
    body.push({ type: "Container", style: "emphasis", separator: true, spacing: "Medium", items });
  });
  if (view.errors.length > errors.length) {
    const more = view.errors.length - errors.length;
    body.push({
      type: "TextBlock",
      text: `${more} more error${more === 1 ? "" : "s"} not shown.`,
      isSubtle: true,
      wrap: true,
    });
  }
  return card(
    body,
    shortened,
    linkFor(view, options.links),
    view.job ? "Open job" : "Open in portal",
    options,
    view.occurredAt,
  );
}

function digestCard(
  digest: PendingDigest,
  options: TeamsRenderOptions,
  limits: Limits,
): AdaptiveCard {
  const shortened: string[] = [];
  const byDatasource = groupByDatasource(digest.entries);
  const lead = digestLead(digest.entries);
  const first = digest.entries[0];
  const last = digest.entries[digest.entries.length - 1];
  const body: CardElement[] = [
    header(
      `${toneIcon.attention} ${digestTitle(digest.entries, byDatasource.length)}`,
      "attention",
    ),
    {
      type: "TextBlock",
      text:
        first && last
          ? `From ${formatTime(first.occurredAt)} to ${formatTime(last.occurredAt)}. ${lead}`
          : lead,
      wrap: true,
      isSubtle: true,
    },
  ];
  const shown = byDatasource.slice(0, limits.maxEntries);
  for (const group of shown) {
    const latest = group.entries[group.entries.length - 1]!;
    const name = clip(singleLine(latest.datasourceName), limits.fieldChars);
    if (name.truncated) shortened.push("a datasource name");
    const items: CardElement[] = [
      {
        type: "TextBlock",
        text: `${datasourceAndVault(name.text, clip(singleLine(latest.vaultName), limits.fieldChars).text)}: ${groupSummary(group.entries)}`,
        weight: "Bolder",
        wrap: true,
      },
      {
        type: "FactSet",
        facts: [
          { title: "Latest", value: `${latest.title}, ${formatTime(latest.occurredAt)}` },
          ...(latest.errorCode
            ? [{ title: "Code", value: clip(singleLine(latest.errorCode), limits.fieldChars).text }]
            : []),
        ],
      },
    ];
    if (latest.errorMessage) {
      const message = clip(latest.errorMessage, Math.min(limits.errorChars, 300));
      if (message.truncated) shortened.push("error messages");
      items.push({ type: "TextBlock", text: message.text, wrap: true, isSubtle: true });
    }
    body.push({ type: "Container", separator: true, items });
  }
  if (byDatasource.length > shown.length) {
    const more = byDatasource.length - shown.length;
    body.push({
      type: "TextBlock",
      text: `${more} more datasource${more === 1 ? "" : "s"} not shown; see the job list for all of them.`,
      wrap: true,
      weight: "Bolder",
    });
  }
  return card(body, [...new Set(shortened)], undefined, "", options, last?.occurredAt);
}

function header(text: string, tone: Tone): CardElement {
  return {
    type: "Container",
    style: toneStyle[tone],
    bleed: true,
    items: [
      {
        type: "TextBlock",
        text,
        size: "Large",
        weight: "Bolder",
        color: toneColor[tone],
        wrap: true,
      },
    ],
  };
}

function card(
  body: CardElement[],
  shortened: readonly string[],
  link: string | undefined,
  linkTitle: string,
  options: TeamsRenderOptions,
  occurredAt: string | undefined,
): AdaptiveCard {
  if (shortened.length > 0) {
    body.push({
      type: "TextBlock",
      text: `Shortened to fit the 28 KB Teams message limit: ${[...new Set(shortened)].join("; ")}. The full text is in the job details.`,
      wrap: true,
      isSubtle: true,
      color: "Warning",
      spacing: "Medium",
    });
  }
  const footer = [
    options.ruleNames && options.ruleNames.length > 0
      ? `Routing rule: ${options.ruleNames
          .slice(0, 5)
          .map((name) => clip(singleLine(name), 100).text)
          .join(", ")}`
      : undefined,
    occurredAt ? `Event time: ${formatTime(occurredAt)}` : undefined,
  ].filter((part): part is string => part !== undefined);
  if (footer.length > 0)
    body.push({
      type: "TextBlock",
      text: `pgprotect · ${footer.join(" · ")}`,
      size: "Small",
      isSubtle: true,
      wrap: true,
    });
  return {
    $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
    type: "AdaptiveCard",
    version: "1.4",
    body,
    ...(link ? { actions: [{ type: "Action.OpenUrl", title: linkTitle, url: link }] } : {}),
    msteams: { width: "Full" },
  };
}

/** Digest entries grouped per datasource, the most affected first. */
export function groupByDatasource(
  entries: readonly DigestEntry[],
): { datasourceId: string; entries: DigestEntry[] }[] {
  const groups = new Map<string, DigestEntry[]>();
  for (const entry of entries) {
    const key = entry.datasourceId.toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), entry]);
  }
  return [...groups.entries()]
    .map(([datasourceId, group]) => ({ datasourceId, entries: group }))
    .sort(
      (a, b) => b.entries.length - a.entries.length || a.datasourceId.localeCompare(b.datasourceId),
    );
}
