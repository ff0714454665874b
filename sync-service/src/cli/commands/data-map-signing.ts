import { randomUUID, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { isSeq, parseDocument } from 'yaml';
import { buildAuditEntry, type AuditOperation } from '../../governance/audit.js';
import { checkJourneySignoff, signJourney } from '../../governance/journey-signoff.js';
import {
  approverOfKey,
  EMPTY_REGISTRY,
  keyFingerprint,
  publicKeyText,
  ROLES,
  signApproverChange,
  type ApproverRegistry,
  type Role,
  type UnsignedChange,
} from '../../governance/signatures.js';
import { loadSignoffTrust, readApproverRegistry, readPrivateKeyFile } from '../../governance-io/signing.js';
import type { CliContext } from '../types.js';
import { auditRowOf, chainHeadOf, localConfigOf, openStoreOnly } from './audit-store.js';

/**
 * The signing half of `data-map` (issue #17): `sign-journey`, `keygen` and `approvers ...`. Each change
 * is signed with a private key file the approver keeps outside the repository (`--key`), checked with
 * the same pure rules the service applies (governance/signatures.ts), written, and audited; if the
 * audit append fails the file is put back. `data-map sign` itself lives in data-map.ts and uses
 * `signerFromKey` and `auditSigning` from here.
 */

export const SIGNING_USAGE = `  sign-journey --key FILE   Sign config/journey.yaml (same keys and policy as the map).
  keygen --out FILE         Make an Ed25519 key pair: the private key goes to FILE (outside the
                            repository), the public key is printed for \`approvers add\`.
  approvers list            The registered approvers, their roles and key fingerprints, and the policy.
  approvers init --key FILE --name "Name" --role ROLE
                            Start a registry: the first approver signs their own registration.
  approvers add --key FILE --name "Name" --role ROLE --public-key ed25519:...
  approvers remove --key FILE --name "Name"
  approvers policy --key FILE --data-map ROLE[,ROLE] --journey ROLE[,ROLE]
                            Each is signed by the registered approver whose key is FILE.
                            Roles: ${ROLES.join(', ')}.`;

/** Today's date in the clinic's zone (a sign-off is a calendar date, as the approver sees it). */
export function clinicToday(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
}

/** Appends one audit entry for a signing action; throws (after `undo`) when the store refuses it. */
export async function auditSigning(
  ctx: CliContext,
  entry: { operation: AuditOperation; actor: string; object: string; payload: Record<string, unknown> },
  undo: () => Promise<void>,
): Promise<void> {
  const store = await openStoreOnly(ctx);
  try {
    const now = Date.now();
    await store.completeWrites(
      [],
      (previous) => [
        auditRowOf(
          buildAuditEntry(
            {
              timestamp: new Date(now).toISOString(),
              actor: `cli:${entry.actor}`,
              sourceSystem: 'sync-service',
              object: entry.object,
              externalId: '-',
              operation: entry.operation,
              changedFields: [],
              payload: entry.payload,
              runId: randomUUID(),
            },
            chainHeadOf(previous),
          ),
          now,
        ),
      ],
      now,
    );
  } catch (err) {
    await undo();
    throw err;
  } finally {
    await store.close();
  }
}

/** The registered approver holding `keyFile`'s key, or a printed reason (never key material). */
export async function signerFromKey(ctx: CliContext, keyFile: string | undefined) {
  if (keyFile === undefined) {
    ctx.print(
      '--key FILE is required: the private key file of a registered approver (kept outside the repository)',
    );
    return undefined;
  }
  const config = localConfigOf(ctx);
  const trust = await loadSignoffTrust(config, ctx.rootDir);
  const privateKey = await readPrivateKeyFile(path.resolve(keyFile));
  const approver = approverOfKey(trust.registry, privateKey);
  if (approver === undefined) {
    ctx.print(
      `the key in ${keyFile} (fingerprint ${keyFingerprint(publicKeyText(privateKey))}) belongs to no registered approver; register it with \`data-map approvers add\``,
    );
    return undefined;
  }
  if (approver.demo && trust.mode === 'production') {
    ctx.print(`${approver.name} uses a published demo key, which production refuses; sign with your own key`);
    return undefined;
  }
  return { trust, privateKey, approver };
}

async function signJourneyCommand(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { key: { type: 'string' }, date: { type: 'string' } } });
  const signer = await signerFromKey(ctx, values.key);
  if (signer === undefined) return 2;
  const config = localConfigOf(ctx);
  const file = path.resolve(ctx.rootDir, config.files.journey);
  const text = await readFile(file, 'utf8');
  const signedOn = values.date ?? clinicToday(config.clinicTimezone);
  const next = signJourney(text, { ...signer, registry: signer.trust.registry, signedOn });
  const check = checkJourneySignoff(next, signer.trust);
  await writeFile(file, next, 'utf8');
  await auditSigning(
    ctx,
    {
      operation: 'journey-sign',
      actor: signer.approver.name,
      object: 'journey',
      payload: { sha256: check.sha256, approver: signer.approver.name, role: signer.approver.role, signedOn },
    },
    () => writeFile(file, text, 'utf8'),
  );
  ctx.print(
    `signed config/journey.yaml (sha256 ${check.sha256}) as ${signer.approver.name} (${signer.approver.role}) on ${signedOn}`,
  );
  ctx.print(check.ok ? 'the journey sign-off now satisfies the policy' : `still needed: ${check.message}`);
  return 0;
}

