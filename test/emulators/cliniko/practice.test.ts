import { describe, expect, it } from 'vitest';
import { fromId, KIND, toId } from './ids.js';
import type { Practice } from './practice.js';
import { defaultNow, generatePractice } from './practice.js';
import { allCanaries } from './resources.js';
import { localDate } from './time.js';

const make = (seed: number, patients = 300): Practice =>
  generatePractice({ seed, patients, now: defaultNow(seed) });

describe('the synthetic practice', () => {
  const p = make(1);

  it('is deterministic by seed and differs between seeds', () => {
    const again = make(1);
    expect(again.patients.map((x) => x.f)).toEqual(p.patients.map((x) => x.f));
    expect(again.appointments).toEqual(p.appointments);
    expect(again.invoices).toEqual(p.invoices);
    const other = make(2);
    expect(other.patients.map((x) => x.f.last_name)).not.toEqual(p.patients.map((x) => x.f.last_name));
  });

  it('has 3 clinics in IANA zones, 9 practitioners and the consult types the journey needs', () => {
    expect(p.businesses.map((b) => b.timeZone)).toEqual([
      'Australia/Melbourne',
      'Australia/Brisbane',
      'Australia/Perth',
    ]);
    expect(p.practitioners).toHaveLength(9);
    const names = p.appointmentTypes.map((t) => t.name);
    for (const n of [
      'Facebook Initial Appointment',
      'Initial Appointment',
      'NC Family Initial Appointment',
      'Decompression New Patient',
      'Workcover Initial',
      'TAC Initial',
      'Paediatric New Patient',
      'Standard Follow Up',
      'Maintenance Adjustment',
    ]) {
      expect(names).toContain(n);
    }
    // Every initial type is actually used.
    const used = new Set(p.appointments.map((a) => p.appointmentTypes[a.type]?.name));
    for (const t of p.appointmentTypes.filter((x) => x.initial)) expect(used, t.name).toContain(t.name);
  });

  it('books appointments inside clinic hours in the clinic time zone', () => {
    for (const a of p.appointments.slice(0, 500)) {
      const zone = p.businesses[a.business]?.timeZone ?? '';
      const hour = Number(
        new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', hourCycle: 'h23' }).format(
          new Date(a.startsAt * 1000),
        ),
      );
      expect(hour).toBeGreaterThanOrEqual(8);
      expect(hour).toBeLessThan(18);
    }
  });

  it('has the visit patterns: weekly and monthly gaps, drop-offs, first-visit no-shows, lapses and reactivations', () => {
    const byPatient = new Map<number, number[]>();
    for (const a of p.appointments)
      if (a.cancelledAt === null) byPatient.set(a.patient, [...(byPatient.get(a.patient) ?? []), a.startsAt]);
    const gapsDays = (starts: number[]): number[] =>
      starts
        .sort((x, y) => x - y)
        .slice(1)
        .map((s, i) => Math.round((s - (starts[i] as number)) / 86_400));
    const histories = [...byPatient.values()].map(gapsDays);
    expect(histories.some((g) => g.length >= 5 && g.every((d) => d >= 6 && d <= 8))).toBe(true); // weekly
    expect(histories.some((g) => g.filter((d) => d >= 28 && d <= 35).length >= 3)).toBe(true); // monthly maintenance
    expect(histories.some((g) => g.some((d) => d >= 120))).toBe(true); // reactivation after a long gap
    const now = defaultNow(1);
    const lastVisit = [...byPatient.values()].map((s) => Math.max(...s));
    expect(lastVisit.some((t) => now - t > 180 * 86_400)).toBe(true); // lapsed
    const firstDna = p.patients.some((pt) => {
      const own = p.appointments.filter((a) => a.patient === pt.idx);
      return own.length === 1 && own[0]?.didNotArrive === true;
    });
    expect(firstDna).toBe(true);
    expect(p.appointments.some((a) => a.cancelledAt !== null && a.cancellationReason !== null)).toBe(true);
    expect(p.appointments.some((a) => a.startsAt > now)).toBe(true); // future bookings
  });

  it('has cases with max_sessions, invoices in every status, and the consent mix', () => {
    expect(p.patientCases.length).toBeGreaterThan(10);
    expect(
      p.patientCases.every((c) => c.maxSessions !== null && c.maxSessions >= 1 && c.maxSessions <= 200),
    ).toBe(true);
    expect(p.patientCases.some((c) => c.appointments.length > 0)).toBe(true);
    expect(new Set(p.invoices.map((i) => i.status))).toEqual(new Set([10, 20, 30, 40]));
    for (const flag of [
      'accepted_email_marketing',
      'accepted_sms_marketing',
      'accepted_privacy_policy',
    ] as const) {
      expect(new Set(p.patients.map((x) => x.f[flag])), flag).toEqual(new Set([true, false, null]));
    }
  });

  it('has duplicates (some merged into the original), archived patients, and names beyond ASCII', () => {
    const merged = p.patients.filter((x) => x.mergedInto >= 0);
    expect(merged.length).toBeGreaterThan(0);
    for (const m of merged) {
      const survivor = p.patients[m.mergedInto];
      expect(survivor?.f.last_name).toBe(m.f.last_name);
      expect(m.archivedAt).toBe(m.mergedAt);
    }
    expect(p.patients.some((x) => x.archivedAt !== null && x.mergedInto < 0)).toBe(true);
    const names = p.patients.map((x) => `${x.f.first_name} ${x.f.last_name}`);
    expect(names.some((n) => n.includes("'"))).toBe(true);
    expect(names.some((n) => /[À-ÿĀ-ž]/.test(n))).toBe(true);
    expect(
      names.some((n) =>
        /[\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]/.test(n),
      ),
    ).toBe(true);
  });

  it('keeps timestamps consistent: created <= updated <= now, rows in created_at order', () => {
    const now = defaultNow(1);
    for (const rows of [
      p.patients,
      p.appointments,
      p.invoices,
      p.treatmentNotes,
      p.patientCases,
      p.medicalAlerts,
    ]) {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as { createdAt: number; updatedAt: number };
        expect(r.createdAt).toBeLessThanOrEqual(r.updatedAt);
        expect(r.updatedAt).toBeLessThanOrEqual(now);
        if (i > 0) expect((rows[i - 1] as { createdAt: number }).createdAt).toBeLessThanOrEqual(r.createdAt);
      }
    }
    const inv = p.invoices[0];
    const appt = inv ? p.appointments[inv.appointment] : undefined;
    expect(inv?.issueDate).toBe(
      localDate(appt?.startsAt ?? 0, p.businesses[appt?.business ?? 0]?.timeZone ?? ''),
    );
  });

  it('plants unique canaries', () => {
    const all = [...allCanaries(p)];
    expect(all.length).toBeGreaterThan(p.appointments.length);
    expect(new Set(all).size).toBe(all.length);
  });
});

describe('ids', () => {
  it('are 19-digit strings above 2^53 that round-trip through BigInt', () => {
    for (const [kind, idx] of [
      [KIND.patient, 0],
      [KIND.appointment, 999_999],
      [KIND.invoice, 2 ** 39],
    ] as const) {
      const id = toId(kind, idx);
      expect(id).toMatch(/^\d{19}$/);
      expect(BigInt(id) > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
      expect(fromId(kind, id)).toBe(idx);
      expect(fromId(KIND.user, id)).toBe(-1);
    }
    expect(fromId(KIND.patient, '12')).toBe(-1);
    expect(fromId(KIND.patient, 'abc')).toBe(-1);
    // A neighbour that a float parse would collapse onto the same number stays distinct.
    const a = toId(KIND.patient, 1);
    const b = toId(KIND.patient, 2);
    expect(Number(a)).toBe(Number(b));
    expect(a).not.toBe(b);
  });
});
