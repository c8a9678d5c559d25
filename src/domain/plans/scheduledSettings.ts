/**
 * What the scheduled settings (`BACKUP_PLANS`, `DRILL_SCHEDULES`) have in common: a unique name,
 * a six-field NCRONTAB schedule in UTC with an optional calendar refinement, a vault and a
 * catch-up window, read from a JSON list whose problems are answered with a JSON path each. One
 * rule for both, so that a schedule reads and is refused the same in either setting.
 */
import { z } from "zod";
import type { ErrorCode } from "../errorCodes.js";
import { InvalidInputError, type InputProblem } from "../errors.js";
import { calendarRefinements } from "./calendar.js";
import { parseCronSchedule } from "./cron.js";

/** The fields every scheduled setting's entry has, to spread into its zod object. */
export const scheduledFields = {
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/,
      "1-40 letters, digits, '-' or '_', starting with a letter or digit",
    ),
  schedule: z.string().superRefine((value, ctx) => {
    try {
      parseCronSchedule(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
  calendar: z.enum(calendarRefinements).optional(),
  /** The vault's name; the app's default vault when absent. */
  vault: z.string().min(1).optional(),
  /** How long after its time a missed occurrence still runs (the host was down), in hours. */
  catchUpHours: z.number().positive().max(48).default(1),
};

/** The selection by instance name (or friendly name `server/db`) and by datasource tags. */
export const selectionFields = {
  backupInstances: z.array(z.string().min(1)).optional(),
  tags: z.record(z.string(), z.string()).optional(),
};

/** Which setting is read, as its errors name it. */
export interface ScheduledSetting {
  /** The environment variable, e.g. `BACKUP_PLANS`. */
  readonly setting: string;
  readonly code: ErrorCode;
  /** What one entry is called, e.g. `plan`. */
  readonly entry: string;
}

/**
 * Parses a scheduled setting's JSON list: valid entries with names unique regardless of case.
 *
 * @throws InvalidInputError with the setting's code and a JSON path per problem.
 */
export function parseScheduledSetting<T extends { readonly name: string }>(
  text: string,
  entrySchema: z.ZodType<T>,
  { setting, code, entry }: ScheduledSetting,
): T[] {
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidInputError(code, `${setting} is not JSON: ${(error as Error).message}`, [
      { path: "$", code, message: "not JSON" },
    ]);
  }
  const result = z.array(entrySchema).safeParse(json);
  if (!result.success) {
    const problems: InputProblem[] = result.error.issues.map((issue) => ({
      path: `$${issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("")}`,
      code,
      message: issue.message,
    }));
    throw new InvalidInputError(
      code,
      `${setting} is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`,
      problems,
    );
  }
  const names = new Set<string>();
  for (const [index, item] of result.data.entries()) {
    if (names.has(item.name.toLowerCase())) {
      throw new InvalidInputError(code, `${setting} names the ${entry} '${item.name}' twice`, [
        { path: `$[${index}].name`, code, message: `${entry} names must be unique` },
      ]);
    }
    names.add(item.name.toLowerCase());
  }
  return result.data;
}
