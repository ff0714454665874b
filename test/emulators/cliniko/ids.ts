/**
 * Record ids. Cliniko ids are 64-bit integers sent as strings; new rows have 18-19 digits, far above
 * Number.MAX_SAFE_INTEGER, so a client that parses them as JS numbers corrupts them. We derive each id
 * from (kind, row index) with BigInt arithmetic so that lookup by id needs no map:
 *   id = ID_BASE + kind * 2^40 + index
 */
export const ID_BASE = 1_100_000_000_000_000_000n;
const KIND_SHIFT = 40n;
const INDEX_MASK = (1n << KIND_SHIFT) - 1n;

export const KIND = {
  patient: 1,
  appointment: 2, // individual appointments; a booking id is the appointment id (Cliniko's bookings are a view)
  attendee: 3,
  appointmentType: 4,
  practitioner: 5,
  business: 6,
  patientCase: 7,
  invoice: 8,
  invoiceItem: 9,
  concessionType: 10,
  contact: 11,
  treatmentNote: 12,
  medicalAlert: 13,
  user: 14,
  account: 15,
} as const;
export type Kind = (typeof KIND)[keyof typeof KIND];

export function toId(kind: Kind, index: number): string {
  return (ID_BASE + (BigInt(kind) << KIND_SHIFT) + BigInt(index)).toString();
}

/** Row index for an id of the given kind, or -1 when the string is not such an id. */
export function fromId(kind: Kind, id: string): number {
  if (!/^\d{1,20}$/.test(id)) return -1;
  const n = BigInt(id) - ID_BASE;
  if (n < 0n || n >> KIND_SHIFT !== BigInt(kind)) return -1;
  return Number(n & INDEX_MASK);
}

/** A parsed int64 filter value; null when the value is not an integer. */
export function parseInt64(value: string): bigint | null {
  return /^-?\d{1,20}$/.test(value) ? BigInt(value) : null;
}

export function idBig(kind: Kind, index: number): bigint {
  return ID_BASE + (BigInt(kind) << KIND_SHIFT) + BigInt(index);
}
