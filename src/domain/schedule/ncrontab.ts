/**
 * Six-field NCRONTAB schedules, read as the Functions timer trigger reads them. Backup plans speak
 * the timer trigger's schedule language on purpose, so the domain takes the one reader the runtime
 * package owns (`@pgprotect/functions-runtime/ncrontab`, pure and import-free) rather than a second
 * copy; this module is the domain's only way into the runtime (lint-enforced).
 */
export {
  occurrencesBetween,
  parseNcrontab,
  type NcrontabClock,
  type NcrontabOptions,
  type NcrontabSchedule,
} from "@pgprotect/functions-runtime/ncrontab";
