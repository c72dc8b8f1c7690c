/**
 * Polls `probe` until `ok` holds (or the time is up) and returns the last value: for what happens after a command
 * returns (a signal handled, a promotion, a timer). The caller's assertion then says what was expected.
 */
export async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await probe();
  }
  return value;
}
