/**
 * Patient cases: funded cases (WorkCover, TAC, billed to the payer contact), decompression programs,
 * and a few care plans and DVA referrals among private patients; closed some time after the last visit.
 */
import { DAY, localDate } from '../time.js';
import type { DraftAppointment, DraftCase, DraftPatient, Generation } from './drafts.js';
import type { AppointmentType } from './model.js';

/** Opens the patient's case when the initial consult calls for one; the case's draft index or -1. */
export function openCase(
  g: Generation,
  p: DraftPatient,
  initial: AppointmentType,
  business: number,
  firstVisit: number,
): number {
  const { rng, now } = g;
  if (!(
    initial.funding === 'workcover' ||
    initial.funding === 'tac' ||
    initial.funding === 'decompression' ||
    rng.chance(0.1)
  ))
    return -1;
  const kind: DraftCase['kind'] =
    initial.funding === 'workcover'
      ? 'workcover'
      : initial.funding === 'tac'
        ? 'tac'
        : initial.funding === 'decompression'
          ? 'decompression'
          : rng.chance(0.2)
            ? 'dva'
            : 'care-plan';
  const funded = kind === 'workcover' || kind === 'tac';
  const { workcoverPayer, tacPayer } = g.referrers;
  const caseDraft = g.cases.length;
  g.cases.push({
    patientDraft: p.draftId,
    contact: kind === 'workcover' ? workcoverPayer : kind === 'tac' ? tacPayer : -1,
    kind,
    maxSessions:
      kind === 'decompression' ? 20 : funded ? rng.int(6, 12) : kind === 'dva' ? 12 : rng.int(8, 16),
    maxInvoiceableAmount: funded ? `${rng.int(6, 15) * 100}.00` : null,
    referral: funded || kind === 'dva',
    referralType: kind === 'dva' ? 'dva' : null,
    issueDate: localDate(firstVisit, g.setup.businesses[business]?.timeZone ?? 'Australia/Melbourne'),
    expiryDate: funded || kind === 'dva' ? localDate(firstVisit + 180 * DAY, 'Australia/Melbourne') : null,
    closedAt: null,
    archivedAt: null,
    createdAt: Math.min(now, Math.max(p.createdAt, firstVisit - 2 * DAY)),
    updatedAt: Math.min(now, Math.max(p.createdAt, firstVisit - 2 * DAY)),
  });
  return caseDraft;
}

/** Most cases whose last visit is more than 60 days old are closed 1-20 days after it. */
export function closeCaseMaybe(g: Generation, caseDraft: number, last: DraftAppointment | null): void {
  const c = g.cases[caseDraft];
  if (c && last && last.endsAt < g.now - 60 * DAY && g.rng.chance(0.6)) {
    c.closedAt = last.endsAt + g.rng.int(1, 20) * DAY;
    c.updatedAt = c.closedAt;
  }
}
