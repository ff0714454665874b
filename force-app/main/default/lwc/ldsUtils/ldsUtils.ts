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
