/**
 * Cliniko relates records by link objects, `{ "links": { "self": "https://api.au1.cliniko.com/v1/patients/123" } }`,
 * never by bare ids. These helpers pull the id out of such a URL as a string: ids are 64-bit integers and
 * must never pass through a JS number.
 */

/** The id at the end of a resource URL, optionally checking the collection name before it. */
export function idFromLink(url: string | null | undefined, collection?: string): string | undefined {
  if (typeof url !== 'string' || url === '') return undefined;
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return undefined;
  }
  const segments = pathname.split('/').filter((s) => s !== '');
  const id = segments.at(-1);
  if (id === undefined || !/^\d{1,20}$/.test(id)) return undefined;
  if (collection !== undefined && segments.at(-2) !== collection) return undefined;
  return id;
}

/** The related record's id from a link object such as `patient: { links: { self } }`. */
export function relationId(
  relation: { readonly links?: { readonly self?: string | null } | null } | null | undefined,
  collection?: string,
): string | undefined {
  return idFromLink(relation?.links?.self, collection);
}

/**
 * A `links.next` URL is only followed when it points at the same origin and API root as the configured
 * base URL: the client sends the API key with every request and must never send it anywhere else.
 */
export function isSameApi(url: string, baseUrl: string): boolean {
  try {
    const target = new URL(url);
    const base = new URL(baseUrl);
    const root = base.pathname.replace(/\/+$/, '');
    return (
      target.origin === base.origin && (target.pathname === root || target.pathname.startsWith(`${root}/`))
    );
  } catch {
    return false;
  }
}
