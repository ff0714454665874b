/**
 * Platform events: publishing validates the payload like an insert (field exists, createable, coerced,
 * required), then queues the event with a replay id and answers OPERATION_ENQUEUED with its UUID.
 * Events are never stored as records; the controls read them from `Org.events`.
 */
import { randomUUID } from 'node:crypto';
import { RecordError } from '../errors.js';
import { EVENT_ID_PREFIX, makeId } from '../ids.js';
import type { ObjectDef } from '../schema.js';
import { coerceValue, formatDateTime } from '../values.js';
import type { OrgCore } from './core.js';
import type { PublishedEvent, Rec, SaveResult } from './types.js';
import { failedResult, RecordErrors } from './types.js';

export interface EventBus {
  readonly events: PublishedEvent[];
  /** The last replay id handed out. */
  replayId: number;
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
    const id = makeId(EVENT_ID_PREFIX, bus.events.length + 1);
    const publishedAt = formatDateTime(core.clock.now());
    bus.events.push({
      object: object.name,
      id,
      uuid,
      replayId: ++bus.replayId,
      publishedAt,
      publishedById: userId,
      payload: { ...payload, CreatedDate: publishedAt, CreatedById: userId, EventUuid: uuid },
    });
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
