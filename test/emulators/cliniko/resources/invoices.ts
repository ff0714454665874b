/**
 * Billing: invoices and their items (one item per invoice, the consult, sharing the invoice's row).
 */
import { canary } from '../canary.js';
import type { Kind } from '../ids.js';
import { KIND, idBig, toId } from '../ids.js';
import type { Invoice } from '../practice.js';
import { INVOICE_STATUS } from '../practice.js';
import type { FieldValue } from '../query.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, RenderContext, ResourceDef } from './common.js';
import { commonField, link, money, patientLabel, qLink, sortKeys } from './common.js';
import type { ApiRoutes, Source } from '../listing.js';
import type { Practice } from '../practice.js';

function invoiceField(row: Invoice, name: string, ctx: RenderContext, kind: Kind): FieldValue {
  const a = ctx.practice.appointments[row.appointment];
  switch (name) {
    case 'appointment_id':
      return idBig(KIND.appointment, row.appointment);
    case 'attendee_id':
      return idBig(KIND.attendee, row.appointment);
    case 'archived_at':
      return row.archivedAt;
    case 'deleted_at':
      return row.deletedAt;
    case 'business_id':
      return a ? idBig(KIND.business, a.business) : null;
    case 'closed_at':
      return row.closedAt;
    case 'issue_date':
      return row.issueDate;
    case 'number':
      return row.number;
    case 'original_invoice_id':
    case 'source_item_id':
      return null;
    case 'invoice_id':
      return idBig(KIND.invoice, row.idx);
    case 'patient_id':
      return a ? idBig(KIND.patient, a.patient) : null;
    case 'practitioner_id':
      return a ? idBig(KIND.practitioner, a.practitioner) : null;
    case 'status':
      return row.status;
    default:
      return commonField(row, kind, name);
  }
}

export const invoices: ResourceDef<Invoice> = {
  kind: KIND.invoice,
  plural: 'invoices',
  segment: 'invoices',
  rows: (p) => p.invoices,
  field: (row, name, ctx) => invoiceField(row, name, ctx, KIND.invoice),
  render(row, ctx) {
    const id = toId(KIND.invoice, row.idx);
    const a = ctx.practice.appointments[row.appointment];
    const patient = a ? ctx.practice.patients[a.patient] : undefined;
    const out: Json = {
      appointment: link(ctx, `/appointments/${toId(KIND.appointment, row.appointment)}`),
      archived_at: isoOrNull(row.archivedAt),
      attendee: link(ctx, `/attendees/${toId(KIND.attendee, row.appointment)}`),
      calculation_method: 3,
      calculation_method_description: 'Tax inclusive',
      closed_at: isoOrNull(row.closedAt),
      created_at: isoSeconds(row.createdAt),
      deleted_at: isoOrNull(row.deletedAt),
      discounted_amount: '0.00',
      id,
      invoice_items: link(ctx, `/invoices/${id}/invoice_items`),
      invoice_to: patient ? patientLabel(patient) : null,
      issue_date: row.issueDate,
      links: { self: `${ctx.base}/invoices/${id}` },
      net_amount: money(row.total),
      notes: `Claim lodged with health fund. ${canary(ctx.practice.seed, 'invoiceNotes', row.idx)}`,
      number: row.number,
      online_payment_url: null,
      patient_extra_information: null,
      reversed_invoices: qLink(ctx, '/invoices', 'invoice_id', id),
      status: row.status,
      status_description: INVOICE_STATUS[row.status] ?? null,
      tax_amount: '0.00',
      total_amount: money(row.total),
      updated_at: isoSeconds(row.updatedAt),
    };
    if (a) {
      out.business = link(ctx, `/businesses/${toId(KIND.business, a.business)}`);
      out.patient = link(ctx, `/patients/${toId(KIND.patient, a.patient)}`);
      out.practitioner = link(ctx, `/practitioners/${toId(KIND.practitioner, a.practitioner)}`);
    }
    return sortKeys(out);
  },
};

