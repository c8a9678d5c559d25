/**
 * Group commit: the episodes that end and the activity results that arrive during one turn of the
 * event loop are written in one SQLite transaction ({@link DurableStore.commitGroup}).
 *
 * @remarks Nothing is acknowledged before its transaction has committed: an episode's promise
 * resolves (and its activities start) only then, and an activity's result counts as recorded only
 * then. A process killed while a group is pending or being written loses the whole group and
 * nothing else; its episodes replay and its activities run again at the next start, exactly as
 * when one of them alone is interrupted.
 */
import type {
  ActivityCompletion,
  ActivityRow,
  DurableStore,
  EpisodeCommit,
  GroupCommitOutcome,
} from "./store.js";

interface PendingEpisode {
  readonly commit: EpisodeCommit;
  readonly resolve: (activities: ActivityRow[]) => void;
  readonly reject: (error: unknown) => void;
}

/** What the committer tells its owner. */
export interface GroupCommitterOptions {
  readonly store: DurableStore;
  /** A group with activity results committed: orchestrations have new messages. */
  readonly onCompletionsRecorded: () => void;
  /** Runs `action` shortly, unless the engine stops first. */
  readonly retrySoon: (action: () => void) => void;
  readonly log: (line: string) => void;
}

/** Gathers episode commits and activity results and writes them together. */
export class GroupCommitter {
  private readonly options: GroupCommitterOptions;
  private episodes: PendingEpisode[] = [];
  private completions: ActivityCompletion[] = [];
  private flushScheduled = false;
  private closed = false;

  constructor(options: GroupCommitterOptions) {
    this.options = options;
  }

  /** Whether nothing waits to be written. */
  get isIdle(): boolean {
    return this.episodes.length === 0 && this.completions.length === 0;
  }

  /**
   * Queues an episode's commit for the next group; resolves with the activity rows it queued once
   * the group has committed, rejects with the error that rolled this episode back.
   */
  commit(commit: EpisodeCommit): Promise<ActivityRow[]> {
    if (this.closed) {
      return Promise.reject(new Error("The Durable store is closed; the episode will run again."));
    }
    return new Promise((resolve, reject) => {
      this.episodes.push({ commit, resolve, reject });
      this.schedule();
    });
  }

  /** Queues an activity's result for the next group; dropped once closed (the activity runs again). */
  completeActivity(completion: ActivityCompletion): void {
    if (this.closed) return;
    this.completions.push(completion);
    this.schedule();
  }

  /** Writes what is pending now and accepts nothing more. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private schedule(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes every pending episode and activity result in one transaction. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const episodes = this.episodes;
    const completions = this.completions;
    if (episodes.length === 0 && completions.length === 0) return;
    this.episodes = [];
    this.completions = [];
    let outcomes: GroupCommitOutcome[];
    try {
      outcomes = this.options.store.commitGroup(
        episodes.map((e) => e.commit),
        completions,
      );
    } catch (error) {
      // The transaction itself failed (the disk is full, the file is locked): nothing of the
      // group is stored. Each episode learns of it; the activity results are tried again
      // shortly, and if the process ends first their activities run again at the next start.
      if (completions.length > 0) {
        this.options.log(
          `durable: ${completions.length} activity result(s) could not be recorded yet: ${error instanceof Error ? error.message : String(error)}`,
        );
        this.options.retrySoon(() => {
          if (this.closed) return;
          this.completions.unshift(...completions);
          this.schedule();
        });
      }
      for (const episode of episodes) episode.reject(error);
      return;
    }
    episodes.forEach((episode, index) => {
      const outcome = outcomes[index];
      if (outcome?.committed) episode.resolve(outcome.activities);
      else episode.reject(outcome?.error);
    });
    if (completions.length > 0) this.options.onCompletionsRecorded();
  }
}
