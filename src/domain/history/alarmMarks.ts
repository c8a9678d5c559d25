/**
 * The marks a person sees beside a job or a protected item when the job history raised an alarm
 * about it: what kind, when, and one line with the numbers, worded as the notification words them.
 */
import type { BackupAnomalyEvent, JobStuckEvent } from "../events/types.js";
import { describeEvent } from "../notifications/view.js";

/** An alarm raised about one job, as shown beside the job. */
export interface JobAlarmMark {
  readonly kind: "stuck" | "anomaly";
  /** When the history raised it (ISO 8601). */
  readonly raisedAt: string;
  /** The alarm's event id: the notification that announced it carries the same. */
  readonly eventId: string;
  /**
   * One line with the numbers, e.g. `Running for 2 h 5 min; expected within 40 min (3 times the
   * usual)` or `Size down to 4.2 % of the usual: 1.2 MiB against a usual 28.3 MiB (...)`.
   */
  readonly summary: string;
}

/** The alarm events a mark is made from. */
export type AlarmEvent = JobStuckEvent | BackupAnomalyEvent;

function fact(event: AlarmEvent, title: string): string | undefined {
  return describeEvent(event).facts.find((f) => f.title === title)?.value;
}

/** The mark of one alarm, raised at `raisedAt`. */
export function jobAlarmMark(event: AlarmEvent, raisedAt: string): JobAlarmMark {
  if (event.type === "PgProtect.Job.Stuck") {
    return {
      kind: "stuck",
      raisedAt,
      eventId: event.id,
      summary: `Running for ${fact(event, "Running for") ?? "?"} when reported; expected within ${fact(event, "Expected within") ?? "?"}`,
    };
  }
  const measures = event.data.findings.map((finding) => {
    const numbers = fact(event, finding.measure === "size" ? "Size" : "Duration");
    return `${finding.measure === "size" ? "size" : "duration"} ${numbers ?? ""}`.trim();
  });
  return {
    kind: "anomaly",
    raisedAt,
    eventId: event.id,
    summary: `${fact(event, "Status") ?? "Departs from the usual"}: ${measures.join("; ")}`,
  };
}

/** What a protected item shows of its alarms. */
export interface InstanceAlarmMarks {
  /** Its running job that was reported stuck, while it still runs. */
  readonly stuck: InstanceAlarmMark | null;
  /** Its latest completed backup, when that backup departed from the usual. */
  readonly anomaly: InstanceAlarmMark | null;
}

/** A mark on a protected item: the job it came from, and the alarm. */
export interface InstanceAlarmMark extends JobAlarmMark {
  /** The job's GUID. */
  readonly jobName: string;
  /** The job's ARM id. */
  readonly jobId: string;
}
