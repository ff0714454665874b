import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { RESOURCES } from '../../cliniko/resources.js';
import { CoverageCollector } from '../../governance/coverage.js';
import {
  formatDataMapProblems,
  loadDataMap,
  parseDataMap,
  type DataMap,
  type DataMapLookups,
} from '../../governance/data-map.js';
import { checkSignoff, currentDataMapSha256, diffDataMaps, signDataMap } from '../../governance/signoff.js';
import { readPackageFields, SALESFORCE_FIELDS_FILE } from '../../governance-io/lookups.js';
import { loadClinikoFieldCatalogue, openCliniko } from '../../runtime/wiring.js';
import type { Command, CliContext } from '../types.js';
import { localConfigOf } from './audit-store.js';
import {
  auditSigning,
  clinicToday,
  signerFromKey,
  signingCommand,
  SIGNING_USAGE,
} from './data-map-signing.js';
import { loadSignoffTrust } from '../../governance-io/signing.js';

/**
 * `data-map sign | diff | coverage`: the compliance officer's side of the signed data map.
 * `sign` and `diff` need only the map files (and, for `sign`, the store, to audit the sign-off);
 * `coverage` reads Cliniko, never Salesforce.
 */

const USAGE = `npm run sync -- data-map <sign --key FILE [--date YYYY-MM-DD] | diff [--against FILE] | coverage [--max N] | sign-journey | keygen | approvers ...>

  sign --key FILE     Sign the current map with your private key (a registered approver's; keep the
                      file outside the repository): hash, per-entry digests and your Ed25519 signature
                      go into the map file, and a data-map-sign entry into the audit log.
  diff                What changed since the signed version (exit 1 when the map differs from it).
    --against FILE    Compare with another copy of the map instead of the signed one.
  coverage            Read Cliniko and list the fields its payloads carry that the map never mentions
    --max N           (counts only; they are not shared). Stop each resource after N records.
${SIGNING_USAGE}`;

const execFileAsync = promisify(execFile);

interface MapFiles {
  readonly file: string;
  readonly text: string;
  readonly lookups: DataMapLookups;
}

async function readMapFiles(ctx: CliContext): Promise<MapFiles> {
  const config = localConfigOf(ctx);
  const file = path.resolve(ctx.rootDir, config.files.dataMap);
  const [text, clinikoSpecFields, packageFields] = await Promise.all([
    readFile(file, 'utf8'),
    loadClinikoFieldCatalogue(ctx.rootDir),
    readPackageFields(path.join(ctx.rootDir, SALESFORCE_FIELDS_FILE)),
  ]);
  return { file, text, lookups: { clinikoSpecFields, packageFields } };
}

async function sign(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { key: { type: 'string' }, date: { type: 'string' } },
    allowPositionals: false,
  });
  // The approver is whoever holds a registered key (config/approvers.yaml), not a name typed here.
  const signer = await signerFromKey(ctx, values.key);
  if (signer === undefined) return 2;
  const config = localConfigOf(ctx);
  const { file, text, lookups } = await readMapFiles(ctx);
  // loadDataMap refuses a map that targets a field of the clinical deny-list: it cannot be signed.
  const map = loadDataMap(text, lookups);
  const before = checkSignoff(map, signer.trust);
  const date = values.date ?? clinicToday(config.clinicTimezone);
  const next = signDataMap(text, map, {
    approver: signer.approver,
    privateKey: signer.privateKey,
    registry: signer.trust.registry,
    signedOn: date,
  });
  const sha256 = currentDataMapSha256(map);
  const after = checkSignoff(loadDataMap(next, lookups), signer.trust);
  await writeFile(file, next, 'utf8');
  const { name, role } = signer.approver;
  await auditSigning(
    ctx,
    {
      operation: 'data-map-sign',
      actor: name,
      object: 'data-map',
      payload: { sha256, approvedBy: name, role, approvedOn: date },
    },
    () => writeFile(file, text, 'utf8'),
  );
  if (!before.ok && before.changedEntries !== undefined && before.changedEntries.length > 0) {
    ctx.print(`changed since the previous sign-off: ${before.changedEntries.join('; ')}`);
  }
  ctx.print(`signed: ${map.entries.length} entries, sha256 ${sha256}, by ${name} (${role}) on ${date}`);
  ctx.print(`written to ${path.relative(ctx.rootDir, file)}; the sign-off is recorded in the audit log`);
  ctx.print(
    after.ok
      ? 'the sign-off satisfies the policy: the service will sync this map'
      : `still needed: ${after.message}`,
  );
  return 0;
}

/** The map as it was at the commit that recorded `sha256`, if git knows one; undefined otherwise. */
async function signedCopyFromGit(
  file: string,
  sha256: string,
  lookups: DataMapLookups,
): Promise<DataMap | undefined> {
  const cwd = path.dirname(file);
  const name = `./${path.basename(file)}`;
  try {
    const { stdout } = await execFileAsync('git', ['log', '-1', '--format=%H', '-S', sha256, '--', name], {
      cwd,
    });
    const commit = stdout.trim();
    if (!/^[0-9a-f]{40}$/.test(commit)) return undefined;
    const shown = await execFileAsync('git', ['show', `${commit}:${name}`], {
      cwd,
      maxBuffer: 16 * 1024 * 1024,
    });
    const parsed = parseDataMap(shown.stdout, lookups);
    return parsed.ok && currentDataMapSha256(parsed.map) === sha256 ? parsed.map : undefined;
  } catch {
    // Not a git checkout (e.g. a container image): the per-entry digests still name the entries.
    return undefined;
  }
}

