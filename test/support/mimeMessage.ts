/**
 * Reads a raw RFC 5322 message as an SMTP server received it: headers (unfolded, RFC 2047 words
 * decoded) and the text and HTML parts of a (possibly nested) multipart body, with
 * quoted-printable and base64 decoded. Enough to assert what a reader of the email would see.
 */

/** A received message. */
export interface ParsedMessage {
  readonly headers: ReadonlyMap<string, string>;
  readonly subject: string;
  readonly text?: string;
  readonly html?: string;
}

/** Parses a raw message. */
export function parseMimeMessage(raw: string): ParsedMessage {
  const { headers, body } = splitPart(raw);
  const found: { text?: string; html?: string } = {};
  collectParts(headers, body, found);
  return { headers, subject: headers.get("subject") ?? "", ...found };
}

/** The addresses in an address header (`"A" <a@x>, b@y`). */
export function addressesOf(header: string | undefined): string[] {
  if (!header) return [];
  return [...header.matchAll(/<([^>]+)>|([^\s,<>"]+@[^\s,<>"]+)/g)].map((match) =>
    (match[1] ?? match[2] ?? "").toLowerCase(),
  );
}

function splitPart(raw: string): { headers: Map<string, string>; body: string } {
  const normalized = raw.replace(/\r\n/g, "\n");
  const end = normalized.indexOf("\n\n");
  const head = end === -1 ? normalized : normalized.slice(0, end);
  const body = end === -1 ? "" : normalized.slice(end + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, " ").split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, decodeWords(line.slice(colon + 1).trim()));
  }
  return { headers, body };
}

function collectParts(
  headers: ReadonlyMap<string, string>,
  body: string,
  found: { text?: string; html?: string },
): void {
  const contentType = headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (/^multipart\//i.test(contentType) && boundary) {
    const sections = body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith("--")) break;
      const part = splitPart(section.replace(/^\n/, ""));
      collectParts(part.headers, part.body, found);
    }
    return;
  }
  const decoded = decodeBody(body, headers.get("content-transfer-encoding") ?? "7bit");
  if (/^text\/html/i.test(contentType) && found.html === undefined) found.html = decoded;
  else if (/^text\/plain/i.test(contentType) && found.text === undefined) found.text = decoded;
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "base64":
      return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
    case "quoted-printable":
      return decodeQuotedPrintable(body.replace(/\n$/, ""));
    default:
      return body.replace(/\n$/, "");
  }
}

function decodeQuotedPrintable(text: string): string {
  const softBreaksRemoved = text.replace(/=\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < softBreaksRemoved.length; i++) {
    const char = softBreaksRemoved[i]!;
    if (char === "=" && /^[0-9A-F]{2}$/i.test(softBreaksRemoved.slice(i + 1, i + 3))) {
      bytes.push(parseInt(softBreaksRemoved.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function decodeWords(value: string): string {
  // Whitespace between two encoded words is not part of the text (RFC 2047 section 6.2).
  return value
    .replace(/(=\?[^?]+\?[BQbq]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(
      /=\?([^?]+)\?([BQbq])\?([^?]*)\?=/g,
      (_match, _charset: string, kind: string, data: string) =>
        kind.toUpperCase() === "B"
          ? Buffer.from(data, "base64").toString("utf8")
          : decodeQuotedPrintable(data.replace(/_/g, " ")),
    );
}
