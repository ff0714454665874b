import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring } from '../../sync-service/src/governance/encryption.js';
import { keyringCipher } from '../../sync-service/src/runtime/cipher.js';
import { SqliteStore } from '../../sync-service/src/store/index.js';
import { startSyncHarness, type SyncHarness } from '../support/harness.js';

/**
 * The lease heartbeat of a live process (runtime/wiring.ts): while the service lives, every lease it
 * holds (claimed outbox items on the service's clock, named leases on the wall clock) is renewed, so long
 * work (a Bulk 2.0 job polled for minutes) keeps it; on close everything it holds is released at once.
 * The heartbeat runs every 50 ms here instead of every 10 s.
 */
let h: SyncHarness;

beforeAll(async () => {
  h = await startSyncHarness({ cliniko: { patients: 1 }, service: { leaseHeartbeatMs: 50 } });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the lease heartbeat', () => {
  it('keeps renewing what the process holds, and releases it all on close', async () => {
    const { store } = h.service;
    const owner = h.service.leaseOwner;
    const now = () => Date.parse(h.cliniko.controls.now());
    await store.commitBatch({
      stream: 'test',
      outbox: [
        {
          object: 'Contact',
          externalId: 'hb-1',
          operation: 'upsert',
          payload: '{}',
          payloadHash: 'hb',
          runId: 'r',
        },
      ],
      now: now(),
    });
    const claimedAt = now();
    expect(await store.claimOutbox({ owner, limit: 10, leaseMs: 200, now: claimedAt })).toHaveLength(1);
    const namedAt = Date.now();
    expect(await store.acquireLease('hb:named', owner, 200, namedAt)).toBe(true);

    await pause(600);
    // Without renewal both would have lapsed 200 ms after they were taken; renewed, they are still held.
    expect(
      await store.claimOutbox({ owner: 'other/1', limit: 10, leaseMs: 1_000, now: claimedAt + 400 }),
    ).toHaveLength(0);
    expect(await store.acquireLease('hb:named', 'other/1', 1_000, namedAt + 400)).toBe(false);
    // Control: an owner nobody renews does lapse.
    expect(await store.acquireLease('hb:unrenewed', 'ghost/1', 200, namedAt)).toBe(true);
    expect(await store.acquireLease('hb:unrenewed', 'other/1', 1_000, namedAt + 400)).toBe(true);
    await store.releaseLease('hb:unrenewed', 'other/1');

    await h.service.close();
    // Closed: nothing of it is leased any more (checked through a second connection to the same file).
    const again = new SqliteStore(
      (h.config.database as { path: string }).path,
      keyringCipher(createKeyring(h.config.encryptionKey!)),
    );
    try {
      expect(
        await again.claimOutbox({ owner: 'other/2', limit: 10, leaseMs: 1_000, now: claimedAt + 1 }),
      ).toHaveLength(1);
      expect(await again.acquireLease('hb:named', 'other/2', 1_000, namedAt + 1)).toBe(true);
    } finally {
      await again.close();
    }
  });
});
