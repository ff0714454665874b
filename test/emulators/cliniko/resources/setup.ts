/**
 * The practice's set-up: appointment types, practitioners, businesses, concession types and users.
 */
import { KIND, idBig, toId } from '../ids.js';
import type { AppointmentType, Business, ConcessionType, Practice, Practitioner, User } from '../practice.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { Json, ResourceDef } from './common.js';
import { commonField, link, qLink, sortKeys } from './common.js';
import type { ApiRoutes } from '../listing.js';
import { MutationError } from '../state.js';
import type { EmulatorState } from '../state.js';

export const appointmentTypes: ResourceDef<AppointmentType> = {
  kind: KIND.appointmentType,
  plural: 'appointment_types',
  segment: 'appointment_types',
  rows: (p) => p.appointmentTypes,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'category':
        return row.category;
      case 'online_payments_mode':
        return null;
      case 'show_in_online_bookings':
        return row.showInOnlineBookings;
      case 'appointment_confirmation_template_ids':
      case 'appointment_follow_up_template_ids':
      case 'appointment_reminder_template_ids':
        return [];
      default:
        return commonField(row, KIND.appointmentType, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.appointmentType, row.idx);
    return {
      add_deposit_to_account_credit: null,
      appointment_confirmation_template_ids: [],
      appointment_follow_up_template_ids: [],
      appointment_reminder_template_ids: [],
      appointment_type_billable_items: qLink(
        ctx,
        '/appointment_type_billable_items',
        'appointment_type_id',
        id,
      ),
      appointment_type_products: qLink(ctx, '/appointment_type_products', 'appointment_type_id', id),
      archived_at: isoOrNull(row.archivedAt),
      category: row.category,
      color: row.color,
      created_at: isoSeconds(row.createdAt),
      deposit_price: null,
      description: `${row.name} (${row.durationMinutes} min)`,
      duration_in_minutes: row.durationMinutes,
      id,
      links: { self: `${ctx.base}/appointment_types/${id}` },
      max_attendees: 1,
      name: row.name,
      online_bookings_lead_time_hours: 2,
      online_payments_enabled: false,
      online_payments_mode: null,
      practitioners: link(ctx, `/appointment_types/${id}/practitioners`),
      show_in_online_bookings: row.showInOnlineBookings,
      telehealth_enabled: false,
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export const practitioners: ResourceDef<Practitioner> = {
  kind: KIND.practitioner,
  plural: 'practitioners',
  segment: 'practitioners',
  rows: (p) => p.practitioners,
  field(row, name) {
    switch (name) {
      case 'active':
        return row.active;
      case 'show_in_online_bookings':
        return row.active;
      case 'user_id':
        return idBig(KIND.user, row.user);
      default:
        return commonField(row, KIND.practitioner, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.practitioner, row.idx);
    const initial = ctx.practice.appointmentTypes.findIndex((t) => t.name === 'Initial Appointment');
    const out: Json = {
      active: row.active,
      appointment_types: link(ctx, `/practitioners/${id}/appointment_types`),
      appointments: link(ctx, `/practitioners/${id}/appointments`),
      created_at: isoSeconds(row.createdAt),
      description: `${row.designation} at ${ctx.practice.businesses[row.business]?.name ?? ''}`,
      designation: row.designation,
      display_name: `${row.title} ${row.firstName} ${row.lastName}`,
      first_name: row.firstName,
      id,
      invoices: link(ctx, `/practitioners/${id}/invoices`),
      label: `${row.title} ${row.firstName} ${row.lastName}`,
      last_name: row.lastName,
      links: { self: `${ctx.base}/practitioners/${id}` },
      practitioner_reference_numbers: link(ctx, `/practitioners/${id}/practitioner_reference_numbers`),
      show_in_online_bookings: row.active,
      title: row.title,
      updated_at: isoSeconds(row.updatedAt),
      user: link(ctx, `/users/${toId(KIND.user, row.user)}`),
    };
    if (initial >= 0)
      out.default_appointment_type = link(ctx, `/appointment_types/${toId(KIND.appointmentType, initial)}`);
    return sortKeys(out);
  },
};

export const businesses: ResourceDef<Business> = {
  kind: KIND.business,
  plural: 'businesses',
  segment: 'businesses',
  rows: (p) => p.businesses,
  field(row, name, ctx) {
    switch (name) {
      case 'archived_at':
      case 'deleted_at':
        return null;
      case 'show_in_online_bookings':
        return true;
      case 'appointment_type_ids':
        return activeTypeIds(ctx.practice).map((t) => BigInt(t));
      default:
        return commonField(row, KIND.business, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.business, row.idx);
    return {
      additional_information: null,
      additional_invoice_information: null,
      address_1: row.address1,
      address_2: null,
      appointment_reminders_enabled: true,
      appointment_type_ids: activeTypeIds(ctx.practice),
      appointments: link(ctx, `/businesses/${id}/appointments`),
      archived_at: null,
      business_name: row.name,
      business_registration_name: 'ABN',
      business_registration_value: `5${String(row.idx + 1).padStart(10, '0')}`,
      city: row.city,
      contact_information: '(03) 9000 0000',
      country: 'Australia',
      country_code: 'AU',
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      display_name: row.name,
      email_reply_to: 'reception@northside-chiro.example',
      id,
      label: row.name,
      links: { self: `${ctx.base}/businesses/${id}` },
      post_code: row.postCode,
      practitioners: link(ctx, `/businesses/${id}/practitioners`),
      show_in_online_bookings: true,
      state: row.state,
      time_zone: row.railsZone,
      time_zone_identifier: row.timeZone,
      updated_at: isoSeconds(row.updatedAt),
      website_address: 'https://northside-chiro.example',
    };
  },
};

function activeTypeIds(p: Practice): string[] {
  return p.appointmentTypes
    .filter((t) => t.archivedAt === null)
    .map((t) => toId(KIND.appointmentType, t.idx));
}

export const concessionTypes: ResourceDef<ConcessionType> = {
  kind: KIND.concessionType,
  plural: 'concession_types',
  segment: 'concession_types',
  rows: (p) => p.concessionTypes,
  field: (row, name) =>
    name === 'archived_at' ? row.archivedAt : commonField(row, KIND.concessionType, name),
  render(row, ctx) {
    const id = toId(KIND.concessionType, row.idx);
    return {
      archived_at: isoOrNull(row.archivedAt),
      created_at: isoSeconds(row.createdAt),
      id,
      links: { self: `${ctx.base}/concession_types/${id}` },
      name: row.name,
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export const users: ResourceDef<User> = {
  kind: KIND.user,
  plural: 'users',
  segment: 'users',
  rows: (p) => p.users,
  field: (row, name) => commonField(row, KIND.user, name),
  render(row, ctx) {
    const id = toId(KIND.user, row.idx);
    const zone = ctx.practice.businesses.find((bz) => bz.railsZone === row.timeZone);
    return {
      active: true,
      created_at: isoSeconds(row.createdAt),
      email: row.email,
      first_name: row.firstName,
      id,
      last_name: row.lastName,
      links: { self: `${ctx.base}/users/${id}` },
      phone_numbers: [],
      role: row.role,
      time_zone: row.timeZone,
      time_zone_identifier: zone?.timeZone ?? 'Australia/Melbourne',
      title: row.role === 'practitioner' ? 'Dr' : null,
      updated_at: isoSeconds(row.updatedAt),
      user_active: true,
    };
  },
};

/** Appointment types, practitioners (active, inactive, per business, per type), businesses, users, settings. */
export function registerSetupRoutes(api: ApiRoutes): void {
  const { app, state } = api;
  api.list({ path: '/appointment_types', def: appointmentTypes });
  api.get('/appointment_types/{id}', appointmentTypes);
  api.list({
    path: '/practitioners/{practitioner_id}/appointment_types',
    def: appointmentTypes,
    source: (params, p) => (
      api.parent(KIND.practitioner, p.practitioners, params.practitioner_id),
      p.appointmentTypes
    ),
  });
  registerPractitionerRoutes(api);
  api.list({ path: '/businesses', def: businesses });
  api.get('/businesses/{id}', businesses);
  api.list({ path: '/concession_types', def: concessionTypes });
  api.get('/concession_types/{id}', concessionTypes);
  api.list({ path: '/users', def: users });
  api.get('/users/{id}', users);
  // The key belongs to the practice's administrator.
  app.get('/v1/user', async (_req, reply) => {
    const admin = state.practice.users.find((u) => u.role === 'administrator');
    if (!admin) throw new MutationError(404, { message: 'Not found' });
    return reply.send(users.render(admin, api.ctx()));
  });
  app.get('/v1/settings/public', async (_req, reply) => reply.send(publicSettings(state)));
}

function registerPractitionerRoutes(api: ApiRoutes): void {
  api.list({ path: '/practitioners', def: practitioners, where: (pr) => pr.active });
  api.list({ path: '/practitioners/inactive', def: practitioners, where: (pr) => !pr.active });
  api.get('/practitioners/{id}', practitioners);
  api.list({
    path: '/businesses/{business_id}/practitioners',
    def: practitioners,
    where: (pr) => pr.active,
    source: (params, p) => {
      const idx = api.parent(KIND.business, p.businesses, params.business_id);
      return p.practitioners.filter((pr) => pr.business === idx);
    },
  });
  api.list({
    path: '/appointment_types/{appointment_type_id}/practitioners',
    def: practitioners,
    where: (pr) => pr.active,
    source: (params, p) => (
      api.parent(KIND.appointmentType, p.appointmentTypes, params.appointment_type_id),
      p.practitioners
    ),
  });
}

function publicSettings(state: EmulatorState): Json {
  return {
    account: {
      country: 'Australia',
      country_code: 'AU',
      currency_symbol: '$',
      has_time_travelers: false,
      id: toId(KIND.account, 0),
      name: 'Northside Chiropractic Group',
      subdomain: 'northside-chiro',
      time_zone_support: true,
    },
    calendar: {
      end_hour: 19,
      multiple_appointments_gap: false,
      show_current_time_indicator: true,
      start_hour: 7,
      timeslot_height_in_pixels: 24,
      timeslot_size_in_minutes: 15,
    },
    online_bookings: {
      allow_bookings_days_in_advance: 60,
      allow_online_bookings_time_zone_choice: false,
      booking_reservation_minutes: 10,
      calendar_info: null,
      daily_bookings_limit: 0,
      disabled_text: null,
      disabled_title: null,
      enabled: true,
      logo_url: null,
      max_appointments_per_day_segment: 0,
      min_hours_advance_required_to_book: 2,
      min_hours_notice_for_patient_cancellation: 24,
      notice_enabled: false,
      notice_text: null,
      notice_title: null,
      notify_practitioner_by_email: true,
      notify_practitioner_by_sms: false,
      policy: null,
      practitioner_order: state.practice.practitioners.map((p) => state.idOf('practitioner', p.idx)),
      privacy_policy_url: null,
      require_patient_address: false,
      show_appointment_duration: true,
      show_prices: true,
    },
    online_payments: { activated: false },
  };
}