async function keygen(args: string[], ctx: CliContext): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  if (values.out === undefined) {
    ctx.print('keygen needs --out FILE (a path outside the repository)');
    return 2;
  }
  const out = path.resolve(values.out);
  const relative = path.relative(path.resolve(ctx.rootDir), out);
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    ctx.print(
      `refusing to write a private key inside the repository (${relative}); keep it outside, e.g. in ~/.cliniko-sync/`,
    );
    return 2;
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  await writeFile(out, privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    encoding: 'utf8',
    mode: 0o600,
    flag: 'wx',
  });
  const publicKey = publicKeyText(privateKey);
  ctx.print(`private key written to ${out} (mode 600); keep it secret and outside the repository`);
  ctx.print(`public key (give this to an existing approver for \`approvers add\`): ${publicKey}`);
  return 0;
}

async function readRegistryDoc(ctx: CliContext) {
  const config = localConfigOf(ctx);
  const file = path.resolve(ctx.rootDir, config.files.approvers);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return { config, file, text };
}

function printRegistry(ctx: CliContext, registry: ApproverRegistry): void {
  for (const a of registry.approvers.values()) {
    ctx.print(
      `  ${a.name.padEnd(36)} ${a.role.padEnd(20)} key ${a.fingerprint}${a.demo ? '  (PUBLISHED DEMO KEY: demo and test mode only)' : ''}`,
    );
  }
  ctx.print(
    `policy: data map signed by ${registry.policy['data-map'].join(' and ')}; journey by ${registry.policy.journey.join(' and ')}`,
  );
  ctx.print(
    `root of trust (SYNC_APPROVERS_ROOT): ${registry.rootFingerprint ?? '-'}; ${registry.head?.seq ?? 0} changes`,
  );
}

function roleOf(value: string | undefined, ctx: CliContext): Role | undefined {
  if (value !== undefined && (ROLES as readonly string[]).includes(value)) return value as Role;
  ctx.print(`--role must be one of ${ROLES.join(', ')}`);
  return undefined;
}

function rolesOf(value: string | undefined, flag: string, ctx: CliContext): Role[] | undefined {
  const roles = (value ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  if (roles.length > 0 && roles.every((r) => (ROLES as readonly string[]).includes(r)))
    return roles as Role[];
  ctx.print(`${flag} must list roles from ${ROLES.join(', ')}, comma-separated`);
  return undefined;
}

type ApproverValues = Partial<
  Record<'key' | 'name' | 'role' | 'public-key' | 'data-map' | 'journey' | 'date', string>
>;

async function approvers(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      key: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      'public-key': { type: 'string' },
      'data-map': { type: 'string' },
      journey: { type: 'string' },
      date: { type: 'string' },
    },
  });
  const doc = await readRegistryDoc(ctx);
  const { config, file } = doc;
  const mode = config.signing.mode;
  if (sub === 'list') {
    printRegistry(ctx, await readApproverRegistry(file, { mode, pinnedRoot: config.signing.approversRoot }));
    return 0;
  }
  if (values.key === undefined) {
    ctx.print(`approvers ${sub ?? ''} needs --key FILE (the signing approver's private key)`);
    return 2;
  }
  const privateKey = await readPrivateKeyFile(path.resolve(values.key));
  const on = values.date ?? clinicToday(config.clinicTimezone);
  const planned =
    sub === 'init'
      ? initChange(values, ctx, doc, privateKey, on)
      : await laterChange(sub, values, ctx, doc, privateKey, on);
  if (planned === undefined) return 2;
  return writeApproverChange(ctx, doc, planned.registry, planned.change, privateKey);
}

type RegistryDoc = Awaited<ReturnType<typeof readRegistryDoc>>;
type PlannedChange = { registry: ApproverRegistry; change: UnsignedChange } | undefined;