function printDiff(before: DataMap, after: DataMap, ctx: CliContext): number {
  const diff = diffDataMaps(before, after);
  for (const key of diff.added) ctx.print(`  + ${key}`);
  for (const key of diff.removed) ctx.print(`  - ${key}`);
  for (const c of diff.changed) {
    ctx.print(`  ~ ${c.key}`);
    for (const v of c.values)
      ctx.print(`      ${v.field}: ${JSON.stringify(v.before)} -> ${JSON.stringify(v.after)}`);
  }
  return diff.added.length + diff.removed.length + diff.changed.length;
}

async function diff(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { against: { type: 'string' } }, allowPositionals: false });
  const { file, text, lookups } = await readMapFiles(ctx);
  const map = loadDataMap(text, lookups);
  if (values.against !== undefined) {
    const parsed = parseDataMap(await readFile(path.resolve(ctx.rootDir, values.against), 'utf8'), lookups);
    if (!parsed.ok) {
      ctx.print(`${values.against} is not a valid data map:\n${formatDataMapProblems(parsed.problems)}`);
      return 2;
    }
    ctx.print(`changes from ${values.against} to ${path.relative(ctx.rootDir, file)}:`);
    return printDiff(parsed.map, map, ctx) === 0 ? (ctx.print('  (none)'), 0) : 1;
  }
  const signed =
    map.signoff === undefined ? undefined : await signedCopyFromGit(file, map.signoff.sha256, lookups);
  const trust = await loadSignoffTrust(localConfigOf(ctx), ctx.rootDir);
  const check = checkSignoff(map, trust, signed === undefined ? {} : { signedMap: signed });
  if (check.ok) {
    ctx.print(
      `the data map matches its sign-off by ${check.approvedBy} on ${check.approvedOn} (${check.sha256})`,
    );
    return 0;
  }
  ctx.print(check.message);
  if (signed !== undefined) {
    ctx.print('changes since the signed version (from git history):');
    printDiff(signed, map, ctx);
  } else if (check.changedEntries !== undefined) {
    if (check.changedEntries.length > 0) {
      ctx.print('entries whose content differs from the sign-off digests:');
      for (const key of check.changedEntries) ctx.print(`  ~ ${key}`);
    }
  }
  return 1;
}

async function coverageCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { max: { type: 'string' } }, allowPositionals: false });
  const max = values.max === undefined ? Infinity : Number(values.max);
  if (!(max === Infinity || (Number.isInteger(max) && max > 0))) {
    ctx.print('--max must be a whole number above 0');
    return 2;
  }
  const config = ctx.config();
  const { text, lookups } = await readMapFiles(ctx);
  // Coverage is a review of a map, possibly a new one not yet signed: no sign-off check here.
  const map = loadDataMap(text, lookups);
  const collector = new CoverageCollector(map);
  const cliniko = openCliniko(config, ctx.logger());
  let invalid = 0;
  try {
    for (const key of Object.keys(RESOURCES) as (keyof typeof RESOURCES)[]) {
      const resource = RESOURCES[key].name;
      let seen = 0;
      for await (const ev of cliniko.streams[key].read()) {
        if (ev.kind === 'quarantine') invalid += 1;
        if (ev.kind !== 'record') continue;
        collector.add(resource, ev.raw);
        if (++seen >= max) break;
      }
    }
  } finally {
    await cliniko.close();
  }
  const report = collector.report();
  ctx.print(
    'records read: ' +
      Object.entries(report.recordsSeen)
        .map(([r, n]) => `${r} ${n}`)
        .join(', '),
  );
  if (invalid > 0) ctx.print(`(${invalid} records failed validation and were not counted)`);
  if (report.unmappedResources.length > 0) {
    // Read only for names (businesses, practitioners, ...): nothing of theirs is projected, so listing
    // each of their fields would bury the gaps that matter.
    ctx.print(
      `resources the map has no entry for (read for names only, nothing of them is sent): ${report.unmappedResources.join(', ')}`,
    );
  }
  const unmapped = new Set(report.unmappedResources);
  const gaps = report.gaps.filter((g) => !unmapped.has(g.resource));
  if (gaps.length === 0) {
    ctx.print('every field seen in the mapped resources is mentioned by the map');
    return 0;
  }
  ctx.print('fields seen in Cliniko that the map does not mention (not shared; classify them):');
  for (const gap of gaps) {
    ctx.print(`  ${`${gap.resource}.${gap.field}`.padEnd(48)} in ${gap.records} records`);
  }
  return 0;
}

export const dataMapCommand: Command = {
  name: 'data-map',
  summary: 'Sign off the data map, diff it against the signed version, list unmapped Cliniko fields.',
  usage: USAGE,
  async run(args, ctx) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'sign':
        return sign(rest, ctx);
      case 'diff':
        return diff(rest, ctx);
      case 'coverage':
        return coverageCommand(rest, ctx);
      default: {
        const code = sub === undefined ? undefined : await signingCommand(sub, rest, ctx);
        if (code !== undefined) return code;
        ctx.print(USAGE);
        return 2;
      }
    }
  },
};
