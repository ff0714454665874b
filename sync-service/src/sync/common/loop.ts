/**
 * Lets the event loop run what waits (timers, I/O, the HTTP server) before the next page of a long walk
 * of the store. The SQLite store answers synchronously, so a walk of many pages (the audit log, every
 * patient's journey, every appointment for the reminder index: millions of rows at scale) would
 * otherwise hold the loop for its whole length (issue #16).
 */
export function letLoopThrough(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
