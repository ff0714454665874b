import { isMap, parseDocument, parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { SignoffTrust } from './signoff.js';
import { checkDocumentSignatures } from './signatures.js';
import { renewSignatures, writeSignoff, type DocumentSigner } from './signoff-block.js';

/**
 * config/journey.yaml is signed like the data map (issue #17, item 6): it decides what marketing sees
 * (stages, thresholds, funding tags). Its `signoff` block holds the sha256 of the canonical JSON of the
 * whole document except `signoff` (canonical.ts; comments and key order do not count) and the
 * approvers' Ed25519 signatures over it (signatures.ts, document `journey`). Pure: text in, text out.
 */

const signoffSchema = z.object({
  sha256: z.string(),
  approvedBy: z.string().optional(),
  approvedOn: z.union([z.string(), z.date()]).optional(),
  signatures: z
    .array(
      z.object({
        approver: z.string(),
        role: z.string(),
        signedOn: z
          .union([z.string(), z.date()])
          .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)),
        signature: z.string(),
      }),
    )
    .default([]),
});

/** sha256 of the journey document's canonical JSON, `signoff` left out. */
export function journeySha256(doc: unknown): string {
  const body =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc)
      ? { ...(doc as Record<string, unknown>) }
      : doc;
  if (body !== null && typeof body === 'object') delete (body as Record<string, unknown>).signoff;
  return sha256Hex(canonicalJson(body, 'journey'));
}

export type JourneySignoffCheck =
  | { readonly ok: true; readonly sha256: string; readonly signers: readonly string[] }
  | { readonly ok: false; readonly sha256: string; readonly message: string };

export function checkJourneySignoff(yamlText: string, trust: SignoffTrust): JourneySignoffCheck {
  const doc = parseYaml(yamlText) as unknown;
  const sha256 = journeySha256(doc);
  const raw = (doc as { signoff?: unknown } | null)?.signoff;
  const fix =
    'a registered approver must sign it (`npm run sync -- data-map sign-journey --key <private key file>`)';
  if (raw === undefined || raw === null) {
    return { ok: false, sha256, message: `config/journey.yaml has never been signed off; ${fix}` };
  }
  const parsed = signoffSchema.safeParse(raw);
  if (!parsed.success)
    return { ok: false, sha256, message: `config/journey.yaml: its signoff block is malformed; ${fix}` };
  if (parsed.data.sha256 !== sha256) {
    return {
      ok: false,
      sha256,
      message: `config/journey.yaml changed after its sign-off${parsed.data.approvedBy ? ` by ${parsed.data.approvedBy}` : ''}; ${fix}`,
    };
  }
  const check = checkDocumentSignatures(
    'journey',
    sha256,
    parsed.data.signatures,
    trust.registry,
    trust.mode,
  );
  if (!check.ok)
    return {
      ok: false,
      sha256,
      message: `config/journey.yaml's sign-off is not valid: ${check.problems.join('; ')}; ${fix}`,
    };
  return { ok: true, sha256, signers: check.signers.map((s) => s.approver) };
}

/** Adds (or renews) `approver`'s signature; keeps others' signatures over the same content. */
export function signJourney(yamlText: string, signer: DocumentSigner): string {
  const doc = parseDocument(yamlText);
  if (doc.errors.length > 0 || !isMap(doc.contents))
    throw new RangeError('config/journey.yaml is not a YAML mapping');
  const plain = doc.toJS() as { signoff?: unknown };
  const sha256 = journeySha256(plain);
  const previous = signoffSchema.safeParse(plain.signoff);
  const signatures = renewSignatures('journey', sha256, previous.success ? previous.data : undefined, signer);
  return writeSignoff(doc, sha256, signatures);
}
