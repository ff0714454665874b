import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Config } from '../config/index.js';
import { SyncError } from '../errors.js';
import type { SignoffTrust } from '../governance/signoff.js';
import {
  parsePrivateKey,
  replayApprovers,
  type ApproverRegistry,
  type SignatureMode,
} from '../governance/signatures.js';

/**
 * The file side of signing: reads config/approvers.yaml and replays it (governance/signatures.ts),
 * and reads a private key file for `data-map sign`. Errors name the file and what is wrong, never key
 * material.
 */

export async function readApproverRegistry(
  file: string,
  options: { mode: SignatureMode; pinnedRoot?: string | undefined },
): Promise<ApproverRegistry> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new SyncError('CONFIG_INVALID', `the approver registry ${path.basename(file)} cannot be read`, {
      record: { system: 'config', object: 'approvers' },
    });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new SyncError('CONFIG_INVALID', `the approver registry ${path.basename(file)} is not valid YAML`, {
      record: { system: 'config', object: 'approvers' },
    });
  }
  const changes = (doc as { changes?: unknown } | null)?.changes;
  const result = replayApprovers(changes, options);
  if (!result.ok) {
    throw new SyncError(
      'CONFIG_INVALID',
      `the approver registry is not valid: ${result.problems.join('; ')}`,
      {
        record: { system: 'config', object: 'approvers' },
      },
    );
  }
  return result.registry;
}

/** The registry and mode the sign-off gates check against, from the config. */
export async function loadSignoffTrust(
  config: Pick<Config, 'files' | 'signing'>,
  rootDir: string,
): Promise<SignoffTrust> {
  const registry = await readApproverRegistry(path.resolve(rootDir, config.files.approvers), {
    mode: config.signing.mode,
    pinnedRoot: config.signing.approversRoot,
  });
  return { registry, mode: config.signing.mode };
}

/** Reads an Ed25519 private key (PEM). The key stays in memory only; errors never quote it. */
export async function readPrivateKeyFile(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch {
    throw new RangeError(`the key file ${file} cannot be read`);
  }
  try {
    return parsePrivateKey(pem);
  } catch (err) {
    throw new RangeError(`${file}: ${(err as Error).message}`);
  }
}
