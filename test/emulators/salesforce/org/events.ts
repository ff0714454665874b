/**
 * Platform events: publishing validates the payload like an insert (field exists, createable, coerced,
 * required), then queues the event with a replay id and answers OPERATION_ENQUEUED with its UUID.
 * Events are never stored as records; the controls read them from `Org.events`.
 *
 * Retention: Salesforce keeps high-volume platform events for 72 hours, the window a subscriber can
 * replay from (https://developer.salesforce.com/docs/atlas.en-us.platform_events.meta/platform_events/platform_event_limits.htm).
 * The bus drops events older than that on the org's clock, and also keeps at most `maxEvents` (an
 * emulator bound: a backfill publishing a million events within an hour must not hold them all).
 * Replaying from an id that has been dropped is refused as Salesforce refuses one outside the window.
 */
import { randomUUID } from 'node:crypto';
import { RecordError } from '../errors.js';
import { EVENT_ID_PREFIX, makeId } from '../ids.js';
import type { ObjectDef } from '../schema.js';
import { coerceValue, formatDateTime } from '../values.js';
import type { OrgCore } from './core.js';
import type { PublishedEvent, Rec, SaveResult } from './types.js';
import { failedResult, RecordErrors } from './types.js';

export const EVENT_RETENTION_MS = 72 * 3600 * 1000;
export const DEFAULT_MAX_EVENTS = 100_000;

export interface EventBus {
  /** Retained events, oldest first. */
  readonly events: PublishedEvent[];
  /** The last replay id handed out. */
  replayId: number;
  /** Events published since the bus was last cleared (event ids count on from it). */
  published: number;
  /** The replay id of the newest event dropped by retention (0: none dropped). */
  droppedThrough: number;
  readonly maxEvents: number;
}

/**
 * Drops what retention no longer keeps: events older than 72 hours on the org's clock, then the oldest
 * beyond `maxEvents`. The count is trimmed in steps of an eighth of the bound, so that trimming costs
 * O(1) per event published and not a copy of the whole buffer each time.
 */
export function retainEvents(bus: EventBus, nowMs: number): void {
  const cutoff = nowMs - EVENT_RETENTION_MS;
  let drop = 0;
  for (const event of bus.events) {
    if (Date.parse(event.publishedAt) > cutoff) break;
    drop++;
  }
  const excess = bus.events.length - drop - bus.maxEvents;
  if (excess > bus.maxEvents / 8) drop += excess;
  if (drop === 0) return;
  bus.droppedThrough = bus.events[drop - 1]?.replayId ?? bus.droppedThrough;
  bus.events.splice(0, drop);
}

export function publish(
  core: OrgCore,
  bus: EventBus,
  userId: string,
  object: ObjectDef,
  values: Rec,
): SaveResult {
  try {
    if (!core.security.objectAccess(userId, object).create) {
      throw new RecordError(
        'INSUFFICIENT_ACCESS_OR_READONLY',
        `insufficient access rights on object ${object.name}`,
      );
    }
    const payload = eventPayload(object, values);
    const uuid = randomUUID();
    const id = makeId(EVENT_ID_PREFIX, ++bus.published);
    const now = core.clock.now();
    const publishedAt = formatDateTime(now);
    bus.events.push({
      object: object.name,
      id,
      uuid,
      replayId: ++bus.replayId,
      publishedAt,
      publishedById: userId,
      payload: { ...payload, CreatedDate: publishedAt, CreatedById: userId, EventUuid: uuid },
    });
    retainEvents(bus, now.getTime());
    return { id, success: true, errors: [{ statusCode: 'OPERATION_ENQUEUED', message: uuid, fields: [] }] };
  } catch (error) {
    return failedResult(error);
  }
}

/** The event's fields, coerced; throws every problem of the payload at once. */
function eventPayload(object: ObjectDef, values: Rec): Rec {
  const payload: Rec = {};
  const errors: RecordError[] = [];
  for (const [key, raw] of Object.entries(values)) {
    if (key === 'attributes') continue;
    const f = object.fields.get(key.toLowerCase());
    if (!f) {
      errors.push(
        new RecordError('INVALID_FIELD', `No such column '${key}' on sobject of type ${object.name}`, [key]),
      );
      continue;
    }
    if (!f.createable) {
      errors.push(
        new RecordError('INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${f.name}.`, [
          f.name,
        ]),
      );
      continue;
    }
    try {
      payload[f.name] = coerceValue(f, raw);
    } catch (error) {
      if (error instanceof RecordError) errors.push(error);
      else throw error;
    }
  }
  const missing = [...object.fields.values()]
    .filter((f) => f.required && (payload[f.name] === null || payload[f.name] === undefined))
    .map((f) => f.name);
  if (missing.length > 0)
    errors.push(
      new RecordError(
        'REQUIRED_FIELD_MISSING',
        `Required fields are missing: [${missing.join(', ')}]`,
        missing,
      ),
    );
  if (errors.length > 0) throw new RecordErrors(errors);
  return payload;
}
