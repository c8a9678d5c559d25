import type { CliIo } from "./io.js";

/** `pgprotect policy ...` (placeholder until the policy commands land). */
export async function runPolicyCli(_args: readonly string[], io: CliIo): Promise<number> {
  io.stderr.write("pgprotect policy: not available yet\n");
  return 1;
}
