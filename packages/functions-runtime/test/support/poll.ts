/**
 * Polls until `done` accepts a value or the deadline passes, returning the last value read.
 *
 * @remarks For state only visible through a status URL (orchestrations, jobs): the callers then
 * assert on the value, so a timeout fails as a readable assertion rather than a hang.
 */
export async function poll<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
