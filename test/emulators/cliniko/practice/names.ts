/**
 * Fixed seed data: names, streets and occupations patients are drawn from, and the slug used for
 * e-mail addresses. Names with apostrophes, hyphens, accents and non-Latin scripts are there on
 * purpose: the sync must carry them unharmed. The order of every list is part of the generated data
 * (the PRNG picks by position), so append, never reorder.
 */

export const FIRST_NAMES = [
  'Olivia',
  'Jack',
  'Charlotte',
  'Noah',
  'Amelia',
  'William',
  'Isla',
  'Oliver',
  'Mia',
  'Thomas',
  'Grace',
  'Lucas',
  'Chloé',
  'José',
  'Zoë',
  'Siobhán',
  'Renée',
  'Björn',
  'Łukasz',
  'Dáire',
  'Aoife',
  'Mãe',
  'Nguyễn Thị',
  'Minh',
  'Wei',
  '美玲',
  '太郎',
  'Αλέξανδρος',
  'Мария',
  'Дмитрий',
  'محمد',
  'فاطمة',
  'Priya',
  'Arjun',
  'Ngaio',
  'Tāne',
  'Mary-Jane',
  "D'Arcy",
  'Anne-Marie',
  'Sun-hee',
  '민준',
  'Sipho',
];
export const LAST_NAMES = [
  'Smith',
  'Jones',
  'Williams',
  'Brown',
  'Wilson',
  'Taylor',
  'Johnson',
  'White',
  'Martin',
  'Anderson',
  "O'Brien",
  "O'Connor",
  "D'Angelo",
  'McAllister',
  'Nguyễn',
  'Trần',
  'Lê',
  'Müller',
  'Øster',
  'Sørensen',
  'Gonçalves',
  'Núñez',
  'Ó Súilleabháin',
  'Van der Berg',
  'Smith-Jones',
  '王',
  '李',
  '山田',
  'Παπαδόπουλος',
  'Иванова',
  'Петров',
  'الحسيني',
  'Kaur',
  'Singh',
  'Te Whatu',
  'Kim',
  '김',
  'Dlamini',
  'Ngata',
];
export const STREETS = [
  "O'Connell St",
  'Chapel St',
  'Rue de la Paix',
  'Bridge Rd',
  'Kōwhai Ave',
  'Station St',
  "St Kilda's Rd",
];
export const OCCUPATIONS = [
  'Teacher',
  'Nurse',
  'Electrician',
  'Retired',
  'Student',
  'Barista',
  'Software engineer',
  null,
];

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** ASCII local part for e-mail addresses; non-Latin names fall back to an empty slug. */
export function asciiSlug(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '');
}
