/**
 * The one way this app keeps something built once per process (its settings, its dependencies,
 * notification delivery): built on first use, replaceable by tests, and never keeping a failure.
 */

/**
 * A value built on first use and kept for the life of the process.
 *
 * @remarks A build that throws, or a promise it returns that rejects, is not kept: the next use
 * builds again, so a fault fixed in place (a database started late, a Key Vault reference resolved
 * late) heals without restarting the host.
 */
export class ProcessSingleton<T> {
  readonly #build: () => T;
  #held: { readonly value: T } | undefined;

  constructor(build: () => T) {
    this.#build = build;
  }

  /** The value, built now if it is not there yet. */
  get(): T {
    if (this.#held) return this.#held.value;
    const held = { value: this.#build() };
    this.#held = held;
    if (isPromiseLike(held.value)) {
      // Registered before the caller's handlers, so a caller retrying on rejection builds anew.
      held.value.then(undefined, () => {
        if (this.#held === held) this.#held = undefined;
      });
    }
    return held.value;
  }

  /** Replaces the value (tests), or forgets it (`undefined`) so the next use builds it again. */
  set(value: T | undefined): void {
    this.#held = value === undefined ? undefined : { value };
  }

  /** Forgets the value and hands back what was held, if anything (to close it). */
  take(): T | undefined {
    const held = this.#held;
    this.#held = undefined;
    return held?.value;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
