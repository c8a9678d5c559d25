/**
 * A structural check of Teams Workflows messages carrying an Adaptive Card 1.4, written from the
 * Adaptive Cards 1.4 schema rather than from pgprotect's builder, so a builder bug cannot hide
 * behind a check that shares its assumptions.
 *
 * Checks: the `message` envelope; `type` AdaptiveCard and `version` "1.4"; body elements of
 * types that exist in 1.4 with only the properties 1.4 defines (so 1.5 additions such as
 * `TextBlock.style` or `Table` are refused); enum values from 1.4; actions limited to
 * `Action.OpenUrl` with an absolute http(s) URL.
 */

const common = [
  "type",
  "id",
  "isVisible",
  "separator",
  "spacing",
  "height",
  "requires",
  "fallback",
];

const elementProperties: Record<string, readonly string[]> = {
  TextBlock: [
    ...common,
    "text",
    "color",
    "fontType",
    "horizontalAlignment",
    "isSubtle",
    "maxLines",
    "size",
    "weight",
    "wrap",
  ],
  Image: [
    ...common,
    "url",
    "altText",
    "backgroundColor",
    "horizontalAlignment",
    "selectAction",
    "size",
    "style",
    "width",
  ],
  Media: [...common, "sources", "poster", "altText"],
  RichTextBlock: [...common, "inlines", "horizontalAlignment"],
  Container: [
    ...common,
    "items",
    "selectAction",
    "style",
    "verticalContentAlignment",
    "bleed",
    "backgroundImage",
    "minHeight",
  ],
  ColumnSet: [
    ...common,
    "columns",
    "selectAction",
    "style",
    "bleed",
    "minHeight",
    "horizontalAlignment",
  ],
  FactSet: [...common, "facts"],
  ImageSet: [...common, "images", "imageSize"],
  ActionSet: [...common, "actions"],
  "Input.Text": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "placeholder",
    "isMultiline",
    "maxLength",
    "style",
    "inlineAction",
    "regex",
  ],
  "Input.Number": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "placeholder",
    "min",
    "max",
  ],
  "Input.Date": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "placeholder",
    "min",
    "max",
  ],
  "Input.Time": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "placeholder",
    "min",
    "max",
  ],
  "Input.Toggle": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "title",
    "valueOn",
    "valueOff",
    "wrap",
  ],
  "Input.ChoiceSet": [
    ...common,
    "label",
    "isRequired",
    "errorMessage",
    "value",
    "placeholder",
    "choices",
    "isMultiSelect",
    "style",
    "wrap",
  ],
};

const cardProperties = [
  "$schema",
  "type",
  "version",
  "body",
  "actions",
  "selectAction",
  "fallbackText",
  "backgroundImage",
  "minHeight",
  "speak",
  "lang",
  "verticalContentAlignment",
  "refresh",
  "authentication",
  "msteams",
];

const openUrlProperties = [
  "type",
  "id",
  "title",
  "iconUrl",
  "style",
  "fallback",
  "requires",
  "url",
];

const enums: Record<string, readonly string[]> = {
  size: ["default", "small", "medium", "large", "extralarge", "auto", "stretch"],
  weight: ["default", "lighter", "bolder"],
  color: ["default", "dark", "light", "accent", "good", "warning", "attention"],
  spacing: ["none", "small", "default", "medium", "large", "extralarge", "padding"],
  horizontalAlignment: ["left", "center", "right"],
  fontType: ["default", "monospace"],
};

const containerStyles = ["default", "emphasis", "good", "attention", "warning", "accent"];

/** Problems found, each with a JSON path; empty when the message passes. */
export function adaptiveCardProblems(message: unknown): string[] {
  const problems: string[] = [];
  const record = asRecord(message);
  if (!record) return ["$: not an object"];
  if (record["type"] !== "message")
    problems.push(`$.type: expected "message", got ${JSON.stringify(record["type"])}`);
  const attachments = record["attachments"];
  if (!Array.isArray(attachments) || attachments.length === 0)
    return [...problems, "$.attachments: expected a non-empty array"];
  attachments.forEach((attachment, index) => {
    const at = `$.attachments[${index}]`;
    const item = asRecord(attachment);
    if (!item) return problems.push(`${at}: not an object`);
    if (item["contentType"] !== "application/vnd.microsoft.card.adaptive")
      problems.push(`${at}.contentType: not an Adaptive Card`);
    checkCard(item["content"], `${at}.content`, problems);
  });
  return problems;
}

function checkCard(value: unknown, at: string, problems: string[]): void {
  const card = asRecord(value);
  if (!card) return void problems.push(`${at}: not an object`);
  if (card["type"] !== "AdaptiveCard") problems.push(`${at}.type: expected "AdaptiveCard"`);
  if (card["version"] !== "1.4")
    problems.push(`${at}.version: expected "1.4", got ${JSON.stringify(card["version"])}`);
  unknownProperties(card, cardProperties, at, problems);
  const body = card["body"];
  if (!Array.isArray(body) || body.length === 0)
    problems.push(`${at}.body: expected a non-empty array`);
  else body.forEach((element, index) => checkElement(element, `${at}.body[${index}]`, problems));
  if (card["actions"] !== undefined) checkActions(card["actions"], `${at}.actions`, problems);
  const msteams = asRecord(card["msteams"]);
  if (
    card["msteams"] !== undefined &&
    (!msteams || !["Full", undefined].includes(msteams["width"] as string | undefined))
  ) {
    problems.push(`${at}.msteams: expected { width: "Full" }`);
  }
}

