import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseDataMap, type DataMap } from './data-map.js';
import { checkJourneySignoff, signJourney } from './journey-signoff.js';
import {
  applyChange,
  checkDocumentSignatures,
  parsePrivateKey,
  publicKeyText,
  replayApprovers,
  signApproverChange,
  signStatement,
  type ApproverChange,
} from './signatures.js';
import { checkSignoff, signDataMap } from './signoff.js';
import { FIXTURE_LOOKUPS, FIXTURE_MAP, testApprovers } from './test-fixtures.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const A = testApprovers();
const ON = '2026-11-22';

function mapOf(text: string): DataMap {
  const r = parseDataMap(text, FIXTURE_LOOKUPS);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.map;
}
const janeSigned = signDataMap(FIXTURE_MAP, mapOf(FIXTURE_MAP), {
  approver: A.jane,
  privateKey: A.keys.jane,
  registry: A.registry,
  signedOn: ON,
});

describe('attack: a map signed by a stranger', () => {
  it('is refused, naming the signer and why (the stranger is not registered)', () => {
    // The stranger writes a signature block claiming their own name.
    const sha256 = mapOf(janeSigned).signoff!.sha256;
    const forged = janeSigned.replace(
      /signatures:\n[\s\S]*$/,
      `signatures:\n    - approver: Mallory\n      role: compliance-officer\n      signedOn: ${ON}\n      signature: ${signStatement(A.keys.stranger, { document: 'data-map', sha256, approver: 'Mallory', role: 'compliance-officer', signedOn: ON })}\nentries:` +
        janeSigned.slice(janeSigned.indexOf('\nentries:') + '\nentries:'.length),
    );
    const check = checkSignoff(mapOf(forged), A.trust);
    expect(check.ok).toBe(false);
    if (!check.ok)
      expect(check.message).toContain('Mallory signed the data-map but is not a registered approver');
    expect(checkSignoff(mapOf(janeSigned), A.trust).ok).toBe(true); // control
  });

  it('is refused when the stranger signs under a registered name (the signature does not verify)', () => {
    const sha256 = mapOf(janeSigned).signoff!.sha256;
    const good = mapOf(janeSigned).signoff!.signatures![0]!.signature;
    const bad = signStatement(A.keys.stranger, {
      document: 'data-map',
      sha256,
      approver: A.jane.name,
      role: 'compliance-officer',
      signedOn: ON,
    });
    const check = checkSignoff(mapOf(janeSigned.replace(good, bad)), A.trust);
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.message).toContain(`the signature of ${A.jane.name} (${ON}) does not match this data-map`);
      expect(check.message).not.toContain(bad);
    }
  });

  it('a recomputed hash without a signature is not a sign-off', () => {
    const unsigned = janeSigned.replace(/\n {2}signatures:\n(?: {4}.*\n| {6}.*\n)*/, '\n');
    expect(unsigned).not.toContain('signatures:');
    const check = checkSignoff(mapOf(unsigned), A.trust);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toContain('missing compliance-officer; no valid signature');
  });
});

describe('re-signing under a new registry (a clinic replacing the demo approvers)', () => {
  it("drops signatures the new registry cannot verify, so the new approver's sign-off stands alone", () => {
    const clinic = testApprovers();
    // Same name, different person and key: the old signature must not survive.
    const resigned = signDataMap(janeSigned, mapOf(janeSigned), {
      approver: clinic.jane,
      privateKey: clinic.keys.jane,
      registry: clinic.registry,
      signedOn: '2026-12-01',
    });
    expect(mapOf(resigned).signoff?.signatures).toHaveLength(1);
    expect(mapOf(resigned).signoff?.signatures?.[0]?.signedOn).toBe('2026-12-01');
    expect(checkSignoff(mapOf(resigned), clinic.trust).ok).toBe(true);
    // Control: the old map carries a signature the new registry refuses.
    expect(checkSignoff(mapOf(janeSigned), clinic.trust).ok).toBe(false);
  });
});

