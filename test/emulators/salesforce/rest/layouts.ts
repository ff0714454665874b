/**
 * `sobjects/X/describe/layouts`: the describe-layout answer in Salesforce's shape
 * (`{ layouts, recordTypeMappings, recordTypeSelectorRequired }`). The emulator has no page layouts of
 * its own (it does not read `force-app/.../layouts/`), so each object answers one layout built the way
 * Salesforce builds the default one: an "Information" section, two columns, every field the running user
 * can see, in describe order. Objects Salesforce gives no layout (platform events, custom metadata,
 * history and setup objects) answer Salesforce's error for that call:
 * 400 INVALID_TYPE "This type of object does not support layouts".
 */
import type { FastifyInstance } from 'fastify';
import { describeObject } from '../describe.js';
import { ApiError } from '../errors.js';
import type { Org } from '../org.js';
import type { Params } from './common.js';
import { objectFor, userOf, versionOf } from './common.js';

type FieldDescribe = {
  name: string;
  label: string;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  defaultedOnCreate: boolean;
};

function layoutItem(f: FieldDescribe, tabOrder: number) {
  return {
    editableForNew: f.createable,
    editableForUpdate: f.updateable,
    label: f.label,
    layoutComponents: [{ details: f, displayLines: 1, tabOrder, type: 'Field', value: f.name }],
    placeholder: false,
    required: !f.nillable && !f.defaultedOnCreate && f.createable,
  };
}

function section(fields: FieldDescribe[], layoutId: string) {
  const rows = [];
  for (let i = 0; i < fields.length; i += 2) {
    const items = fields.slice(i, i + 2).map((f, j) => layoutItem(f, i + j + 1));
    rows.push({ layoutItems: items, numItems: items.length });
  }
  return {
    collapsed: false,
    columns: 2,
    heading: 'Information',
    layoutRows: rows,
    layoutSectionId: `01B${layoutId.slice(3, 15)}`,
    parentLayoutId: layoutId,
    rows: rows.length,
    tabOrder: 'TopToBottom',
    useCollapsibleSection: false,
    useHeading: true,
  };
}

export function registerLayoutRoutes(app: FastifyInstance, org: Org): void {
  app.get<{ Params: Partial<Params> }>(
    '/services/data/:version/sobjects/:object/describe/layouts',
    (request) => {
      const userId = userOf(request);
      const object = objectFor(org, userId, request.params.object ?? '');
      if (object.category !== 'standard' && object.category !== 'custom') {
        throw new ApiError(400, 'INVALID_TYPE', 'This type of object does not support layouts');
      }
      const describe = describeObject(org, userId, object, versionOf(request)) as { fields: FieldDescribe[] };
      const layoutId = `00h${object.keyPrefix}000000000AAA`.slice(0, 18);
      const fields = describe.fields.filter((f) => !['Id', 'IsDeleted', 'SystemModstamp'].includes(f.name));
      const information = section(fields, layoutId);
      return {
        layouts: [
          {
            buttonLayoutSection: null,
            detailLayoutSections: [information],
            editLayoutSections: [
              {
                ...information,
                layoutRows: information.layoutRows.filter((r) =>
                  r.layoutItems.some((i) => i.editableForNew || i.editableForUpdate),
                ),
              },
            ],
            feedView: null,
            highlightsPanelLayoutSection: null,
            id: layoutId,
            multirowEditLayoutSections: [],
            offlineLinks: [],
            quickActionList: { quickActionListItems: [] },
            relatedContent: null,
            relatedLists: [],
            saveOptions: [],
          },
        ],
        recordTypeMappings: [],
        recordTypeSelectorRequired: [false],
      };
    },
  );
}
