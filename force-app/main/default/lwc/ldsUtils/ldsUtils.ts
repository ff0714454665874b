/**
 * Turns the many error shapes that Lightning Data Service, GraphQL wires, Apex and JavaScript produce
 * into a flat list of messages for the errorPanel. Shared by every component so there is one error path.
 */
interface BodyWithMessage {
  message?: unknown;
}
interface UiApiBody {
  output?: {
    errors?: Array<{ message?: unknown }>;
    fieldErrors?: Record<string, Array<{ message?: unknown }>>;
  };
}
interface ErrorLike {
  body?: unknown;
  message?: unknown;
  statusText?: unknown;
}

function messagesFromBody(body: unknown): string[] {
  if (Array.isArray(body)) {
    return body.flatMap((item: BodyWithMessage) => (typeof item?.message === 'string' ? [item.message] : []));
  }
  if (body && typeof body === 'object') {
    const ui = body as UiApiBody & BodyWithMessage;
    const out: string[] = [];
    for (const e of ui.output?.errors ?? []) if (typeof e.message === 'string') out.push(e.message);
    for (const list of Object.values(ui.output?.fieldErrors ?? {})) {
      for (const e of list) if (typeof e.message === 'string') out.push(e.message);
    }
    if (out.length === 0 && typeof ui.message === 'string') out.push(ui.message);
    return out;
  }
  return [];
}

export function reduceErrors(errors: unknown): string[] {
  const list: unknown[] = Array.isArray(errors) ? errors : [errors];
  return list
    .filter((error) => error !== null && error !== undefined)
    .flatMap((error): string[] => {
      if (typeof error === 'string') return [error];
      const e = error as ErrorLike;
      const fromBody = messagesFromBody(e.body);
      if (fromBody.length > 0) return fromBody;
      if (typeof e.message === 'string') return [e.message];
      if (typeof e.statusText === 'string') return [e.statusText];
      return [];
    })
    .filter((message) => message.length > 0);
}

/**
 * The value of one field of a UI API GraphQL node, or `undefined` when the field is absent: queries mark
 * fields `@optional`, so a field the user may not read (FLS) is simply missing from the node and the
 * component renders nothing for it.
 */
export function gqlValue<T>(node: unknown, field: SchemaFieldId | string): T | null | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const name = typeof field === 'string' ? field : field.fieldApiName;
  const entry = (node as Record<string, unknown>)[name];
  if (entry === undefined) return undefined;
  if (entry === null) return null;
  return (entry as GqlField<T>).value;
}

/** The display value of a GraphQL node field, falling back to the raw value; `undefined` when hidden. */
export function gqlDisplay(node: unknown, field: SchemaFieldId | string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const name = typeof field === 'string' ? field : field.fieldApiName;
  const entry = (node as Record<string, unknown>)[name] as GqlField<unknown> | null | undefined;
  if (entry === undefined) return undefined;
  if (entry === null || entry.value === null || entry.value === undefined) return '';
  return entry.displayValue ?? String(entry.value as string | number | boolean);
}

/** Whether FLS let the field through (the node carries it, even with a null value). */
export function gqlHas(node: unknown, field: SchemaFieldId | string): boolean {
  if (!node || typeof node !== 'object') return false;
  const name = typeof field === 'string' ? field : field.fieldApiName;
  return (node as Record<string, unknown>)[name] !== undefined;
}

/** The nodes of a `uiapi.query.<Object>` connection, or [] when the object is absent. */
export function gqlNodes(data: unknown, objectApiName: string): Array<Record<string, unknown>> {
  const root = (data as { uiapi?: { query?: Record<string, unknown> } } | undefined)?.uiapi?.query;
  const connection = root?.[objectApiName] as
    { edges?: Array<{ node?: Record<string, unknown> }> } | undefined;
  return (connection?.edges ?? []).flatMap((edge) => (edge.node ? [edge.node] : []));
}

/** Calendar quarter label as stored in Governance_Review__c.Quarter__c, e.g. `2026-Q4` (UTC). */
export function quarterOf(date: Date): string {
  return `${date.getUTCFullYear()}-Q${Math.floor(date.getUTCMonth() / 3) + 1}`;
}

/** First instant (UTC) of the quarter that contains `date`. */
export function quarterStart(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), Math.floor(date.getUTCMonth() / 3) * 3, 1));
}

/**
 * Picks `size` items uniformly at random (partial Fisher-Yates) without mutating the input. `random`
 * is injectable so the choice can be reproduced; the platform passes Math.random.
 */
export function sampleOf<T>(items: readonly T[], size: number, random: () => number = Math.random): T[] {
  const pool = [...items];
  const count = Math.min(size, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    const picked = pool[j] as T;
    pool[j] = pool[i] as T;
    pool[i] = picked;
  }
  return pool.slice(0, count);
}
