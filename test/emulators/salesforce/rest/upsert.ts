/**
 * By external id: `GET sobjects/X/{field}/{value}` and the single upsert `PATCH sobjects/X/{field}/{value}`
 * (201 created / 200 updated with `created` from v46.0, 204 before; 300 with the matching records'
 * URLs when several match).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec } from '../org.js';
import type { FieldDef, ObjectDef } from '../schema.js';
import type { Params } from './common.js';
import { notFound, objectFor, requireObjectBody, throwFirst, userOf, versionOf } from './common.js';

/** The field to match on: an external id, an idLookup field or Id, visible to the user. */
export function upsertField(org: Org, userId: string, object: ObjectDef, name: string): FieldDef {
  const f = org.visibleField(userId, object, name);
  if (!f)
    throw new ApiError(
      404,
      'NOT_FOUND',
      `Provided external ID field does not exist or is not accessible: ${name}`,
    );
  if (!(f.externalId || f.idLookup || f.name === 'Id')) {
    throw new ApiError(
      400,
      'INVALID_FIELD',
      `Field ${f.name} is not an External ID or indexed field for ${object.name}`,
    );
  }
  return f;
}

const urlsOf = (version: string, object: ObjectDef, matches: Rec[]): string[] =>
  matches.map((m) => `/services/data/v${version}/sobjects/${object.name}/${String(m.Id)}`);

export function registerUpsertRoutes(app: FastifyInstance, org: Org): void {
  app.get<{ Params: Partial<Params> }>(
    '/services/data/:version/sobjects/:object/:field/:value',
    (request, reply) => {
      const userId = userOf(request);
      const version = versionOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const f = upsertField(org, userId, object, request.params.field ?? '');
      const matches = org.matchByField(object, f, request.params.value ?? '');
      if (matches.length === 0) throw notFound();
      // Like an ambiguous upsert: 300 with the URLs of the matching records, not an error array.
      if (matches.length > 1) return reply.code(300).send(urlsOf(version, object, matches));
      return org.present(userId, object, matches[0] ?? {}, version);
    },
  );

  // Single upsert: 201 created / 200 updated (with `created` from v46.0), 300 when several records match.
  app.patch<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object/:field/:value',
    async (request, reply) => {
      const userId = userOf(request);
      const version = versionOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const f = upsertField(org, userId, object, request.params.field ?? '');
      const value = request.params.value ?? '';
      const body = requireObjectBody(request.body);
      if (f.name !== 'Id') {
        const matches = org.matchByField(object, f, value);
        if (matches.length > 1) return reply.code(300).send(urlsOf(version, object, matches));
      }
      const [result] = org.saveBatch(
        userId,
        [{ operation: 'upsert', object, values: { ...body, [f.name]: value }, externalIdField: f }],
        false,
      );
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      const modern = Number(version) >= 46;
      if (result.created)
        return reply
          .code(201)
          .send({ id: result.id, success: true, errors: [], ...(modern ? { created: true } : {}) });
      if (!modern) return reply.code(204).send();
      return reply.code(200).send({ id: result.id, success: true, errors: [], created: false });
    },
  );
}
