/**
 * How each Cliniko resource is served, one module per resource family under `resources/`: its JSON
 * shape (exactly the properties of the spec's schema for it) and the values its filterable / sortable
 * fields take. This module gathers them for the routes, the controls and the programmatic API.
 */
export type { Json, RenderContext, ResourceDef } from './resources/common.js';
export { patientLabel } from './resources/common.js';
export { patients } from './resources/patients.js';
export { attendees, bookings, individualAppointments } from './resources/appointments.js';
export { appointmentTypes, businesses, concessionTypes, practitioners, users } from './resources/setup.js';
export { contacts } from './resources/contacts.js';
export { patientCases } from './resources/cases.js';
export { invoiceItems, invoices } from './resources/invoices.js';
export { medicalAlerts, treatmentNotes } from './resources/clinical.js';
export { allCanaries } from './resources/canaries.js';
