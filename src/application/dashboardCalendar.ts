/**
 * A policy's retention calendar as the API serves it: the vault's policy, simulated over the
 * asked window and drawn day by day (see `domain/policy/retentionCalendar.ts`).
 */
import { calendarWindow, retentionCalendar } from "../domain/policy/retentionCalendar.js";
import { getPolicy } from "./policies.js";
import type { VaultDependencies } from "./vaults.js";

/** The window a caller asks for: a UTC year, or `from` and `to`. */
export interface CalendarQuery {
  readonly year?: string;
  readonly from?: string;
  readonly to?: string;
}

/**
 * The SVG calendar of a vault's policy.
 *
 * @throws NotFoundError `POLICY_NOT_FOUND`; InvalidInputError for a bad or too long window.
 */
export async function policyCalendarSvg(
  deps: VaultDependencies,
  vault: string | undefined,
  name: string,
  query: CalendarQuery,
  now: Date,
): Promise<string> {
  // The window is checked first, so a bad query costs no policy read.
  const window = calendarWindow(query, now);
  const policy = await getPolicy(deps, vault, name);
  return retentionCalendar({ policy, policyName: policy.name ?? name, ...window });
}
