/**
 * Paging: follows `nextLink` until the service stops returning one.
 */
import type { Client, HttpResponse } from "@azure-rest/core-client";
import { armErrorFromResponse } from "../armErrors.js";

/** A page of a list operation. */
export interface PageBody<TItem> {
  value?: TItem[];
  nextLink?: string;
}

function assertPage(response: HttpResponse, operation: string): PageBody<unknown> {
  if (response.status !== "200") {
    throw armErrorFromResponse(
      { status: response.status, headers: response.headers, body: response.body },
      operation,
    );
  }
  return (response.body ?? {}) as PageBody<unknown>;
}

/**
 * Every item of a list operation, page after page.
 *
 * @param initialResponse - the first page, as the typed route returned it.
 * @param operation - what is being listed, for error messages.
 * @throws AppError when a page answers with an error.
 */
export async function* paginate<TItem>(
  client: Client,
  initialResponse: HttpResponse,
  operation: string,
): AsyncGenerator<TItem, void, undefined> {
  let page = assertPage(initialResponse, operation) as PageBody<TItem>;
  const seen = new Set<string>();
  for (;;) {
    yield* page.value ?? [];
    const next = page.nextLink;
    // A link seen before would loop forever; the service never repeats one.
    if (!next || seen.has(next)) return;
    seen.add(next);
    page = assertPage(await client.pathUnchecked(next).get(), operation) as PageBody<TItem>;
  }
}

/** Every item of a list operation, collected. */
export async function listAll<TItem>(
  client: Client,
  initialResponse: HttpResponse,
  operation: string,
): Promise<TItem[]> {
  const items: TItem[] = [];
  for await (const item of paginate<TItem>(client, initialResponse, operation)) items.push(item);
  return items;
}
