/**
 * The patient journey: a pure function of one patient's appointment history, cases, invoices,
 * previous state and "now". No I/O here (ESLint enforces it); the sync engine reads Cliniko, calls
 * `evaluateJourney`, writes the Salesforce records and persists `state`. See docs/journey.md.
 */
export { evaluateJourney, parseJourneyInput, patientTimeZone } from './engine.js';
export {
  parseJourneyConfig,
  journeyConfigSchema,
  DEFAULT_JOURNEY_CONFIG,
  type JourneyConfig,
} from './config.js';
export { valueBand, VALUE_BANDS, type ValueBand, type ValueBandTiers } from './value-band.js';
export { appointmentTypeInfo, type AppointmentTypeInfo } from './appointment-type.js';
export { dropOffAfterDays, maintenanceAfterDays, isInitialConsultType } from './replay.js';
export * from './types.js';
export {
  APPOINTMENT_EVENT_KINDS,
  appointmentEventKey,
  appointmentEventPayload,
  dueUpcoming,
  lifecycleKinds,
  reminderMoments,
  upcomingOffsetsFor,
  type AppointmentEventKind,
  type AppointmentEventPayload,
} from './appointment-events.js';
