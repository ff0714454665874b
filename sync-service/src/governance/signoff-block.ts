import type { KeyObject } from 'node:crypto';
import { isMap, isScalar, type Document } from 'yaml';
import {
  signDocument,
  verifiedSignatures,
  type Approver,
  type ApproverRegistry,
  type DocumentSignature,
  type SignedDocument,
} from './signatures.js';

/**
 * Signing a document (the data map, the journey configuration) the same way: the new signature joins
 * the others' that still verify over the same content, and the `signoff` block is written back into the
 * YAML document. One home for both documents.
 */

/** Who signs, with what key and on which date; others' signatures are kept only if `registry` verifies them. */
export interface DocumentSigner {
  readonly approver: Approver;
  readonly privateKey: KeyObject;
  readonly signedOn: string;
  readonly registry: ApproverRegistry;
}

/**
 * The signatures after `signer` signs `sha256`: the previous ones over the same content that still
 * verify (the signer's own old one dropped), then the signer's.
 */
export function renewSignatures(
  document: SignedDocument,
  sha256: string,
  previous: { readonly sha256: string; readonly signatures?: readonly DocumentSignature[] } | undefined,
  signer: DocumentSigner,
): DocumentSignature[] {
  const kept =
    previous?.sha256 === sha256
      ? verifiedSignatures(document, sha256, previous.signatures ?? [], signer.registry).filter(
          (s) => s.approver !== signer.approver.name,
        )
      : [];
  return [...kept, signDocument(document, sha256, signer.approver, signer.privateKey, signer.signedOn)];
}

/**
 * Writes the `signoff` block (approvedBy, approvedOn = the latest signature's date, sha256, `extra`,
 * signatures) into `doc` and returns the YAML text.
 */
export function writeSignoff(
  doc: Document,
  sha256: string,
  signatures: readonly DocumentSignature[],
  extra: Record<string, unknown> = {},
): string {
  const node = doc.createNode({
    approvedBy: signatures.map((s) => s.approver).join(' and '),
    approvedOn: signatures
      .map((s) => s.signedOn)
      .sort()
      .at(-1),
    sha256,
    ...extra,
    signatures: signatures.map((s) => ({ ...s })),
  });
  // A hex digest made only of digits and one `e` would read back as a number: always quote it.
  const hash = isMap(node) ? node.get('sha256', true) : undefined;
  if (isScalar(hash)) hash.type = 'QUOTE_SINGLE';
  doc.set('signoff', node);
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}
