import type { Classification } from './data-map-schema.js';

/**
 * The visibility lattice (docs/data-model.md), declared once: which audiences may read a field of each
 * classification, and the permission set that makes a user a member of each audience. The metadata
 * generator writes the permission sets from it (scripts/lib/metadata-datamap.ts re-exports it) and the
 * nightly access picture checks every reader against it (access-picture.ts). Pure.
 */

/** The people a permission set serves, in the order the docs list them. */
export const AUDIENCES = ['marketing', 'operations', 'billing', 'compliance'] as const;
export type Audience = (typeof AUDIENCES)[number];

/** Which audiences may read a field of each classification. The integration user is not an audience. */
export const AUDIENCES_BY_CLASSIFICATION: Readonly<Record<Classification, readonly Audience[]>> = {
  'marketing-safe': ['marketing', 'operations', 'billing', 'compliance'],
  'operations-safe': ['operations', 'compliance'],
  billing: ['billing', 'compliance'],
  'clinician-only': [],
};

/** The packaged permission set of each audience (its `_Org` companion grants the standard Contact side). */
export const PERMISSION_SET_BY_AUDIENCE: Readonly<Record<Audience, string>> = {
  marketing: 'Cliniko_Sync_Marketing',
  operations: 'Cliniko_Sync_Operations',
  billing: 'Cliniko_Sync_Billing',
  compliance: 'Cliniko_Sync_Compliance',
};

/** The integration user's set: it writes every synced field, so it may read every one. */
export const INTEGRATION_PERMISSION_SET = 'Cliniko_Sync_Integration';