/** One item per invoice (the consult), sharing the invoice's row. */
export const invoiceItems: ResourceDef<Invoice> = {
  kind: KIND.invoiceItem,
  plural: 'invoice_items',
  segment: 'invoice_items',
  rows: (p) => p.invoices,
  field: (row, name, ctx) => invoiceField(row, name, ctx, KIND.invoiceItem),
  render(row, ctx) {
    const id = toId(KIND.invoiceItem, row.idx);
    const a = ctx.practice.appointments[row.appointment];
    const type = a ? ctx.practice.appointmentTypes[a.type] : undefined;
    return {
      archived_at: isoOrNull(row.archivedAt),
      code: type ? `CH${String(type.idx + 1).padStart(3, '0')}` : null,
      concession_type_name: null,
      created_at: isoSeconds(row.createdAt),
      deleted_at: isoOrNull(row.deletedAt),
      discount_percentage: '0.0',
      discounted_amount: '0.00',
      id,
      invoice: link(ctx, `/invoices/${toId(KIND.invoice, row.idx)}`),
      is_monetary_discount: false,
      links: { self: `${ctx.base}/invoice_items/${id}` },
      name: type?.name ?? null,
      net_price: money(row.total),
      quantity: '1.0',
      tax_amount: '0.00',
      tax_name: 'GST-free',
      tax_rate: '0.0',
      total_including_tax: row.total / 100,
      unit_price: money(row.total),
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

/** Invoices (also per patient, appointment, attendee, case and practitioner) and invoice items. */
export function registerInvoiceRoutes(api: ApiRoutes): void {
  api.list({ path: '/invoices', def: invoices });
  api.get('/invoices/{id}', invoices);
  const invoicesWhere =
    (
      kind: Kind,
      param: string,
      rowsOf: (p: Practice) => readonly unknown[],
      test: (inv: Invoice, idx: number, p: Practice) => boolean,
    ): Source<Invoice> =>
    (params, p) => {
      const idx = api.parent(kind, rowsOf(p), params[param]);
      return p.invoices.filter((inv) => test(inv, idx, p));
    };
  const byAppointment = (inv: Invoice, idx: number): boolean => inv.appointment === idx;
  for (const [path, kind, param, rowsOf, test] of [
    [
      '/patients/{patient_id}/invoices',
      KIND.patient,
      'patient_id',
      (p: Practice) => p.patients,
      (inv: Invoice, idx: number, p: Practice) => p.appointments[inv.appointment]?.patient === idx,
    ],
    [
      '/appointments/{appointment_id}/invoices',
      KIND.appointment,
      'appointment_id',
      (p: Practice) => p.appointments,
      byAppointment,
    ],
    [
      '/attendees/{attendee_id}/invoices',
      KIND.attendee,
      'attendee_id',
      (p: Practice) => p.appointments,
      byAppointment,
    ],
    [
      '/patient_cases/{patient_case_id}/invoices',
      KIND.patientCase,
      'patient_case_id',
      (p: Practice) => p.patientCases,
      (inv: Invoice, idx: number, p: Practice) => p.appointments[inv.appointment]?.patientCase === idx,
    ],
    [
      '/practitioners/{practitioner_id}/invoices',
      KIND.practitioner,
      'practitioner_id',
      (p: Practice) => p.practitioners,
      (inv: Invoice, idx: number, p: Practice) => p.appointments[inv.appointment]?.practitioner === idx,
    ],
  ] as const)
    api.list({ path, def: invoices, source: invoicesWhere(kind, param, rowsOf, test) });
  api.list({ path: '/invoice_items', def: invoiceItems });
  api.get('/invoice_items/{id}', invoiceItems);
  api.list({
    path: '/invoices/{invoice_id}/invoice_items',
    def: invoiceItems,
    source: (params, p) => {
      const idx = api.parent(KIND.invoice, p.invoices, params.invoice_id);
      return p.invoices.slice(idx, idx + 1);
    },
  });
}
