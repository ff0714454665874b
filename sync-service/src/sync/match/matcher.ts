import type { LeadMatchMode } from '../../config/index.js';
import type { AuditOperation } from '../../governance/audit.js';
import type { SyncError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { ContactHold, OutboxItem, Store } from '../../store/index.js';
import { appendEntry } from '../common/audit-log.js';
import { decideMatch, normaliseEmail, personOf, type MatchDecision } from './decide.js';
import { findGoneContacts, holdGoneContact } from './deleted.js';
import type { MatchSalesforce } from './salesforce.js';

/**
 * The outbox worker's screen for Contact writes (issue #19, items 4 and 5), run on each group of
 * Contact upserts before the call:
 * - a patient with an open hold (in match review, or its Contact deleted in Salesforce) is not written:
 *   its items wait blocked by `ContactHold:<id>` until an admin resolves the hold;
 * - a patient's first write (no Salesforce id stored for it) looks for an existing Contact or Lead by
 *   email (decide.ts). One clear Contact: its `Cliniko_Patient_Id__c` is set by Id, audited
 *   `contact-link`, and the upsert then updates it instead of creating a duplicate. One clear Lead
 *   (SYNC_LEAD_MATCH=link, the default): the Lead's `Cliniko_Patient_Id__c` is set by Id, audited
 *   `lead-link`, and the Contact is created pointing at it (`Matched_Lead__c`, audited with the create).
 *   Several: the patient is held for review (`match-review`), nothing is created. A resolved review
 *   applies the admin's choice (`link:<id>` of a Contact or a Lead, or `create`) instead of searching.
 *   With SYNC_LEAD_MATCH=ignore Leads are never queried: no Contact match means create.
 * Costs: one Contact query and (unless ignored) one Lead query per group holding first writes with an
 * email, and one update call per kind of record linked; updates of known Contacts cost nothing.
 */
export interface ContactMatcher {
  screen(items: readonly OutboxItem[]): Promise<ScreenResult>;
}

export interface ScreenResult {
  /** Items to upsert now. */
  readonly write: OutboxItem[];
  /** Items parked behind a hold. */
  readonly held: number;
  /** Items whose link write failed: the worker retries or dead-letters them like a write failure. */
  readonly failed: ReadonlyArray<{ item: OutboxItem; error: SyncError }>;
}

export interface ContactMatcherDeps {
  readonly salesforce: MatchSalesforce;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => number;
  /** Who the audit log names (the worker's actor). */
  readonly actor?: string;
  /** SYNC_LEAD_MATCH; default `link`. */
  readonly leads?: LeadMatchMode;
}

const baseOf = (item: OutboxItem): string => item.externalId.split('#')[0] ?? item.externalId;

export function createContactMatcher(deps: ContactMatcherDeps): ContactMatcher {
  const ctx: Ctx = {
    deps,
    log: deps.logger.child({ module: 'contact-match' }),
    actor: deps.actor ?? 'sync-service',
  };
  return { screen: (items) => screen(ctx, items) };
}

interface Ctx {
  readonly deps: ContactMatcherDeps;
  readonly log: Logger;
  readonly actor: string;
}

/** `lead-link` names the Lead it wrote; the other operations are about the patient's Contact. */
function audit(
  ctx: Ctx,
  item: OutboxItem,
  operation: AuditOperation,
  salesforceId: string | null,
  detail: unknown,
) {
  return appendEntry(
    {
      timestamp: new Date(ctx.deps.now()).toISOString(),
      actor: ctx.actor,
      sourceSystem: 'sync-service',
      object: operation === 'lead-link' ? 'Lead' : 'Contact',
      externalId: baseOf(item),
      salesforceId,
      patientId: baseOf(item),
      operation,
      changedFields:
        operation === 'contact-link' || operation === 'lead-link' ? ['Cliniko_Patient_Id__c'] : [],
      payload: detail,
      runId: item.runId,
    },
    ctx.deps.now(),
  );
}

async function hold(ctx: Ctx, item: OutboxItem, decision: Extract<MatchDecision, { action: 'review' }>) {
  const patientId = baseOf(item);
  await ctx.deps.store.holdContact(
    {
      patientId,
      kind: 'review',
      object: decision.object,
      candidates: decision.candidates,
      reason: `${decision.candidates.length} ${decision.object}s share the patient's email and the tie-breakers (name, phone) do not pick one`,
    },
    { outboxId: item.id, payloadHash: item.payloadHash },
    audit(ctx, item, 'match-review', null, { object: decision.object, candidates: decision.candidates }),
    ctx.deps.now(),
  );
  ctx.log.info(
    { patientId, object: decision.object, candidates: decision.candidates.length },
    'held for match review',
  );
}

async function decide(ctx: Ctx, first: readonly OutboxItem[], resolved: ReadonlyMap<string, ContactHold>) {
  const decisions = new Map<string, MatchDecision>();
  const search: Array<{ item: OutboxItem; fields: Record<string, unknown> }> = [];
  for (const item of first) {
    const hold = resolved.get(baseOf(item));
    const choice = hold?.resolution ?? null;
    if (choice?.startsWith('link:')) {
      // The admin chose one of the held candidates: a Lead for a Lead review (even if Leads are now ignored).
      const action = hold?.object === 'Lead' ? 'link-lead' : 'link-contact';
      decisions.set(item.id, { action, id: choice.slice(5), basis: 'email' });
    } else if (choice !== null) {
      decisions.set(item.id, { action: 'create', reason: 'no-match' });
    } else {
      search.push({ item, fields: JSON.parse(item.payload) as Record<string, unknown> });
    }
  }
  const emails = [
    ...new Set(search.map((s) => normaliseEmail(personOf(s.fields).email)).filter((e) => e !== null)),
  ];
  if (emails.length === 0) {
    for (const s of search) decisions.set(s.item.id, { action: 'create', reason: 'no-email' });
    return decisions;
  }
  const { contacts, leads } = await ctx.deps.salesforce.candidatesByEmail(emails, {
    leads: (ctx.deps.leads ?? 'link') === 'link',
  });
  for (const { item, fields } of search) {
    decisions.set(item.id, decideMatch(baseOf(item), personOf(fields), contacts, leads));
  }
  return decisions;
}

/** Known Contacts (a stored Salesforce id) about to be updated that were deleted or unlinked meanwhile. */
async function goneAmong(
  ctx: Ctx,
  bases: readonly OutboxItem[],
  states: ReadonlyMap<string, { salesforceId: string | null }>,
) {
  const known = bases.flatMap((i) => {
    const salesforceId = states.get(i.externalId)?.salesforceId;
    return salesforceId ? [{ patientId: i.externalId, salesforceId }] : [];
  });
  return new Map((await findGoneContacts(ctx.deps.salesforce, known)).map((g) => [g.patientId, g]));
}

async function screen(ctx: Ctx, items: readonly OutboxItem[]): Promise<ScreenResult> {
  const patients = [...new Set(items.map(baseOf))];
  const holds = await ctx.deps.store.listContactHolds({ patientIds: patients });
  const open = new Set(holds.filter((h) => h.resolvedAt === null).map((h) => h.patientId));
  const resolved = new Map(holds.filter((h) => h.resolvedAt !== null).map((h) => [h.patientId, h]));
  const write: OutboxItem[] = [];
  const failed: Array<{ item: OutboxItem; error: SyncError }> = [];
  let held = 0;
  for (const item of items.filter((i) => open.has(baseOf(i)))) {
    const [current] = holds.filter((h) => h.patientId === baseOf(item));
    // Already open: parks the item, audits nothing new.
    if (current)
      await ctx.deps.store.holdContact(
        current,
        { outboxId: item.id, payloadHash: item.payloadHash },
        () => [],
        ctx.deps.now(),
      );
    held += 1;
  }
  let free = items.filter((i) => !open.has(baseOf(i)));
  const bases = free.filter((i) => !i.externalId.includes('#'));
  const states = await ctx.deps.store.getRecordStates(
    'Contact',
    bases.map((i) => i.externalId),
  );
  const first = bases.filter((i) => !states.get(i.externalId)?.salesforceId);
  const gone = await goneAmong(ctx, bases, states);
  for (const item of free.filter((i) => gone.has(baseOf(i)))) {
    const g = gone.get(baseOf(item))!;
    const block = { outboxId: item.id, payloadHash: item.payloadHash };
    await holdGoneContact(ctx.deps.store, g, {
      runId: item.runId,
      actor: ctx.actor,
      now: ctx.deps.now(),
      block,
    });
    ctx.log.info({ patientId: g.patientId, kind: g.kind }, 'Contact gone from Salesforce: not re-created');
    held += 1;
  }
  free = free.filter((i) => !gone.has(baseOf(i)));
  const decisions = first.length > 0 ? await decide(ctx, first, resolved) : new Map<string, MatchDecision>();
  const links: Link[] = [];
  const leadLinks: Link[] = [];
  for (const item of free) {
    const d = decisions.get(item.id);
    if (d?.action === 'review') {
      await hold(ctx, item, d);
      held += 1;
    } else if (d?.action === 'link-contact') links.push({ item, id: d.id, basis: d.basis });
    else if (d?.action === 'link-lead') leadLinks.push({ item, id: d.id, basis: d.basis });
    else write.push(item);
  }
  const linked = await applyLinks(ctx, 'Contact', links, failed);
  write.push(...linked.map((l) => l.item));
  const leadLinked = await applyLinks(ctx, 'Lead', leadLinks, failed);
  write.push(...leadLinked.map(withMatchedLead));
  return { write, held, failed };
}

interface Link {
  readonly item: OutboxItem;
  readonly id: string;
  readonly basis: string;
}

/**
 * Sets the patient's id on the chosen Contacts or Leads (one update call) and audits each success
 * (`contact-link`, `lead-link`); failures join `failed` for the worker to retry or dead-letter.
 */
async function applyLinks(
  ctx: Ctx,
  object: 'Contact' | 'Lead',
  links: readonly Link[],
  failed: Array<{ item: OutboxItem; error: SyncError }>,
): Promise<Link[]> {
  const pairs = links.map((l) => ({ id: l.id, patientId: baseOf(l.item) }));
  const outcomes =
    object === 'Contact'
      ? await ctx.deps.salesforce.linkContacts(pairs)
      : await ctx.deps.salesforce.linkLeads(pairs);
  const done: Link[] = [];
  for (const [i, link] of links.entries()) {
    const error = outcomes[i] ?? null;
    if (error !== null) {
      failed.push({ item: link.item, error });
      continue;
    }
    const operation = object === 'Contact' ? 'contact-link' : 'lead-link';
    await ctx.deps.store.completeWrites(
      [],
      audit(ctx, link.item, operation, link.id, {
        basis: link.basis,
        ...(object === 'Lead' ? { contactField: MATCHED_LEAD } : {}),
      }),
      ctx.deps.now(),
    );
    ctx.log.info({ patientId: baseOf(link.item), basis: link.basis }, `existing ${object} linked`);
    done.push(link);
  }
  return done;
}

/** The Contact lookup to the Lead a patient was matched to (force-app, Contact.Matched_Lead__c). */
export const MATCHED_LEAD = 'Matched_Lead__c';

/**
 * The Contact's first write, pointing at its Lead. Only the payload sent changes: the item keeps its
 * payload hash (the data map's projection), so change detection is untouched and later updates, which
 * do not carry the field, leave the lookup as it is.
 */
function withMatchedLead(link: Link): OutboxItem {
  const fields = JSON.parse(link.item.payload) as Record<string, unknown>;
  return { ...link.item, payload: JSON.stringify({ ...fields, [MATCHED_LEAD]: link.id }) };
}
