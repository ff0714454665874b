/**
 * Patient cases. The case name is clinical text (it names the condition), so it is canary text.
 */
import { canary } from '../canary.js';
import { KIND, idBig, toId } from '../ids.js';
import type { PatientCase } from '../practice.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, ResourceDef } from './common.js';
import { commonField, link, sortKeys } from './common.js';
import type { ApiRoutes } from '../listing.js';

const CASE_NAMES = {
  workcover: 'WorkCover claim: lumbar strain',
  tac: 'TAC claim: whiplash',
  decompression: 'Decompression program: disc bulge L4/5',
  'care-plan': 'Care plan: chronic neck pain',
  dva: 'DVA referral: knee osteoarthritis',
} as const;

export const patientCases: ResourceDef<PatientCase> = {
  kind: KIND.patientCase,
  plural: 'patient_cases',
  segment: 'patient_cases',
  rows: (p) => p.patientCases,
  field(row, name, ctx) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'closed_at':
        return row.closedAt;
      case 'expiry_date':
        return row.expiryDate;
      case 'issue_date':
        return row.issueDate;
      case 'name':
        return caseName(row, ctx.practice.seed);
      case 'patient_id':
        return idBig(KIND.patient, row.patient);
      case 'referral_type':
        return row.referralType;
      default:
        return commonField(row, KIND.patientCase, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.patientCase, row.idx);
    const out: Json = {
      archived_at: isoOrNull(row.archivedAt),
      attendee_ids: row.appointments.map((a) => toId(KIND.attendee, a)),
      attendees: link(ctx, `/patient_cases/${id}/attendees`),
      bookings: link(ctx, `/patient_cases/${id}/bookings`),
      closed: row.closedAt !== null,
      closed_at: isoOrNull(row.closedAt),
      created_at: isoSeconds(row.createdAt),
      expiry_date: row.expiryDate,
      id,
      include_cancelled_attendees: false,
      include_dna_attendees: true,
      invoices: link(ctx, `/patient_cases/${id}/invoices`),
      issue_date: row.issueDate,
      links: { self: `${ctx.base}/patient_cases/${id}` },
      max_invoiceable_amount: row.maxInvoiceableAmount,
      max_sessions: row.maxSessions,
      name: caseName(row, ctx.practice.seed),
      notes: `Goals: return to full duties. ${canary(ctx.practice.seed, 'caseNotes', row.idx)}`,
      patient: link(ctx, `/patients/${toId(KIND.patient, row.patient)}`),
      patient_attachments: link(ctx, `/patient_cases/${id}/patient_attachments`),
      referral: row.referral,
      referral_type: row.referralType,
      updated_at: isoSeconds(row.updatedAt),
    };
    if (row.contact >= 0) out.contact = link(ctx, `/contacts/${toId(KIND.contact, row.contact)}`);
    return sortKeys(out);
  },
};

function caseName(row: PatientCase, seed: number): string {
  return `${CASE_NAMES[row.kind]} ${canary(seed, 'caseName', row.idx)}`;
}

export function registerCaseRoutes(api: ApiRoutes): void {
  api.list({ path: '/patient_cases', def: patientCases });
  api.list({ path: '/patient_cases/active', def: patientCases, where: (c) => c.closedAt === null });
  api.get('/patient_cases/{id}', patientCases);
}
