import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * A PostgreSQL for tests: DATABASE_URL_TEST when .ci/run (or a developer) provides one, otherwise a
 * throwaway server started from the machine's installed binaries with scripts/throwaway-postgres.sh
 * and stopped again. Each caller gets its own schema, so suites never see each other's rows.
 */
export interface TestPostgres {
  readonly url: string;
  /** A fresh, empty schema; pass `options` to pg (search_path) to use it. */
  newSchema(): Promise<{ name: string; poolConfig: pg.PoolConfig }>;
  stop(): Promise<void>;
}

export async function startTestPostgres(): Promise<TestPostgres> {
  let url = process.env.DATABASE_URL_TEST;
  let tmpDir: string | undefined;
  if (!url) {
    const out = execFileSync('bash', ['scripts/throwaway-postgres.sh', 'start'], { encoding: 'utf8' });
    url = /DATABASE_URL_TEST=(\S+)/.exec(out)?.[1];
    tmpDir = /PG_TMP=(\S+)/.exec(out)?.[1];
    if (!url) throw new Error(`could not start a throwaway PostgreSQL:\n${out}`);
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const schemas: string[] = [];
  return {
    url,
    async newSchema() {
      const name = `t_${randomBytes(6).toString('hex')}`;
      await admin.query(`CREATE SCHEMA ${name}`);
      schemas.push(name);
      return { name, poolConfig: { connectionString: url, options: `-c search_path=${name}`, max: 5 } };
    },
    async stop() {
      for (const name of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.end();
      if (tmpDir) execFileSync('bash', ['scripts/throwaway-postgres.sh', 'stop', tmpDir]);
    },
  };
}
