/**
 * The one typed way an orchestration starts another: the input is checked by the compiler
 * against the child's input type, and the child's output is read through its schema, so no
 * orchestration casts what a child answers (lint rejects `context.df.callSubOrchestrator*` and a
 * cast of a task's `result` in `src/orchestrations`).
 */
import type { OrchestrationContext, Task } from "durable-functions";
import type { z } from "zod";

/** What an orchestration takes and answers, for those that start it as a child. */
export interface OrchestrationContract<I, O> {
  readonly name: string;
  /** Only its type is used: the compiler checks the input a parent sends. */
  readonly input?: (input: I) => void;
  readonly output: z.ZodType<O>;
}

/** A child orchestration scheduled: its task, and its output once the task has completed. */
export interface SubOrchestration<O> {
  /** Yield it, or race it (`Task.any`), as with any task. */
  readonly task: Task;
  /**
   * The child's output, checked against its schema.
   *
   * @throws Error when the task has not completed, failed, or answered something else.
   */
  output(): O;
}

/**
 * Schedules a child orchestration under an instance id.
 *
 * @param context - the parent's context.
 * @param contract - the child's name and output schema.
 * @param input - what the child takes.
 * @param instanceId - the child's instance id.
 */
export function subOrchestration<I, O>(
  context: OrchestrationContext,
  contract: OrchestrationContract<I, O>,
  input: I,
  instanceId: string,
): SubOrchestration<O> {
  // eslint-disable-next-line no-restricted-syntax -- the one place a child is scheduled
  const task = context.df.callSubOrchestrator(contract.name, input, instanceId);
  return {
    task,
    output() {
      if (!task.isCompleted || task.isFaulted) {
        throw new Error(`The orchestration ${instanceId} has not completed`);
      }
      const parsed = contract.output.safeParse(task.result);
      if (parsed.success) return parsed.data;
      throw new Error(
        `The orchestration ${instanceId} answered what ${contract.name} does not: ${parsed.error.message}`,
      );
    },
  };
}
