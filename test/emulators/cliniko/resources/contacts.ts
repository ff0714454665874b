/**
 * Contacts: referring doctors, third-party payers and standard contacts.
 */
import { canary } from '../canary.js';
import { KIND, toId } from '../ids.js';
import type { Contact } from '../practice.js';
import { isoOrNull, isoSeconds } from '../time.js';
import type { ResourceDef } from './common.js';
import { commonField } from './common.js';
import type { ApiRoutes } from '../listing.js';

const CONTACT_TYPE_CODE = { Standard: 0, Doctor: 1, '3rd Party Payer': 2 } as const;
export const contacts: ResourceDef<Contact> = {
  kind: KIND.contact,
  plural: 'contacts',
  segment: 'contacts',
  rows: (p) => p.contacts,
  field(row, name) {
    switch (name) {
      case 'archived_at':
        return row.archivedAt;
      case 'deleted_at':
        return null;
      case 'company_name':
        return row.companyName;
      case 'email':
        return row.email;
      case 'first_name':
        return row.firstName;
      case 'last_name':
        return row.lastName;
      case 'occupation':
        return row.occupation;
      case 'type_code':
        return CONTACT_TYPE_CODE[row.type];
      default:
        return commonField(row, KIND.contact, name);
    }
  },
  render(row, ctx) {
    const id = toId(KIND.contact, row.idx);
    return {
      address_1: null,
      address_2: null,
      address_3: null,
      archived_at: isoOrNull(row.archivedAt),
      city: null,
      company_name: row.companyName,
      country: 'Australia',
      country_code: 'AU',
      created_at: isoSeconds(row.createdAt),
      deleted_at: null,
      doctor_type: row.doctorType,
      email: row.email,
      first_name: row.firstName,
      id,
      last_name: row.lastName,
      links: { self: `${ctx.base}/contacts/${id}` },
      notes: `Referrer notes. ${canary(ctx.practice.seed, 'contactNotes', row.idx)}`,
      occupation: row.occupation,
      phone_numbers: [],
      post_code: null,
      preferred_name: null,
      provider_number: row.providerNumber,
      state: null,
      title: row.title,
      type: row.type,
      type_code: CONTACT_TYPE_CODE[row.type],
      updated_at: isoSeconds(row.updatedAt),
    };
  },
};

export function registerContactRoutes(api: ApiRoutes): void {
  api.list({ path: '/contacts', def: contacts });
  api.get('/contacts/{id}', contacts);
}
