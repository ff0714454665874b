import { describe, expect, it } from 'vitest';
import { readAhead } from './read-stream.js';

/** The read-ahead that overlaps the next Cliniko page with the current page's work (issue #16). */

function source(log: string[], events: Array<string | Error>) {
  return (async function* () {
    for (const e of events) {
      log.push(`fetch ${e instanceof Error ? 'error' : e}`);
      await Promise.resolve();
      if (e instanceof Error) throw e;
      yield e;
    }
  })();
}

async function consume(iterable: AsyncIterable<string>, log: string[], stopAt?: string): Promise<void> {
  for await (const e of iterable) {
    log.push(`handle ${e} start`);
    await new Promise((resolve) => setTimeout(resolve, 1));
    log.push(`handle ${e} end`);
    if (e === stopAt) break;
  }
}

describe('readAhead', () => {
  it('asks for the next event while the current one is handled, in order (control: plain iteration asks after)', async () => {
    const ahead: string[] = [];
    await consume(readAhead(source(ahead, ['p1', 'p2'])), ahead);
    expect(ahead).toEqual([
      'fetch p1',
      'fetch p2',
      'handle p1 start',
      'handle p1 end',
      'handle p2 start',
      'handle p2 end',
    ]);
    const plain: string[] = [];
    await consume(source(plain, ['p1', 'p2']), plain);
    expect(plain).toEqual([
      'fetch p1',
      'handle p1 start',
      'handle p1 end',
      'fetch p2',
      'handle p2 start',
      'handle p2 end',
    ]);
  });

  it('raises a failed read at its turn, after the events before it are handled, and never as unhandled', async () => {
    const log: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(consume(readAhead(source(log, ['p1', new Error('page failed')])), log)).rejects.toThrow(
        'page failed',
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(log).toEqual(['fetch p1', 'fetch error', 'handle p1 start', 'handle p1 end']);
    expect(unhandled).toEqual([]);
  });

  it('stops the source when the consumer stops early', async () => {
    const log: string[] = [];
    await consume(readAhead(source(log, ['p1', 'p2', 'p3'])), log, 'p1');
    // p2 was asked for ahead; p3 never is.
    expect(log).toEqual(['fetch p1', 'fetch p2', 'handle p1 start', 'handle p1 end']);
  });
});