/** `approvers init`: the first approver registers themself (a new root, on an empty registry). */
function initChange(
  values: ApproverValues,
  ctx: CliContext,
  doc: RegistryDoc,
  privateKey: KeyObject,
  on: string,
): PlannedChange {
  const role = roleOf(values.role, ctx);
  const name = values.name?.trim() ?? '';
  if (role === undefined || name === '') return (ctx.print('init needs --name and --role'), undefined);
  if (doc.text !== undefined && /^\s*changes:\s*\n\s*-/m.test(doc.text)) {
    ctx.print(
      `${path.relative(ctx.rootDir, doc.file)} already has approvers; add to it instead (a new root needs a new file, reviewed)`,
    );
    return undefined;
  }
  return {
    registry: EMPTY_REGISTRY,
    change: { op: 'add', name, role, publicKey: publicKeyText(privateKey), on, by: name },
  };
}

/** `approvers add|remove|policy`: a change signed by an approver the registry already holds. */
async function laterChange(
  sub: string | undefined,
  values: ApproverValues,
  ctx: CliContext,
  doc: RegistryDoc,
  privateKey: KeyObject,
  on: string,
): Promise<PlannedChange> {
  const { config, file } = doc;
  const registry = await readApproverRegistry(file, {
    mode: config.signing.mode,
    pinnedRoot: config.signing.approversRoot,
  });
  const signer = approverOfKey(registry, privateKey);
  if (signer === undefined) {
    ctx.print(`the key in ${values.key} belongs to no registered approver, so it cannot change the registry`);
    return undefined;
  }
  const name = values.name?.trim() ?? '';
  if (sub === 'add') {
    const role = roleOf(values.role, ctx);
    const publicKey = values['public-key']?.trim() ?? '';
    if (role === undefined || name === '' || publicKey === '')
      return (ctx.print('add needs --name, --role and --public-key'), undefined);
    return { registry, change: { op: 'add', name, role, publicKey, on, by: signer.name } };
  }
  if (sub === 'remove') {
    if (name === '') return (ctx.print('remove needs --name'), undefined);
    return { registry, change: { op: 'remove', name, on, by: signer.name } };
  }
  if (sub === 'policy') {
    const dataMap = rolesOf(values['data-map'], '--data-map', ctx);
    const journey = rolesOf(values.journey, '--journey', ctx);
    if (dataMap === undefined || journey === undefined) return undefined;
    return {
      registry,
      change: { op: 'policy', policy: { 'data-map': dataMap, journey }, on, by: signer.name },
    };
  }
  ctx.print(SIGNING_USAGE);
  return undefined;
}

/** Signs the change, appends it to the registry file and audits it (the file is restored if the audit fails). */
async function writeApproverChange(
  ctx: CliContext,
  doc: RegistryDoc,
  registry: ApproverRegistry,
  change: UnsignedChange,
  privateKey: KeyObject,
): Promise<number> {
  const { config, file, text } = doc;
  let signed;
  try {
    signed = signApproverChange(registry, change, privateKey, config.signing.mode);
  } catch (err) {
    ctx.print(`refused: ${(err as Error).message}`);
    return 2;
  }
  const yaml = parseDocument(
    text ??
      '# Registered approvers (docs/governance.md). Changed only through `npm run sync -- data-map approvers`.\nversion: 1\nchanges: []\n',
  );
  const list = yaml.get('changes', true);
  if (!isSeq(list)) {
    ctx.print(`${path.relative(ctx.rootDir, file)} has no changes: list`);
    return 2;
  }
  list.flow = false;
  list.add(yaml.createNode({ ...signed }));
  await writeFile(file, yaml.toString({ lineWidth: 0 }), 'utf8');
  await auditSigning(
    ctx,
    {
      operation: 'approvers-change',
      actor: change.by,
      object: 'approvers',
      payload: { ...signed, signature: undefined },
    },
    () => (text === undefined ? writeFile(file, '', 'utf8') : writeFile(file, text, 'utf8')),
  );
  ctx.print(
    `approver change ${signed.seq} (${signed.op}) signed by ${change.by}, written to ${path.relative(ctx.rootDir, file)} and audited`,
  );
  return 0;
}

export async function signingCommand(
  sub: string,
  args: string[],
  ctx: CliContext,
): Promise<number | undefined> {
  switch (sub) {
    case 'sign-journey':
      return signJourneyCommand(args, ctx);
    case 'keygen':
      return keygen(args, ctx);
    case 'approvers':
      return approvers(args, ctx);
    default:
      return undefined;
  }
}