describe('the two-approver policy', () => {
  const policyChange = signApproverChange(
    A.registry,
    {
      op: 'policy',
      policy: { 'data-map': ['compliance-officer', 'integration-owner'], journey: ['compliance-officer'] },
      on: ON,
      by: A.jane.name,
    },
    A.keys.jane,
    'test',
  );
  const applied = applyChange(A.registry, policyChange, { mode: 'test' });
  if (!applied.ok) throw new Error(applied.problems.join());
  const trust = { registry: applied.registry, mode: 'test' as const };

  it('needs both roles, by different approvers; one signature is not enough', () => {
    const once = checkSignoff(mapOf(janeSigned), trust);
    expect(once.ok).toBe(false);
    if (!once.ok)
      expect(once.message).toContain(
        'missing integration-owner; valid signatures by Jane Citizen (Compliance Officer) (compliance-officer)',
      );
    const twice = signDataMap(janeSigned, mapOf(janeSigned), {
      approver: A.omar,
      privateKey: A.keys.omar,
      registry: A.registry,
      signedOn: ON,
    });
    expect(checkSignoff(mapOf(twice), trust)).toMatchObject({
      ok: true,
      approvedBy: 'Jane Citizen (Compliance Officer) and Omar Owner',
    });
  });
});

describe('attack: an approver added without a valid signature', () => {
  const mallory = parsePrivateKey(
    readFileSync(path.join(ROOT, 'config/demo-keys/DEMO-ONLY-integration-owner.key'), 'utf8'),
  );
  const malloryKey = publicKeyText(A.keys.stranger);

  it('an add signed by the stranger, claiming to be Jane, breaks the replay', () => {
    const forged = {
      op: 'add',
      name: 'Mallory',
      role: 'compliance-officer',
      publicKey: malloryKey,
      on: ON,
      by: A.jane.name,
      seq: 3,
      previous: A.registry.head!.sha256,
    } as const;
    const change = { ...forged, signature: signStatement(A.keys.stranger, forged) };
    const result = replayApprovers([...A.changes, change], { mode: 'test' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems[0]).toBe(
        `approver change 3 (add Mallory): the signature of ${A.jane.name} does not verify (the change was edited, or signed with another key)`,
      );
    }
    // Control: the same add signed by Jane's key is accepted.
    const real = signApproverChange(
      A.registry,
      {
        op: 'add',
        name: 'Mallory',
        role: 'compliance-officer',
        publicKey: malloryKey,
        on: ON,
        by: A.jane.name,
      },
      A.keys.jane,
      'test',
    );
    expect(replayApprovers([...A.changes, real], { mode: 'test' }).ok).toBe(true);
  });

  it('an add signed by an unregistered name, a hand-edited role, or a dropped change is refused', () => {
    const selfSigned = {
      op: 'add',
      name: 'Mallory',
      role: 'compliance-officer',
      publicKey: malloryKey,
      on: ON,
      by: 'Mallory',
      seq: 3,
      previous: A.registry.head!.sha256,
    } as const;
    const r1 = replayApprovers(
      [...A.changes, { ...selfSigned, signature: signStatement(A.keys.stranger, selfSigned) }],
      { mode: 'test' },
    );
    expect(r1.ok ? '' : r1.problems[0]).toBe(
      'approver change 3 (add Mallory): signed by Mallory, who is not a registered approver',
    );
    const promoted = { ...A.changes[1]!, role: 'compliance-officer' } as ApproverChange;
    const r2 = replayApprovers([A.changes[0], promoted], { mode: 'test' });
    expect(r2.ok ? '' : r2.problems[0]).toContain(
      '(add Omar Owner): the signature of Jane Citizen (Compliance Officer) does not verify',
    );
    const r3 = replayApprovers([A.changes[1]], { mode: 'test' });
    expect(r3.ok ? '' : r3.problems[0]).toContain('expected seq 1');
    expect(replayApprovers(A.changes, { mode: 'test' }).ok).toBe(true); // control
    // A whole registry rewritten from a new root fails against the pinned root.
    const pinned = replayApprovers(A.changes, { mode: 'test', pinnedRoot: '0123456789abcdef' });
    expect(pinned.ok ? '' : pinned.problems[0]).toContain('is not the pinned root SYNC_APPROVERS_ROOT');
    expect(replayApprovers(A.changes, { mode: 'test', pinnedRoot: A.registry.rootFingerprint }).ok).toBe(
      true,
    );
    expect(mallory.asymmetricKeyType).toBe('ed25519');
  });
});

