/**
 * Lets the event loop run what waits (timers, I/O, the HTTP server) before the next page of a long walk
 * of the store. A SQLite store opened on the caller's thread (the CLI's audit commands) answers
 * synchronously, so a walk of many pages (the audit log, every patient's journey, every appointment for
 * the reminder index: millions of rows at scale) would otherwise hold the loop for its whole length
 * (issue #16).
 */
export function letLoopThrough(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Lets the HTTP requests already asked for reach their sockets before synchronous work holds the thread
 * (issue #16). undici writes a request on an idle keep-alive socket from a setImmediate (it first lets
 * the socket report anything the server sent unasked), and Node runs pending microtasks between
 * immediates, so a caller resumed by one turn could start its synchronous work before that write:
 * the second turn comes after it.
 */
export async function letRequestsOut(): Promise<void> {
  await letLoopThrough();
  await letLoopThrough();
}
