/**
 * Simulates 10 years of a weekly policy with Weekly, Monthly and Yearly retention rules (plus
 * Default) for 1,000 backup instances, each with its own schedule start, and compares the time
 * with a plain loop that only walks the same dates. Both are measured in the same run so the
 * ratio does not depend on the machine.
 *
 * Run: `npm run bench`. Goal: the simulation of all 1,000 instances under 1 second.
 */
import { availableParallelism, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { simulatePolicy } from "../src/domain/policy/simulation.js";
import type { BackupPolicy, SourceLifeCycle, TaggingCriteria } from "../src/domain/policy/types.js";

const instances = 1000;
const from = Date.UTC(2026, 0, 1);
const to = Date.UTC(2036, 0, 1);
const week = 7 * 86_400_000;
const goalMs = 1000;

function lifecycle(
  store: "VaultStore" | "ArchiveStore",
  duration: string,
  copyAfter?: string,
): SourceLifeCycle {
  return {
    deleteAfter: { duration, objectType: "AbsoluteDeleteOption" },
    sourceDataStore: { dataStoreType: store, objectType: "DataStoreInfoBase" },
    targetDataStoreCopySettings: copyAfter
      ? {
          copyAfter: {
            objectType: copyAfter,
            ...(copyAfter === "CustomCopyOption" ? { duration: "P1M" } : {}),
          },
          dataStore: { dataStoreType: "ArchiveStore", objectType: "DataStoreInfoBase" },
        }
      : [],
  };
}

function tag(name: string, priority: number, marker: string): TaggingCriteria {
  return {
    isDefault: false,
    taggingPriority: priority,
    tagInfo: { tagName: name, id: `${name}_` },
    criteria: [{ objectType: "ScheduleBasedBackupCriteria", absoluteCriteria: [marker] }],
  };
}

/** The policy of instance `i`: Sunday 22:00 UTC shifted by `i` minutes. */
function policyFor(i: number): BackupPolicy {
  const start = new Date(Date.UTC(2025, 11, 7, 22, i)).toISOString().slice(0, 19);
  return {
    objectType: "BackupPolicy",
    datasourceTypes: ["Microsoft.DBforPostgreSQL/flexibleServers"],
    name: `bench-${i}`,
    policyRules: [
      {
        name: "BackupWeekly",
        objectType: "AzureBackupRule",
        backupParameters: { backupType: "Full", objectType: "AzureBackupParams" },
        dataStore: { dataStoreType: "VaultStore", objectType: "DataStoreInfoBase" },
        trigger: {
          objectType: "ScheduleBasedTriggerContext",
          schedule: { repeatingTimeIntervals: [`R/${start}+00:00/P1W`], timeZone: "UTC" },
          taggingCriteria: [
            tag("Yearly", 10, "FirstOfYear"),
            tag("Monthly", 15, "FirstOfMonth"),
            tag("Weekly", 20, "FirstOfWeek"),
            {
              isDefault: true,
              taggingPriority: 99,
              tagInfo: { tagName: "Default", id: "Default_" },
            },
          ],
        },
      },
      {
        name: "Default",
        objectType: "AzureRetentionRule",
        isDefault: true,
        lifecycles: [lifecycle("VaultStore", "P3M")],
      },
      {
        name: "Weekly",
        objectType: "AzureRetentionRule",
        isDefault: false,
        lifecycles: [lifecycle("VaultStore", "P12W")],
      },
      {
        name: "Monthly",
        objectType: "AzureRetentionRule",
        isDefault: false,
        lifecycles: [
          lifecycle("VaultStore", "P6M", "CopyOnExpiryOption"),
          lifecycle("ArchiveStore", "P24M"),
        ],
      },
      {
        name: "Yearly",
        objectType: "AzureRetentionRule",
        isDefault: false,
        lifecycles: [
          lifecycle("VaultStore", "P1Y", "CustomCopyOption"),
          lifecycle("ArchiveStore", "P9Y"),
        ],
      },
    ],
  };
}

const policies = Array.from({ length: instances }, (_, i) => policyFor(i));

function runSimulation(): { ms: number; backups: number; checksum: number } {
  const started = performance.now();
  let backups = 0;
  let checksum = 0;
  for (const policy of policies) {
    const result = simulatePolicy(policy, { from, to, sizeGb: 50, monthlyGrowth: 0.01 });
    backups += result.backups.length;
    checksum += result.storage.VaultStore + result.storage.ArchiveStore;
  }
  return { ms: performance.now() - started, backups, checksum };
}

/**
 * The baselines: visit the same weekly dates (each instance's schedule start, every week in the
 * window). `readDate` also reads each date's day of the month through `Date`, as any calendar
 * code must at least do.
 */
function runPlainLoop(readDate: boolean): { ms: number; dates: number; checksum: number } {
  const started = performance.now();
  let dates = 0;
  let checksum = 0;
  for (let i = 0; i < instances; i += 1) {
    const first = Date.UTC(2025, 11, 7, 22, i);
    let at = first + Math.ceil((from - first) / week) * week;
    for (; at < to; at += week) {
      checksum += readDate ? new Date(at).getUTCDate() : at % 7;
      dates += 1;
    }
  }
  return { ms: performance.now() - started, dates, checksum };
}

const format = (ms: number): string => `${ms.toFixed(1)} ms`;

// The first pass includes compilation by the JIT; both are reported.
const coldSimulation = runSimulation();
const coldLoop = runPlainLoop(false);
const simulations = [runSimulation(), runSimulation(), runSimulation()];
const walks = [runPlainLoop(false), runPlainLoop(false), runPlainLoop(false)];
const dateLoops = [runPlainLoop(true), runPlainLoop(true), runPlainLoop(true)];
const best = (runs: readonly { ms: number }[]): number => Math.min(...runs.map((r) => r.ms));
const bestSimulation = best(simulations);
const bestWalk = best(walks);
const bestDateLoop = best(dateLoops);

if (coldSimulation.backups !== coldLoop.dates) {
  throw new Error(
    `the simulation saw ${coldSimulation.backups} backups but the loop ${coldLoop.dates} dates`,
  );
}

console.log(
  `policy simulation: ${instances} instances x 10 years of weekly backups (${coldSimulation.backups} backups)`,
);
// Other processes on the machine slow both measurements; the load says how much to trust them.
console.log(
  `  machine: ${availableParallelism()} CPUs, load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end`,
);
console.log(`  simulation, first run:             ${format(coldSimulation.ms)}`);
console.log(`  simulation, best of 3:             ${format(bestSimulation)}`);
console.log(`  plain loop over the dates, best:   ${format(bestWalk)}`);
console.log(`  plain loop + Date per date, best:  ${format(bestDateLoop)}`);
console.log(
  `  ratio simulation / plain loop:            ${(bestSimulation / bestWalk).toFixed(1)}x`,
);
console.log(
  `  ratio simulation / plain loop with Date:  ${(bestSimulation / bestDateLoop).toFixed(1)}x`,
);
const met = coldSimulation.ms < goalMs;
console.log(`  goal: under ${goalMs} ms including the first run -> ${met ? "met" : "MISSED"}`);
if (!met) process.exitCode = 1;
