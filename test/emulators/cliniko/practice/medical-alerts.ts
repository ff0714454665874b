/**
 * Medical alerts: about one patient in eight (never a merged duplicate) has one or two, a few archived.
 * Drawn after invoices and notes, in patient order, then ordered by created_at.
 */
import type { Prng } from '../prng.js';
import { DAY } from '../time.js';
import type { MedicalAlert, Patient } from './model.js';

export function generateMedicalAlerts(g: { rng: Prng; now: number }, patients: Patient[]): MedicalAlert[] {
  const { rng, now } = g;
  const medicalAlerts: MedicalAlert[] = [];
  const draftAlerts: Omit<MedicalAlert, 'idx'>[] = [];
  for (const p of patients) {
    if (p.mergedInto >= 0 || !rng.chance(0.12)) continue;
    for (let i = rng.int(1, 2); i > 0; i--) {
      const createdAt = Math.min(now, p.createdAt + rng.int(0, 5) * DAY);
      draftAlerts.push({
        patient: p.idx,
        createdAt,
        updatedAt: createdAt,
        archivedAt: rng.chance(0.1) ? Math.min(now, createdAt + 30 * DAY) : null,
      });
    }
  }
  draftAlerts.sort((x, y) => x.createdAt - y.createdAt || x.patient - y.patient);
  draftAlerts.forEach((d, idx) =>
    medicalAlerts.push({
      idx,
      patient: d.patient,
      createdAt: d.createdAt,
      updatedAt: d.archivedAt ?? d.updatedAt,
      archivedAt: d.archivedAt,
    }),
  );
  return medicalAlerts;
}
