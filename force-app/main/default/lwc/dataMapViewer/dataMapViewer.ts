import { LightningElement } from 'lwc';
import getDataMap from '@salesforce/apex/ClinikoGovernanceController.getDataMap';

/** Shape returned by ClinikoGovernanceController.getDataMap (custom metadata is out of the UI API's reach). */
export interface DataMapEntry {
  developerName: string;
  resource?: string | null;
  clinikoField?: string | null;
  classification?: string | null;
  targetObject?: string | null;
  targetField?: string | null;
  direction?: string | null;
  transform?: string | null;
  audiences?: string | null;
  rationale?: string | null;
}

export interface DataMapSignoff {
  approvedBy?: string | null;
  approvedOn?: string | null;
  signedHash?: string | null;
  currentHash?: string | null;
}

interface EntryView {
  key: string;
  source: string;
  target: string;
  directionLabel: string;
  transform: string;
  audienceList: Array<{ key: string; label: string }>;
  rationale: string;
}

interface GroupView {
  key: string;
  headingId: string;
  title: string;
  countLabel: string;
  entries: EntryView[];
}

/** Display order and titles of the classifications (config/data-map.yaml vocabulary). */
const CLASSIFICATIONS: ReadonlyArray<{ key: string; title: string }> = [
  { key: 'marketing-safe', title: 'Marketing-safe' },
  { key: 'operations-safe', title: 'Operations-safe' },
  { key: 'billing', title: 'Billing' },
  { key: 'clinician-only', title: 'Clinician-only (never copied)' },
];

const DIRECTION_LABELS: Record<string, string> = {
  'cliniko-to-salesforce': 'Cliniko → Salesforce',
  both: 'Both ways (written back to Cliniko)',
};

function toView(entry: DataMapEntry): EntryView {
  const source = [entry.resource, entry.clinikoField].filter(Boolean).join('.');
  const target = entry.targetObject && entry.targetField ? `${entry.targetObject}.${entry.targetField}` : '—';
  const direction = entry.direction ?? '';
  return {
    key: entry.developerName,
    source: source || entry.developerName,
    target,
    directionLabel: DIRECTION_LABELS[direction] ?? (direction || '—'),
    transform: entry.transform ?? '',
    audienceList: (entry.audiences ?? '')
      .split(';')
      .map((a) => a.trim())
      .filter((a) => a.length > 0)
      .map((a) => ({ key: `${entry.developerName}-${a}`, label: a })),
    rationale: entry.rationale ?? '',
  };
}

/** Groups entries by classification in the canonical order; unknown classifications follow, by name. */
export function groupEntries(entries: readonly DataMapEntry[]): GroupView[] {
  const byKey = new Map<string, DataMapEntry[]>();
  for (const entry of entries) {
    const key = entry.classification ?? 'unclassified';
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const known = CLASSIFICATIONS.map((c) => c.key);
  const extra = [...byKey.keys()].filter((k) => !known.includes(k)).sort();
  return [...known, ...extra]
    .filter((key) => byKey.has(key))
    .map((key) => {
      const list = byKey.get(key) ?? [];
      return {
        key,
        headingId: `group-${key}`,
        title: CLASSIFICATIONS.find((c) => c.key === key)?.title ?? key,
        countLabel: list.length === 1 ? '1 field' : `${list.length} fields`,
        entries: list.map(toView).sort((a, b) => a.target.localeCompare(b.target)),
      };
    });
}

/**
 * The signed data map as deployed: every Data_Map_Field__mdt entry grouped by classification, with
 * direction, target field and audiences, and the sign-off (approver, date, hash). Warns prominently
 * when the deployed map's hash is not the signed hash, or when no sign-off is deployed.
 */
export default class DataMapViewer extends LightningElement {
  groups: GroupView[] = [];
  signoff: DataMapSignoff | null = null;
  errors: unknown = undefined;
  loaded = false;

  connectedCallback(): void {
    this.load().catch((error: unknown) => {
      this.errors = error;
      this.loaded = true;
    });
  }

  async load(): Promise<void> {
    const result = (await getDataMap()) as {
      entries?: DataMapEntry[];
      signoff?: DataMapSignoff | null;
    } | null;
    this.groups = groupEntries(result?.entries ?? []);
    this.signoff = result?.signoff ?? null;
    this.errors = undefined;
    this.loaded = true;
  }

  get isLoading(): boolean {
    return !this.loaded;
  }

  get hasError(): boolean {
    return this.errors !== undefined;
  }

  get isEmpty(): boolean {
    return this.loaded && !this.hasError && this.groups.length === 0;
  }

  get hasEntries(): boolean {
    return !this.hasError && this.groups.length > 0;
  }

  get hasSignoff(): boolean {
    return this.signoff !== null;
  }

  get isSignedMap(): boolean {
    const s = this.signoff;
    return !!s && !!s.signedHash && s.signedHash === s.currentHash;
  }

  get showLoaded(): boolean {
    return this.loaded && !this.hasError;
  }

  get approvedBy(): string {
    return this.signoff?.approvedBy ?? '—';
  }

  get approvedOn(): string {
    return this.signoff?.approvedOn ?? '—';
  }

  get signedHash(): string {
    return this.signoff?.signedHash ?? '—';
  }

  get currentHash(): string {
    return this.signoff?.currentHash ?? '—';
  }

  get entryCountLabel(): string {
    const count = this.groups.reduce((n, g) => n + g.entries.length, 0);
    return count === 1 ? '1 mapped field' : `${count} mapped fields`;
  }
}