describe('attack: the published demo key in production', () => {
  const committed = parseYaml(readFileSync(path.join(ROOT, 'config/approvers.yaml'), 'utf8')) as {
    changes: unknown;
  };

  it('the committed registry replays in test and demo mode, and production refuses it', () => {
    expect(replayApprovers(committed.changes, { mode: 'test' }).ok).toBe(true);
    expect(replayApprovers(committed.changes, { mode: 'demo' }).ok).toBe(true);
    const production = replayApprovers(committed.changes, { mode: 'production' });
    expect(production.ok).toBe(false);
    if (!production.ok)
      expect(production.problems[0]).toContain('with a published demo key, which production refuses');
  });

  it('a demo-key signature over a map is refused in production even with a registry that lists it', () => {
    const demo = testApprovers('test');
    const demoKey = parsePrivateKey(
      readFileSync(path.join(ROOT, 'config/demo-keys/DEMO-ONLY-approver.key'), 'utf8'),
    );
    const withDemo = signApproverChange(
      demo.registry,
      {
        op: 'add',
        name: 'Demo',
        role: 'compliance-officer',
        publicKey: publicKeyText(demoKey),
        on: ON,
        by: demo.jane.name,
      },
      demo.keys.jane,
      'test',
    );
    const r = applyChange(demo.registry, withDemo, { mode: 'test' });
    if (!r.ok) throw new Error(r.problems.join());
    const sha = 'a'.repeat(64);
    const sig = { approver: 'Demo', role: 'compliance-officer', signedOn: ON };
    const signature = {
      ...sig,
      signature: signStatement(demoKey, { document: 'data-map', sha256: sha, ...sig }),
    };
    expect(checkDocumentSignatures('data-map', sha, [signature], r.registry, 'test').ok).toBe(true);
    const prod = checkDocumentSignatures('data-map', sha, [signature], r.registry, 'production');
    expect(prod.ok ? '' : prod.problems[0]).toContain(
      'Demo signed the data-map with a published demo key, which production refuses',
    );
    // And production refuses registering it in the first place.
    expect(applyChange(demo.registry, withDemo, { mode: 'production' }).ok).toBe(false);
  });
});

describe('config/journey.yaml is signed like the map', () => {
  const text = readFileSync(path.join(ROOT, 'config/journey.yaml'), 'utf8');

  it('the committed journey verifies against the committed registry (test mode), not in production', () => {
    const committed = parseYaml(readFileSync(path.join(ROOT, 'config/approvers.yaml'), 'utf8')) as {
      changes: unknown;
    };
    const reg = replayApprovers(committed.changes, { mode: 'test' });
    if (!reg.ok) throw new Error(reg.problems.join());
    expect(checkJourneySignoff(text, { registry: reg.registry, mode: 'test' }).ok).toBe(true);
    const prod = checkJourneySignoff(text, { registry: reg.registry, mode: 'production' });
    expect(prod.ok ? '' : prod.message).toContain('published demo key');
  });

  it('an edited threshold needs a new signature; a stranger cannot give it; a registered approver can', () => {
    // Jane's own registry: start from the journey without the demo sign-off.
    const unsigned = text.slice(0, text.indexOf('\nsignoff:') + 1);
    expect(checkJourneySignoff(unsigned, A.trust).ok).toBe(false);
    const signed = signJourney(unsigned, {
      approver: A.jane,
      privateKey: A.keys.jane,
      registry: A.registry,
      signedOn: ON,
    });
    expect(checkJourneySignoff(signed, A.trust).ok).toBe(true);
    const edited = signed.replace(
      /lapsedAfterDays: (\d+)/,
      (_m, n: string) => `lapsedAfterDays: ${Number(n) + 1}`,
    );
    expect(edited).not.toBe(signed);
    const check = checkJourneySignoff(edited, A.trust);
    expect(check.ok ? '' : check.message).toContain(
      'changed after its sign-off by Jane Citizen (Compliance Officer)',
    );
    expect(() =>
      signJourney(edited, {
        approver: A.jane,
        privateKey: A.keys.stranger,
        registry: A.registry,
        signedOn: ON,
      }),
    ).toThrow(/registered key/);
    expect(
      checkJourneySignoff(
        signJourney(edited, {
          approver: A.jane,
          privateKey: A.keys.jane,
          registry: A.registry,
          signedOn: ON,
        }),
        A.trust,
      ).ok,
    ).toBe(true);
  });
});
