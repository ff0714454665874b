import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '../../sync-service/src/config/index.js';
import { verifyAuditChain, type AuditEntry } from '../../sync-service/src/governance/audit.js';
import { createLogger } from '../../sync-service/src/logger.js';
import { createSyncService } from '../../sync-service/src/runtime/wiring.js';
import { recordId, startClinikoEmulator, type ClinikoEmulator } from '../emulators/cliniko/index.js';
import type { FaultKind } from '../emulators/cliniko/faults.js';
import { startSalesforceEmulator, type SalesforceEmulator } from '../emulators/salesforce/server.js';
import { emulatorEnv } from '../support/harness.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { groupGone, seededRandom, startSyncProcess } from '../support/sync-process.js';
import {
  compareOrgWithCliniko,
  loadOracleMap,
  readCliniko,
  type OracleMap,
  type OracleReport,
} from '../support/sync-oracle.js';

/**
 * The crash-and-fault suite (issue #15, item 6). On each store, the sync CLI runs as its own node
 * process (its own process group) and is killed with SIGKILL at a point of the read phase (after the
 * n-th Cliniko request), the write phase (while the n-th Salesforce write is in flight) or the commit
 * (just after the n-th Salesforce write was answered, before the store records it), while Cliniko and
 * Salesforce faults are injected at the same time. The schedule comes from one printed seed
 * (`CRASH_SEED=<n>` replays it). After the storm, faults are cleared, the service runs until it
 * reports success, every dead letter is replayed, and an oracle that shares no code with the
 * projection compares the org with Cliniko through the data map's declared targets: zero lost, zero
 * duplicated, zero stale, before and after the replay. A control plants differences and shows the
 * oracle finds each.
 */
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000_007);
const ROUNDS = 6;
const PHASES = ['read', 'write', 'commit'] as const;
const ORACLE_MAP: OracleMap = loadOracleMap('config/data-map.yaml');
const WRITE_URL = /\/services\/data\/v[\d.]+\/(composite\/sobjects|sobjects\/)/;

console.error(`crash-and-fault suite: seed ${SEED} (replay with CRASH_SEED=${SEED})`);

interface SfLogEntry {
  seq: number;
  method: string;
  url: string;
  status: number;
}

