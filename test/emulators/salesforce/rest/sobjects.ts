/**
 * sObject rows: `POST sobjects/X` (create, or publish when X is a platform event), and
 * `GET` / `PATCH` / `DELETE sobjects/X/{id}`. Validation and security are the org's (`../org/`).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import type { Org, Rec } from '../org.js';
import type { Params } from './common.js';
import { notFound, objectFor, requireObjectBody, throwFirst, userOf, versionOf } from './common.js';

export function registerSObjectRoutes(app: FastifyInstance, org: Org): void {
  // Create, or publish a platform event.
  app.post<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const values = requireObjectBody(request.body);
      if (object.category === 'event') {
        const result = org.publish(userId, object, values);
        if (!result.success) throwFirst(result);
        return reply.code(201).send(result);
      }
      const [result] = org.saveBatch(userId, [{ operation: 'insert', object, values }], false);
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      return reply.code(201).send({ id: result.id, success: true, errors: [] });
    },
  );

  app.get<{ Params: Partial<Params>; Querystring: { fields?: string } }>(
    '/services/data/:version/sobjects/:object/:id',
    (request) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object || hit.record.IsDeleted === true) throw notFound();
      const fields = request.query.fields
        ?.split(',')
        .map((f) => f.trim())
        .filter(Boolean);
      return org.present(userId, object, hit.record, versionOf(request), fields);
    },
  );

  app.patch<{ Params: Partial<Params>; Body: Rec | undefined }>(
    '/services/data/:version/sobjects/:object/:id',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object) throw notFound();
      if (hit.record.IsDeleted === true) throw new ApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
      const values = requireObjectBody(request.body);
      const [result] = org.saveBatch(
        userId,
        [{ operation: 'update', object, values, id: String(hit.record.Id) }],
        false,
      );
      if (!result?.success) throwFirst(result ?? { success: false, errors: [] });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: Partial<Params> }>(
    '/services/data/:version/sobjects/:object/:id',
    async (request, reply) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      const hit = org.byId(request.params.id ?? '');
      if (!hit || hit.object !== object) throw notFound();
      const [result] = org.deleteBatch(userId, [String(hit.record.Id)], false);
      if (!result?.success)
        throwFirst(
          result ?? { success: false, errors: [] },
          result?.errors[0]?.statusCode === 'ENTITY_IS_DELETED' ? 404 : 400,
        );
      return reply.code(204).send();
    },
  );
}
