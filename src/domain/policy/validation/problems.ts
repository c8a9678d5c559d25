/**
 * What the section validators of a policy share: the problem they report, the list they append to,
 * and the JSON shape checks they all need.
 */
import type { ErrorCode, InputProblem } from "../../errors.js";

/** A problem found in a policy. Errors make the service reject it; warnings are legal but likely wrong. */
export interface PolicyProblem extends InputProblem {
  readonly severity: "error" | "warning";
}

/**
 * The problems found so far, in the order they were found: that order is part of the answer
 * (the first ones are listed, the rest only counted), so every section appends here in turn.
 */
export class PolicyProblems {
  readonly list: PolicyProblem[] = [];

  /** Records a problem that makes the service reject the policy. */
  error(path: string, code: ErrorCode, message: string): void {
    this.list.push({ path, code, message, severity: "error" });
  }

  /** Records a problem that is legal but likely a mistake. */
  warn(path: string, code: ErrorCode, message: string): void {
    this.list.push({ path, code, message, severity: "warning" });
  }
}

/** A JSON object, as read from the document. */
export type Json = Record<string, unknown>;

/** Whether a value is a JSON object (not null, not a list). */
export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A policy rule with the JSON path it sits at. */
export interface LocatedRule {
  readonly rule: Json;
  readonly path: string;
}
