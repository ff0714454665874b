/**
 * Discovery: `GET /services/data` (the API versions) and `GET /services/data/vXX.X` (the resources of
 * a version, with the identity URL of the running user).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Org } from '../org.js';
import type { Params } from './common.js';
import { userOf, versionOf } from './common.js';

const VERSIONS = [
  '50.0',
  '51.0',
  '52.0',
  '53.0',
  '54.0',
  '55.0',
  '56.0',
  '57.0',
  '58.0',
  '59.0',
  '60.0',
  '61.0',
  '62.0',
  '63.0',
  '64.0',
  '65.0',
  '66.0',
];

/** Salesforce season names: v50.0 is Winter '21 and there are three releases a year. */
export function releaseLabel(version: string): string {
  const v = Math.trunc(Number(version)) - 50;
  const season = ['Winter', 'Spring', 'Summer'][((v % 3) + 3) % 3] ?? 'Winter';
  return `${season} '${21 + Math.floor(v / 3)}`;
}

export function registerVersionRoutes(app: FastifyInstance, org: Org): void {
  const listVersions = () =>
    VERSIONS.map((version) => ({
      label: releaseLabel(version),
      url: `/services/data/v${version}`,
      version,
    }));
  app.get('/services/data', () => listVersions());
  app.get('/services/data/', () => listVersions());

  const resources = (request: FastifyRequest<{ Params: Partial<Params> }>) => {
    const base = `/services/data/v${versionOf(request)}`;
    return {
      sobjects: `${base}/sobjects`,
      query: `${base}/query`,
      queryAll: `${base}/queryAll`,
      limits: `${base}/limits`,
      composite: `${base}/composite`,
      jobs: `${base}/jobs`,
      identity: `${request.protocol}://${request.host}/id/${org.orgId}/${userOf(request)}`,
    };
  };
  app.get<{ Params: Partial<Params> }>('/services/data/:version', (request) => resources(request));
  app.get<{ Params: Partial<Params> }>('/services/data/:version/', (request) => resources(request));
}
