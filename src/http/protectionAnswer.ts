/** The answer to a protection request: the operation started or found, and where to follow it. */
import type { ProtectionAnswer } from "../application/protect.js";

/**
 * The 202 body and `Location` of a protection request. `existing` tells a repeated request from a
 * new start (whose status is then `Pending`); warnings appear only when there are some, so an
 * answer without them stays as it was before limits were checked.
 */
export function protectionAnswer(
  answer: ProtectionAnswer,
  requestUrl: string,
): { body: Record<string, unknown>; location: string } {
  const { instanceId: id, subject } = answer;
  const statusUrl = new URL(`/api/protections/${id}`, requestUrl).toString();
  const status = answer.started ? "Pending" : answer.status.runtimeStatus;
  const warnings = answer.warnings?.length ? { warnings: answer.warnings } : {};
  return {
    body: { id, ...subject, status, statusUrl, existing: !answer.started, ...warnings },
    location: statusUrl,
  };
}
