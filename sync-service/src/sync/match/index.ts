/** Matching existing Contacts and Leads, and respecting deletions in Salesforce (issue #19, items 4, 5). */
export { decideMatch, personOf, type MatchDecision } from './decide.js';
export { createContactMatcher, type ContactMatcher } from './matcher.js';
export { matchSalesforceOf, type MatchSalesforce } from './salesforce.js';
export { resolveHold, contactKeysOf, type Resolution } from './resolve.js';
