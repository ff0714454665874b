export * from './xml.js';
export * from './fields.js';
