import type { z } from 'zod';
import {
  appointmentTypeSchema,
  attendeeSchema,
  businessSchema,
  individualAppointmentSchema,
  invoiceItemSchema,
  invoiceSchema,
  patientCaseSchema,
  patientSchema,
  practitionerSchema,
} from './schemas.js';

/**
 * The Cliniko resources the sync reads, with what each list endpoint needs to show every change.
 *
 * Cliniko hides archived records (and cancelled appointments/attendees) unless the request filters on
 * that column; `archived_at:*` / `cancelled_at:*` make them visible (reference/README.md).
 * A sync that forgot this would never learn that a patient was archived or an appointment cancelled.
 * Filters are only sent where the endpoint's documented allow-list has the column: any other column is a
 * 400 "This column is not searchable." Practitioners have no `archived_at` filter; inactive ones are listed
 * by `/practitioners/inactive`, so that stream walks both endpoints.
 */
export interface ResourceDefinition<S extends z.ZodType = z.ZodType> {
  /** Stream name and error/quarantine object name, e.g. `patients`. */
  readonly name: string;
  /** List endpoints walked in order, relative to the base URL. */
  readonly paths: readonly string[];
  /** Key of the array in the list envelope. */
  readonly collectionKey: string;
  readonly schema: S;
  /** `q[]` filters that reveal soft-deleted rows. */
  readonly revealHidden: readonly string[];
  /** Whether the endpoint accepts `q[]=updated_at:...` (all the synced ones do). */
  readonly incremental: boolean;
}

function define<S extends z.ZodType>(def: ResourceDefinition<S>): ResourceDefinition<S> {
  return def;
}

export const RESOURCES = {
  patients: define({
    name: 'patients',
    paths: ['patients'],
    collectionKey: 'patients',
    schema: patientSchema,
    revealHidden: ['archived_at:*'],
    incremental: true,
  }),
  individualAppointments: define({
    name: 'individual_appointments',
    paths: ['individual_appointments'],
    collectionKey: 'individual_appointments',
    schema: individualAppointmentSchema,
    revealHidden: ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'],
    incremental: true,
  }),
  attendees: define({
    name: 'attendees',
    paths: ['attendees'],
    collectionKey: 'attendees',
    schema: attendeeSchema,
    revealHidden: ['archived_at:*', 'cancelled_at:*', 'deleted_at:*'],
    incremental: true,
  }),
  patientCases: define({
    name: 'patient_cases',
    paths: ['patient_cases'],
    collectionKey: 'patient_cases',
    schema: patientCaseSchema,
    revealHidden: ['archived_at:*'],
    incremental: true,
  }),
  invoices: define({
    name: 'invoices',
    paths: ['invoices'],
    collectionKey: 'invoices',
    schema: invoiceSchema,
    revealHidden: ['archived_at:*', 'deleted_at:*'],
    incremental: true,
  }),
  invoiceItems: define({
    name: 'invoice_items',
    paths: ['invoice_items'],
    collectionKey: 'invoice_items',
    schema: invoiceItemSchema,
    revealHidden: ['archived_at:*'],
    incremental: true,
  }),
  appointmentTypes: define({
    name: 'appointment_types',
    paths: ['appointment_types'],
    collectionKey: 'appointment_types',
    schema: appointmentTypeSchema,
    revealHidden: ['archived_at:*'],
    incremental: true,
  }),
  practitioners: define({
    name: 'practitioners',
    paths: ['practitioners', 'practitioners/inactive'],
    collectionKey: 'practitioners',
    schema: practitionerSchema,
    revealHidden: [],
    incremental: true,
  }),
  businesses: define({
    name: 'businesses',
    paths: ['businesses'],
    collectionKey: 'businesses',
    schema: businessSchema,
    revealHidden: ['archived_at:*'],
    incremental: true,
  }),
} as const;

export type ResourceKey = keyof typeof RESOURCES;
export type RecordOf<K extends ResourceKey> = z.infer<(typeof RESOURCES)[K]['schema']>;