async function sfControl(
  sf: SalesforceEmulator,
  path: string,
  method: string,
  body?: unknown,
): Promise<void> {
  const res = await fetch(`${sf.loginUrl}/__emulator/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`emulator control ${method} ${path}: ${res.status}`);
}

async function sfWrites(sf: SalesforceEmulator, since: number): Promise<SfLogEntry[]> {
  const res = await fetch(`${sf.loginUrl}/__emulator/requests?since=${since}`);
  const entries = (await res.json()) as SfLogEntry[];
  if (!Array.isArray(entries)) throw new Error('emulator request log is not a list');
  return entries;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const storeKind of ['sqlite', 'postgres'] as const) {
  describe(`crash and faults on ${storeKind}`, () => {
    let cliniko: ClinikoEmulator;
    let salesforce: SalesforceEmulator;
    let pgServer: TestPostgres | undefined;
    let schemaPool: pg.PoolConfig | undefined;
    let dir: string;
    let env: Record<string, string>;
    // Created again by each test, so that CRASH_SEED replays exactly the schedule it printed.
    let rng = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

    beforeAll(async () => {
      cliniko = await startClinikoEmulator({
        patients: 40,
        seed: 23,
        controls: true,
        now: new Date().toISOString(),
      });
      salesforce = await startSalesforceEmulator({ controls: true });
      dir = mkdtempSync(join(tmpdir(), 'sync-crash-'));
      // One instance restarted after every kill, as a supervisor restarts a crashed service: each start
      // takes back the leases its killed predecessor left (issue #15, item 2), which the rounds rely on.
      env = {
        ...emulatorEnv(cliniko, salesforce, dir),
        LOG_LEVEL: 'silent',
        SYNC_INSTANCE_ID: 'crash-suite',
      };
      if (storeKind === 'postgres') {
        pgServer = await startTestPostgres();
        const schema = await pgServer.newSchema();
        schemaPool = schema.poolConfig;
        env.DATABASE_URL = `${pgServer.url}?options=${encodeURIComponent(String(schema.poolConfig.options))}`;
      }
    });

    afterAll(async () => {
      await cliniko?.close();
      await salesforce?.close();
      await pgServer?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * Counts the leases a killed process left (printed with each round). They are not cleared: the next
     * start of the same instance must take them back itself, or its run would find its work leased and
     * the round would not converge.
     */
    async function leftLeases(): Promise<number> {
      const outbox = 'SELECT COUNT(*) AS n FROM outbox WHERE lease_owner IS NOT NULL';
      const leases = 'SELECT COUNT(*) AS n FROM leases';
      if (storeKind === 'sqlite') {
        const db = new DatabaseSync(env.SYNC_DB_PATH!);
        try {
          const a = (db.prepare(outbox).get() as { n: number }).n;
          const b = (db.prepare(leases).get() as { n: number }).n;
          return Number(a) + Number(b);
        } finally {
          db.close();
        }
      }
      const client = new pg.Client(schemaPool);
      await client.connect();
      try {
        const a = await client.query<{ n: string }>(outbox);
        const b = await client.query<{ n: string }>(leases);
        return Number(a.rows[0]?.n ?? 0) + Number(b.rows[0]?.n ?? 0);
      } finally {
        await client.end();
      }
    }

    /** Runs the CLI to its end; with `phase`, kills its process group at that point. */
    async function runRound(
      args: string[],
      kill?: { phase: (typeof PHASES)[number]; n: number; delayMs: number },
    ): Promise<{ killed: boolean; code: number | null; stdout: string; stderr: string; ms: number }> {
      const clinikoBase = cliniko.requestLog().length;
      const sfBase = (await sfWrites(salesforce, 0)).at(-1)?.seq ?? 0;
      const started = Date.now();
      const proc = startSyncProcess(args, env);
      let done = false;
      let killed = false;
      const watcher = (async () => {
        if (!kill) return;
        while (!done) {
          let fire = false;
          if (kill.phase === 'read') fire = cliniko.requestLog().length - clinikoBase >= kill.n;
          else {
            const writes = (await sfWrites(salesforce, sfBase)).filter(
              (e) => e.seq > sfBase && e.method !== 'GET' && WRITE_URL.test(e.url),
            );
            const counted = kill.phase === 'write' ? writes : writes.filter((e) => e.status > 0);
            fire = counted.length >= kill.n;
          }
          if (fire) {
            if (kill.delayMs > 0) await sleep(kill.delayMs);
            if (!done) {
              proc.killGroup();
              killed = true;
            }
            return;
          }
          await sleep(kill.phase === 'read' ? 2 : 10);
        }
      })();
      const result = await proc.exited;
      done = true;
      await watcher;
      // Nothing of the killed run may live on (the old test's wrapper left its worker running).
      expect(await groupGone(proc.pid), `process group ${proc.pid} is gone`).toBe(true);
      return {
        killed: killed && result.signal === 'SIGKILL',
        code: result.code,
        stdout: result.stdout,
        stderr: result.stderr,
        ms: Date.now() - started,
      };
    }

    function injectFaults(storm: boolean, changed: string[]): Promise<string[]> {
      const chosen: string[] = [];
      const clinikoKinds: FaultKind[] = ['429', '500', '502', '503', '504', 'malformed'];
      const injections: Array<Promise<void>> = [];
      for (let i = 0; i < 2; i++) {
        const kind = pick(clinikoKinds);
        const path = pick(['*', '/v1/patients*', '/v1/individual_appointments*', '/v1/invoices*']);
        const count = 1 + Math.floor(rng() * 2);
        cliniko.controls.injectFault({ path, kind, count });
        chosen.push(`cliniko ${kind}x${count} ${path}`);
      }
      // A row lock on one changed Contact fails that record inside a collection (a partial failure).
      const email = pick(changed);
      const times = 1 + Math.floor(rng() * 3);
      injections.push(
        sfControl(salesforce, 'faults', 'POST', {
          kind: 'lockRow',
          object: 'Contact',
          field: 'Email',
          value: email,
          times,
        }),
      );
      chosen.push(`salesforce lockRow x${times} on a changed Contact`);
      // An exhausted allowance makes the run stop writing, so it only comes with the storm (no kill point).
      const sfFault = storm ? 'exhaustLimit' : pick(['http503', 'expireSessions', 'none'] as const);
      if (sfFault === 'http503') {
        const t = 1 + Math.floor(rng() * 3);
        injections.push(sfControl(salesforce, 'faults', 'POST', { kind: 'http503', times: t }));
        chosen.push(`salesforce 503x${t}`);
      } else if (sfFault !== 'none') {
        injections.push(sfControl(salesforce, 'faults', 'POST', { kind: sfFault }));
        chosen.push(`salesforce ${sfFault}`);
      }
      // Latency stretches each Salesforce call so that kills land inside writes.
      injections.push(sfControl(salesforce, 'faults', 'POST', { kind: 'latency', ms: 60 }));
      return Promise.all(injections).then(() => chosen);
    }

    async function clearFaults(): Promise<void> {
      cliniko.controls.clearFaults();
      cliniko.controls.resetRateLimit();
      await sfControl(salesforce, 'faults', 'DELETE');
      await sfControl(salesforce, 'limits', 'POST', { used: 0 });
    }

    async function oracle(): Promise<OracleReport> {
      // The oracle reads with the service's key: a fresh rate window keeps its reads from a 429.
      cliniko.controls.resetRateLimit();
      const clinikoRecords = await readCliniko(cliniko.baseUrl, cliniko.apiKey, ORACLE_MAP.keys.keys());
      const sf = new Map<string, Array<Record<string, unknown>>>();
      for (const { object } of ORACLE_MAP.keys.values()) sf.set(object, [...salesforce.org.records(object)]);
      return compareOrgWithCliniko(ORACLE_MAP, clinikoRecords, sf);
    }

    it(
      'ends with nothing lost, duplicated or stale after seeded kills under faults, and replays never regress',
      { timeout: 170_000 },
      async () => {
        rng = seededRandom(SEED + (storeKind === 'sqlite' ? 0 : 1));
        const schedule: string[] = [];
        let kills = 0;
        let leasesCleared = 0;
        const killedPhases = new Set<string>();
        let current = 'before the first round';
        onTestFailed(() => {
          console.error(`[${storeKind}] seed ${SEED} failed at ${current}\n  ${schedule.join('\n  ')}`);
        });
        // Each phase at least twice; a round whose run ended before its kill point (few writes left, or
        // a fault that ended the run early) is followed by another of a phase not yet killed, up to 4 more.
        // The last round is a storm without a kill: the API allowance is spent as well, so the run has to
        // stop writing and end on its own.
        const STORM = -1;
        const rounds: number[] = [...Array.from({ length: ROUNDS }, (_, i) => i % PHASES.length), STORM];
        let extra = 0;
        for (let round = 0; round < rounds.length; round++) {
          // Something new to send each round: a few patients change their email.
          const changed: string[] = [];
          for (let i = 0; i < 6; i++) {
            const idx = Math.floor(rng() * cliniko.practice.patients.length);
            if (cliniko.practice.patients[idx]!.archivedAt !== null) continue;
            const email = `crash${round}.${i}.${storeKind}@example.com`;
            cliniko.controls.updatePatient(recordId('patient', idx), { email });
            changed.push(email);
          }
          if (changed.length === 0) changed.push('nobody@example.com');
          const storm = rounds[round] === STORM;
          const phase = PHASES[storm ? 0 : rounds[round]!]!;
          const n = phase === 'read' ? 1 + Math.floor(rng() * 8) : 1 + Math.floor(rng() * 3);
          const delayMs =
            phase === 'write' ? Math.floor(rng() * 50) : phase === 'commit' ? Math.floor(rng() * 15) : 0;
          const command = round === 0 || rng() < 0.3 ? 'backfill' : 'once';
          const faults = await injectFaults(storm, changed);
          const plan = storm
            ? `round ${round}: ${command}, storm (no kill)`
            : `round ${round}: ${command}, kill in ${phase} at #${n}+${delayMs}ms`;
          current = plan;
          const result = await runRound([command], storm ? undefined : { phase, n, delayMs });
          if (result.killed) {
            kills += 1;
            killedPhases.add(phase);
          } else {
            if (!storm && !killedPhases.has(phase) && extra < 4) {
              extra += 1;
              rounds.splice(rounds.length - 1, 0, rounds[round]!);
            }
            // A run that ended before the kill point must still have ended on its own terms.
            expect([0, 1, 3], `round ${round} exit code; stderr: ${result.stderr.slice(0, 500)}`).toContain(
              result.code,
            );
          }
          await clearFaults();
          const cleared = await leftLeases();
          leasesCleared += cleared;
          schedule.push(
            `${plan} -> ${result.ms} ms, ${result.killed ? 'killed' : `exit ${String(result.code)}`}; leases left ${cleared}; faults: ${faults.join(', ')}`,
          );
        }
        console.error(`[${storeKind}] seed ${SEED}\n  ${schedule.join('\n  ')}`);
        expect(kills, schedule.join('\n')).toBeGreaterThanOrEqual(ROUNDS - 2);
        expect(killedPhases.size, schedule.join('\n')).toBe(PHASES.length);

        current = 'convergence';
        // Convergence: no faults, no kills; the service runs until it says everything was written.
        let converged = false;
        for (let i = 0; i < 4 && !converged; i++) {
          const r = await runRound(['once']);
          schedule.push(
            `convergence run ${i}: exit ${String(r.code)} in ${r.ms} ms; ${/still queued: \d+/.exec(r.stdout)?.[0] ?? ''}`,
          );
          converged = r.code === 0 && !/still queued/.test(r.stdout);
          if (!converged) leasesCleared += await leftLeases();
        }
        expect(converged, 'the sync converges once faults stop').toBe(true);
        const converged1 = await oracle();
        expect(converged1.compared).toBeGreaterThan(1_000);
        expect({
          lost: converged1.lost,
          duplicated: converged1.duplicated,
          unexpected: converged1.unexpected,
          stale: converged1.stale,
        }).toEqual({ lost: [], duplicated: [], unexpected: [], stale: [] });

        // A permanent failure on top: the integration user loses its permission set for one run, so
        // that run's writes are dead-lettered (SALESFORCE_RECORD_REJECTED) and must come back by replay.
        current = 'dead-letter round';
        const integration = salesforce.org.userByUsername(salesforce.username)!;
        expect(salesforce.org.unassignPermissionSet(integration.id, 'Cliniko_Sync_Integration')).toBe(true);
        for (let i = 0; i < 4; i++) {
          const idx = Math.floor(rng() * cliniko.practice.patients.length);
          if (cliniko.practice.patients[idx]!.archivedAt !== null) continue;
          cliniko.controls.updatePatient(recordId('patient', idx), {
            email: `rejected${i}.${storeKind}@example.com`,
          });
        }
        const rejected = await runRound(['once']);
        schedule.push(`dead-letter round: exit ${String(rejected.code)} in ${rejected.ms} ms`);
        salesforce.org.assignPermissionSet(integration.id, 'Cliniko_Sync_Integration');
        expect(rejected.code, rejected.stdout).toBe(3);

        // The dead letters, from the store (what `replay --list` prints).
        const inspector = await createSyncService(loadConfig(env), createLogger({ level: 'silent' }));
        const letters = await inspector.store.listDeadLetters().finally(() => inspector.close());
        const deadLetters = letters.length;
        expect(deadLetters).toBeGreaterThan(0);
        const lettered = new Set(letters.map((d) => `${d.object} ${d.externalId}`));
        const before = await oracle();
        // Before the replay, only dead-lettered records may differ from Cliniko.
        expect({
          lost: before.lost.filter((s) => !lettered.has(s)),
          duplicated: before.duplicated,
          unexpected: before.unexpected,
          staleOutsideDeadLetters: before.stale.filter(
            (s) => !lettered.has(s.split(' ').slice(0, 2).join(' ')),
          ),
        }).toEqual({ lost: [], duplicated: [], unexpected: [], staleOutsideDeadLetters: [] });
        // The rejected emails are what the replay has to bring.
        expect(before.stale.filter((s) => s.endsWith(' Email')).length).toBeGreaterThan(0);

        // Every dead letter replayed: the org ends exact, and no field moved backwards.
        current = 'replay';
        const replay = await runRound(['replay']);
        expect(replay.code, replay.stdout).toBe(0);
        const after = await oracle();
        expect(after.compared).toBeGreaterThan(1_000);
        expect({
          lost: after.lost,
          duplicated: after.duplicated,
          unexpected: after.unexpected,
          stale: after.stale,
        }).toEqual({
          lost: [],
          duplicated: [],
          unexpected: [],
          stale: [],
        });
        console.error(
          `[${storeKind}] kills ${kills} (${[...killedPhases].join(', ')}), leases left by kills (taken back at restart) ${leasesCleared}, dead letters replayed ${deadLetters}, fields compared ${after.compared}`,
        );

        // The audit chain survived every kill.
        const service = await createSyncService(loadConfig(env), createLogger({ level: 'silent' }));
        try {
          const stats = await service.store.outboxStats(Date.now());
          expect(stats.pending).toBe(0);
          const entries = (await service.store.listAudit({ limit: 1_000_000 })).map(
            (r) => JSON.parse(r.entry) as AuditEntry,
          );
          expect(entries.length).toBeGreaterThan(0);
          expect(verifyAuditChain(entries)).toMatchObject({ ok: true });
        } finally {
          await service.close();
        }

        // Control: the oracle finds a lost, a duplicated, an unexpected and a stale record when planted.
        cliniko.controls.resetRateLimit();
        const clinikoRecords = await readCliniko(cliniko.baseUrl, cliniko.apiKey, ORACLE_MAP.keys.keys());
        const sf = new Map<string, Array<Record<string, unknown>>>();
        for (const { object } of ORACLE_MAP.keys.values())
          sf.set(
            object,
            [...salesforce.org.records(object)].map((r) => ({ ...r })),
          );
        const contacts = sf.get('Contact')!.filter((r) => r.IsDeleted !== true);
        const invoices = sf.get('Cliniko_Invoice__c')!;
        const staleOne = contacts[0]!;
        staleOne.Email = `planted.${randomBytes(3).toString('hex')}@example.com`;
        const lostOne = contacts[1]!;
        sf.set(
          'Contact',
          sf.get('Contact')!.filter((r) => r !== lostOne),
        );
        invoices.push({ ...invoices[0]!, Id: 'a0Xplanted0000001' });
        sf.get('Cliniko_Appointment__c')!.push({
          ...sf.get('Cliniko_Appointment__c')![0]!,
          Id: 'a0Yplanted0000001',
          Cliniko_Appointment_Id__c: '999999999999',
        });
        const planted = compareOrgWithCliniko(ORACLE_MAP, clinikoRecords, sf);
        expect(planted.stale).toContain(`Contact ${String(staleOne.Cliniko_Patient_Id__c)} Email`);
        expect(planted.lost).toContain(`Contact ${String(lostOne.Cliniko_Patient_Id__c)}`);
        expect(planted.duplicated).toEqual([
          `Cliniko_Invoice__c ${String(invoices[0]!.Cliniko_Invoice_Id__c)} (2 records)`,
        ]);
        expect(planted.unexpected).toEqual(['Cliniko_Appointment__c 999999999999']);
      },
    );
  });
}
