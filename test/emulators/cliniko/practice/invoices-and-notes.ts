/**
 * What follows an attended visit: most get an invoice (paid, open, closed or a credit note; a few
 * deleted), most get a treatment note (a few left as drafts). Both are drawn in one pass over the
 * appointments, invoice first, so the PRNG order is fixed; each list is then ordered by created_at.
 */
import type { Prng } from '../prng.js';
import { DAY, localDate, MINUTE } from '../time.js';
import type { Appointment, Invoice, TreatmentNote } from './model.js';
import type { Setup } from './setup.js';

type DraftInvoice = Omit<Invoice, 'idx' | 'number'>;
type DraftNote = Omit<TreatmentNote, 'idx'>;

export interface AfterVisits {
  invoices: Invoice[];
  treatmentNotes: TreatmentNote[];
  /** appointment index -> invoice index (-1 = none). */
  invoiceByAppointment: Int32Array;
}

export function generateInvoicesAndNotes(
  g: { rng: Prng; now: number; setup: Setup },
  appointments: Appointment[],
): AfterVisits {
  const draftInvoices: DraftInvoice[] = [];
  const draftNotes: DraftNote[] = [];
  for (const a of appointments) {
    if (a.arrived !== true) continue;
    const t = g.setup.appointmentTypes[a.type];
    const tz = g.setup.businesses[a.business]?.timeZone ?? 'Australia/Melbourne';
    if (g.rng.chance(0.88) && t) draftInvoices.push(draftInvoice(g, a, Number(t.price), tz));
    if (g.rng.chance(0.7)) draftNotes.push(draftNote(g, a));
  }
  draftInvoices.sort((x, y) => x.createdAt - y.createdAt || x.appointment - y.appointment);
  const invoiceByAppointment = new Int32Array(appointments.length).fill(-1);
  const invoices: Invoice[] = draftInvoices.map((d, idx) => {
    invoiceByAppointment[d.appointment] = idx;
    const row: Invoice = {
      idx,
      appointment: d.appointment,
      number: 1001 + idx,
      issueDate: d.issueDate,
      status: d.status,
      total: d.total,
      createdAt: d.createdAt,
      updatedAt: d.updatedAt,
      closedAt: d.closedAt,
      archivedAt: d.archivedAt,
      deletedAt: d.deletedAt,
    };
    return row;
  });
  draftNotes.sort((x, y) => x.createdAt - y.createdAt || x.appointment - y.appointment);
  const treatmentNotes: TreatmentNote[] = draftNotes.map((d, idx) => ({
    idx,
    appointment: d.appointment,
    draft: d.draft,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    finalizedAt: d.finalizedAt,
    archivedAt: d.archivedAt,
  }));
  return { invoices, treatmentNotes, invoiceByAppointment };
}

/** Older invoices are mostly paid; recent ones mostly still open. Credit notes are negative. */
function draftInvoice(
  g: { rng: Prng; now: number },
  a: Appointment,
  price: number,
  tz: string,
): DraftInvoice {
  const { rng, now } = g;
  const createdAt = Math.min(now, a.endsAt + rng.int(0, 20) * MINUTE);
  const ageDays = (now - createdAt) / DAY;
  const status = rng.weighted([
    [20, ageDays > 14 ? 85 : 40],
    [10, ageDays > 14 ? 6 : 55],
    [30, 5],
    [40, 2],
  ] as const);
  const closedAt = status === 20 || status === 30 ? Math.min(now, createdAt + rng.int(0, 10) * DAY) : null;
  const deletedAt = rng.chance(0.005) ? Math.min(now, createdAt + DAY) : null;
  return {
    appointment: a.idx,
    issueDate: localDate(a.startsAt, tz),
    status,
    total: Math.round(price * 100) * (status === 40 ? -1 : 1),
    createdAt,
    updatedAt: Math.max(createdAt, closedAt ?? createdAt, deletedAt ?? createdAt),
    closedAt,
    archivedAt: null,
    deletedAt,
  };
}

function draftNote(g: { rng: Prng; now: number }, a: Appointment): DraftNote {
  const { rng, now } = g;
  const createdAt = Math.min(now, a.startsAt + rng.int(5, 40) * MINUTE);
  const draft = rng.chance(0.05);
  const finalizedAt = draft ? null : Math.min(now, createdAt + rng.int(1, 90) * MINUTE);
  return {
    appointment: a.idx,
    draft,
    createdAt,
    updatedAt: finalizedAt ?? createdAt,
    finalizedAt,
    archivedAt: null,
  };
}