function checkElement(value: unknown, at: string, problems: string[]): void {
  const element = asRecord(value);
  if (!element) return void problems.push(`${at}: not an object`);
  const type = element["type"];
  const allowed = typeof type === "string" ? elementProperties[type] : undefined;
  if (!allowed)
    return void problems.push(
      `${at}.type: ${JSON.stringify(type)} is not an Adaptive Card 1.4 element`,
    );
  unknownProperties(element, allowed, at, problems);
  for (const [property, values] of Object.entries(enums)) {
    const actual = element[property];
    if (actual === undefined || (property === "size" && type === "Image")) continue;
    if (typeof actual !== "string" || !values.includes(actual.toLowerCase())) {
      problems.push(`${at}.${property}: ${JSON.stringify(actual)} is not a valid value`);
    }
  }
  for (const flag of ["wrap", "isSubtle", "separator", "bleed", "isVisible"]) {
    if (element[flag] !== undefined && typeof element[flag] !== "boolean")
      problems.push(`${at}.${flag}: expected a boolean`);
  }
  switch (type) {
    case "TextBlock":
      if (typeof element["text"] !== "string" || element["text"] === "")
        problems.push(`${at}.text: expected a non-empty string`);
      break;
    case "Image":
      if (typeof element["url"] !== "string") problems.push(`${at}.url: expected a string`);
      break;
    case "FactSet": {
      const facts = element["facts"];
      if (!Array.isArray(facts) || facts.length === 0)
        problems.push(`${at}.facts: expected a non-empty array`);
      else
        facts.forEach((fact, index) => {
          const entry = asRecord(fact);
          if (!entry || typeof entry["title"] !== "string" || typeof entry["value"] !== "string") {
            problems.push(`${at}.facts[${index}]: expected { title: string, value: string }`);
          } else unknownProperties(entry, ["title", "value"], `${at}.facts[${index}]`, problems);
        });
      break;
    }
    case "Container": {
      const style = element["style"];
      if (
        style !== undefined &&
        (typeof style !== "string" || !containerStyles.includes(style.toLowerCase()))
      ) {
        problems.push(`${at}.style: ${JSON.stringify(style)} is not a container style`);
      }
      const items = element["items"];
      if (!Array.isArray(items) || items.length === 0)
        problems.push(`${at}.items: expected a non-empty array`);
      else items.forEach((item, index) => checkElement(item, `${at}.items[${index}]`, problems));
      break;
    }
    case "ColumnSet": {
      const columns = element["columns"];
      if (columns !== undefined && !Array.isArray(columns))
        problems.push(`${at}.columns: expected an array`);
      (Array.isArray(columns) ? columns : []).forEach((column, index) => {
        const entry = asRecord(column);
        if (!entry || entry["type"] !== "Column")
          return void problems.push(`${at}.columns[${index}]: expected a Column`);
        const items = entry["items"];
        if (Array.isArray(items))
          items.forEach((item, itemIndex) =>
            checkElement(item, `${at}.columns[${index}].items[${itemIndex}]`, problems),
          );
      });
      break;
    }
    case "ActionSet":
      checkActions(element["actions"], `${at}.actions`, problems);
      break;
  }
}

function checkActions(value: unknown, at: string, problems: string[]): void {
  if (!Array.isArray(value)) return void problems.push(`${at}: expected an array`);
  value.forEach((entry, index) => {
    const action = asRecord(entry);
    const path = `${at}[${index}]`;
    if (!action) return void problems.push(`${path}: not an object`);
    if (action["type"] !== "Action.OpenUrl")
      return void problems.push(
        `${path}.type: only Action.OpenUrl is allowed, got ${JSON.stringify(action["type"])}`,
      );
    unknownProperties(action, openUrlProperties, path, problems);
    const url = action["url"];
    if (typeof url !== "string" || !/^https?:\/\//i.test(url) || !URL.canParse(url))
      problems.push(`${path}.url: expected an absolute http(s) URL`);
    if (action["title"] !== undefined && typeof action["title"] !== "string")
      problems.push(`${path}.title: expected a string`);
  });
}

function unknownProperties(
  value: Record<string, unknown>,
  allowed: readonly string[],
  at: string,
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      problems.push(
        `${at}.${key}: not a property of ${String(value["type"] ?? "this object")} in Adaptive Cards 1.4`,
      );
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Every text a reader sees in the card (TextBlocks, fact titles and values, action titles), in order. */
export function visibleTexts(message: unknown): string[] {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    const record = asRecord(value);
    if (!record) return;
    if (record["type"] === "TextBlock" && typeof record["text"] === "string")
      texts.push(record["text"]);
    if (record["type"] === "Action.OpenUrl" && typeof record["title"] === "string")
      texts.push(record["title"]);
    if (typeof record["title"] === "string" && typeof record["value"] === "string")
      texts.push(`${record["title"]}: ${record["value"]}`);
    for (const [key, child] of Object.entries(record)) if (key !== "type") walk(child);
  };
  walk(message);
  return texts;
}

/** The facts of every FactSet, title to value (later facts of the same title win). */
export function factsOf(message: unknown): Record<string, string> {
  const facts: Record<string, string> = {};
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    const record = asRecord(value);
    if (!record) return;
    if (record["type"] === "FactSet" && Array.isArray(record["facts"])) {
      for (const fact of record["facts"]) {
        const entry = asRecord(fact);
        if (entry && typeof entry["title"] === "string" && typeof entry["value"] === "string")
          facts[entry["title"]] = entry["value"];
      }
    }
    Object.values(record).forEach(walk);
  };
  walk(message);
  return facts;
}

/** The URLs of every Action.OpenUrl. */
export function openUrls(message: unknown): string[] {
  const urls: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(walk);
    const record = asRecord(value);
    if (!record) return;
    if (record["type"] === "Action.OpenUrl" && typeof record["url"] === "string")
      urls.push(record["url"]);
    Object.values(record).forEach(walk);
  };
  walk(message);
  return urls;
}
