/**
 * The rules of the alarms the job history raises: when a running job has run longer than its own
 * history says it should (stuck), and when a completed backup departs from the backups of its
 * instance before it (anomaly). Pure: the history is handed in.
 */

/** The settings of the stuck-job rule. */
export interface StuckRule {
  /** A job is stuck past this many times the 95th percentile of earlier runs (default 3). */
  readonly factor: number;
  /** Never sooner than this, however fast earlier runs were (minutes). */
  readonly floorMinutes: number;
  /** Always by this, however slow earlier runs were or when there are none (hours). */
  readonly ceilingHours: number;
}

/** The settings of the anomaly rule. */
export interface AnomalyRule {
  /**
   * A backup smaller than this fraction of its instance's usual size is an anomaly (e.g. 0.5: down
   * by half or more).
   */
  readonly sizeDropRatio: number;
  /** A backup taking more than this many times its instance's usual duration is an anomaly (e.g. 3). */
  readonly durationRatio: number;
}

/** How many earlier runs the rules look at, newest first. */
export const historyWindow = { runs: 20 } as const;

/**
 * A backup shorter than this is never a duration anomaly: a run of seconds triples on any busy
 * minute of its server, and nobody is helped by hearing of it.
 */
export const shortestJudgedDurationMs = 60_000;

/** The default rules: three times the p95, at least 30 minutes, at most a day; half the size, three times the duration. */
export const defaultStuckRule: StuckRule = { factor: 3, floorMinutes: 30, ceilingHours: 24 };
/** See {@link defaultStuckRule}. */
export const defaultAnomalyRule: AnomalyRule = { sizeDropRatio: 0.5, durationRatio: 3 };

/**
 * The 95th percentile of the values, by the nearest-rank method (the smallest value at or above
 * 95 % of them), or `undefined` for none. Nearest rank never invents a value no run had.
 */
export function percentile95(values: readonly number[]): number | undefined {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const rank = Math.ceil(0.95 * finite.length);
  return finite[Math.max(0, rank - 1)];
}

/** The median of the values, or `undefined` for none. */
export function median(values: readonly number[]): number | undefined {
  const finite = values.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const middle = Math.floor(finite.length / 2);
  const upper = finite[middle] as number;
  return finite.length % 2 === 1 ? upper : ((finite[middle - 1] as number) + upper) / 2;
}

/** How long a job may run before it counts as stuck, and what that was derived from. */
export interface StuckThreshold {
  /** Milliseconds. */
  readonly thresholdMs: number;
  /** The 95th percentile of the earlier runs (milliseconds), when there were any. */
  readonly p95Ms?: number;
  /** How many earlier runs it was derived from. */
  readonly runs: number;
  /** `history` when derived from earlier runs, or the bound that decided it. */
  readonly basis: "history" | "floor" | "ceiling";
}

/**
 * How long a job may run: `factor` times the 95th percentile of the earlier runs' durations
 * (milliseconds) of the same instance and operation, within the floor and the ceiling; the
 * ceiling when there are no earlier runs to judge by.
 */
export function stuckThreshold(
  earlierDurationsMs: readonly number[],
  rule: StuckRule = defaultStuckRule,
): StuckThreshold {
  const floorMs = rule.floorMinutes * 60_000;
  const ceilingMs = Math.max(floorMs, rule.ceilingHours * 3_600_000);
  const durations = earlierDurationsMs.filter((value) => Number.isFinite(value) && value >= 0);
  const p95 = percentile95(durations);
  if (p95 === undefined) return { thresholdMs: ceilingMs, runs: 0, basis: "ceiling" };
  const wanted = rule.factor * p95;
  const thresholdMs = Math.min(ceilingMs, Math.max(floorMs, wanted));
  const basis = wanted < floorMs ? "floor" : wanted > ceilingMs ? "ceiling" : "history";
  return { thresholdMs, p95Ms: p95, runs: durations.length, basis };
}

/** Whether a job running since `startMs` is stuck at `nowMs` by the threshold. */
export function isStuck(startMs: number, nowMs: number, threshold: StuckThreshold): boolean {
  return nowMs - startMs > threshold.thresholdMs;
}

/** A completed backup's numbers, and those of its instance's earlier backups. */
export interface BackupMeasure {
  /** Bytes of the recovery point (local) or transferred (Azure), when known. */
  readonly bytes?: number;
  readonly durationMs?: number;
}

/** One departure from the usual, with the numbers side by side. */
export interface AnomalyFinding {
  readonly measure: "size" | "duration";
  /** This backup's value (bytes or milliseconds). */
  readonly observed: number;
  /** The median of the earlier backups' values. */
  readonly usual: number;
  /** `observed / usual`. */
  readonly ratio: number;
  /** The ratio the rule allows (`sizeDropRatio` or `durationRatio`). */
  readonly limit: number;
}

/** What the anomaly rule found: nothing, or one finding per departing measure. */
export interface AnomalyVerdict {
  readonly anomalous: boolean;
  readonly findings: readonly AnomalyFinding[];
  /** How many earlier backups had each measure. */
  readonly baselineRuns: { readonly size: number; readonly duration: number };
}

/**
 * Compares a completed backup with the earlier completed backups of its instance (newest first,
 * at most {@link historyWindow}.runs are read): smaller than `sizeDropRatio` of their median size,
 * or longer than `durationRatio` of their median duration, is an anomaly. A measure without
 * earlier values, or without a value now, is not judged; a median of zero judges no size, and a
 * backup shorter than {@link shortestJudgedDurationMs} no duration.
 */
export function anomalyVerdict(
  current: BackupMeasure,
  earlier: readonly BackupMeasure[],
  rule: AnomalyRule = defaultAnomalyRule,
): AnomalyVerdict {
  const recent = earlier.slice(0, historyWindow.runs);
  const sizes = recent.flatMap((run) => (run.bytes === undefined ? [] : [run.bytes]));
  const durations = recent.flatMap((run) => (run.durationMs === undefined ? [] : [run.durationMs]));
  const findings: AnomalyFinding[] = [];
  const usualSize = median(sizes);
  if (current.bytes !== undefined && usualSize !== undefined && usualSize > 0) {
    const ratio = current.bytes / usualSize;
    if (ratio < rule.sizeDropRatio) {
      findings.push({
        measure: "size",
        observed: current.bytes,
        usual: usualSize,
        ratio,
        limit: rule.sizeDropRatio,
      });
    }
  }
  const usualDuration = median(durations);
  if (
    current.durationMs !== undefined &&
    current.durationMs >= shortestJudgedDurationMs &&
    usualDuration !== undefined &&
    usualDuration > 0
  ) {
    const ratio = current.durationMs / usualDuration;
    if (ratio > rule.durationRatio) {
      findings.push({
        measure: "duration",
        observed: current.durationMs,
        usual: usualDuration,
        ratio,
        limit: rule.durationRatio,
      });
    }
  }
  return {
    anomalous: findings.length > 0,
    findings,
    baselineRuns: { size: sizes.length, duration: durations.length },
  };
}
