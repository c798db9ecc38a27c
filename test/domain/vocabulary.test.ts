/**
 * The shared vocabulary (domain/vocabulary/) is the one list each layer
 * takes its words from: the wire schema, the quorum setting, the SQLite
 * directory. These rows pin that each layer accepts exactly the listed words,
 * so a word added to a list and missed by a layer that keeps its own copy
 * (the migration's SQL CHECK) fails here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseQuorumSetting } from '../../domain/approvals/quorum-settings';
import { CLIENT_ROLES, isClientRole } from '../../domain/vocabulary/client-roles';
import { DUAL_CONTROL_CLASSES, MAX_QUORUM } from '../../domain/vocabulary/dual-control-classes';
import { ATTRIBUTE_NAME_PATTERN, MAX_ATTRIBUTE_NAME, MAX_CUSTOM_ATTRIBUTES, MAX_DESCRIPTION } from '../../domain/vocabulary/key-metadata-limits';
import { validateArgs } from '../../protocol/op-schemas';
import { openSqliteStore } from '../../storage/sqlite-store';
import { codeOf, NO_ERROR } from '../support/error-code';

const client = (name: string, role: string) => ({
  name,
  role: role as (typeof CLIENT_ROLES)[number],
  groups: [],
  serialNumber: `serial-${name}`,
  fingerprint256: `fp-${name}`,
  notBefore: '2026-01-01T00:00:00.000Z',
  notAfter: '2027-01-01T00:00:00.000Z',
  createdAt: '2026-01-01T00:00:00.000Z',
  revokedAt: null,
});

describe('client roles', () => {
  it('are what the SQLite directory stores, and it refuses any other', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strongroom-vocabulary-'));
    const store = openSqliteStore(path.join(dir, 'keychain.db'));
    try {
      for (const role of CLIENT_ROLES) expect(codeOf(() => store.directory.putClient(client(`c-${role}`, role)))).toBe(NO_ERROR);
      expect(store.directory.listClients().map((c) => c.role).sort()).toEqual([...CLIENT_ROLES].sort());
      expect(codeOf(() => store.directory.putClient(client('c-root', 'root')))).not.toBe(NO_ERROR);
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('are what ClientIssue takes on the wire, and isClientRole agrees', () => {
    const issue = (role: string) => codeOf(() => validateArgs('ClientIssue', { name: 'billing', role, publicKeyPem: 'pem' }));
    for (const role of CLIENT_ROLES) {
      expect(issue(role)).toBe(NO_ERROR);
      expect(isClientRole(role)).toBe(true);
    }
    expect(issue('admin')).toBe('INVALID_REQUEST');
    expect(isClientRole('admin')).toBe(false);
  });
});

describe('dual-control classes', () => {
  it('each get a quorum from the setting, and ApprovalQuorumSet takes each up to MAX_QUORUM', () => {
    expect([...parseQuorumSetting('3').keys()].sort()).toEqual([...DUAL_CONTROL_CLASSES].sort());
    for (const dualControlClass of DUAL_CONTROL_CLASSES) {
      expect(codeOf(() => validateArgs('ApprovalQuorumSet', { class: dualControlClass, required: MAX_QUORUM }))).toBe(NO_ERROR);
    }
    expect(codeOf(() => validateArgs('ApprovalQuorumSet', { class: 'key-destroy', required: MAX_QUORUM + 1 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => validateArgs('ApprovalQuorumSet', { class: 'coffee-break', required: 2 }))).toBe('INVALID_REQUEST');
    expect(codeOf(() => parseQuorumSetting('2, coffee-break=3'))).toBe('CONFIG_INVALID');
  });
});

describe('key metadata limits', () => {
  const create = (over: Record<string, unknown>) => codeOf(() => validateArgs('Create', { name: 'hr/payroll', ...over }));
  const attributes = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`a${i}`, 'v']));

  it('bound Create on the wire at exactly the domain limits', () => {
    expect(create({ attributes: attributes(MAX_CUSTOM_ATTRIBUTES) })).toBe(NO_ERROR);
    expect(create({ attributes: attributes(MAX_CUSTOM_ATTRIBUTES + 1) })).toBe('INVALID_REQUEST');
    expect(create({ description: 'd'.repeat(MAX_DESCRIPTION) })).toBe(NO_ERROR);
    expect(create({ description: 'd'.repeat(MAX_DESCRIPTION + 1) })).toBe('INVALID_REQUEST');
    expect(create({ attributes: { ['n'.repeat(MAX_ATTRIBUTE_NAME)]: 'v' } })).toBe(NO_ERROR);
    expect(create({ attributes: { ['n'.repeat(MAX_ATTRIBUTE_NAME + 1)]: 'v' } })).toBe('INVALID_REQUEST');
  });

  it('name attributes with letters, digits, ".", "_" and "-" only', () => {
    expect(ATTRIBUTE_NAME_PATTERN.test('cost_center.v-2')).toBe(true);
    expect(ATTRIBUTE_NAME_PATTERN.test('cost center')).toBe(false);
    expect(ATTRIBUTE_NAME_PATTERN.test('')).toBe(false);
  });
});
