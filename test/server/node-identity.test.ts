/**
 * A node's name must be its own (server/cluster/node-identity.ts): the
 * scheduler's lease is held by name, so two nodes with one name would both
 * hold it. The rule against the authenticated signer list, then the wiring:
 * a RolloverService whose identity check rejects acts on no due key and the
 * log says what to set.
 */
import { ManualClock } from '../../common/clock';
import { Logger } from '../../common/logger';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { RolloverService } from '../../domain/rollover-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { assertOwnNodeName, nodeNameConflict } from '../../server/cluster/node-identity';
import { ManualTimers } from '../support/manual-timers';

const signers = [
  { node: 'node-1', fingerprint: 'AA:01' },
  { node: 'node-2', fingerprint: 'BB:02' },
];

describe("a node's name among the cluster's signers", () => {
  it('is its own when its key is listed under it, or when neither its key nor its name is listed', () => {
    expect(nodeNameConflict('node-2', 'BB:02', signers)).toBeNull();
    expect(nodeNameConflict('node-3', 'CC:03', signers)).toBeNull(); // not joined yet
    expect(nodeNameConflict('node-3', null, signers)).toBeNull();
  });

  it('is refused when the name belongs to another key: two nodes on one host both named by the host name', () => {
    expect(nodeNameConflict('node-1', 'CC:03', signers)).toMatch(/node_name "node-1" is the name of another node of this cluster \(audit signing key AA:01\)/);
    expect(nodeNameConflict('node-1', null, signers)).toMatch(/another node/);
  });

  it('is refused when this node joined under another name', () => {
    expect(nodeNameConflict('vm', 'BB:02', signers)).toMatch(/joined the cluster as "node-2".*set node_name = node-2/);
  });

  it('throws CONFIG_INVALID naming the setting', () => {
    expect(() => assertOwnNodeName('node-1', 'CC:03', signers)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', details: { setting: 'node_name', value: 'node-1' } }));
    expect(() => assertOwnNodeName('node-2', 'BB:02', signers)).not.toThrow();
  });
});

describe('a scheduler whose node name is not its own', () => {
  it('acts on no due key, logs why once, and acts once the name is mended', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const hsm = new SoftHsm();
    const store = new MemoryStore();
    await initializeKeychain(store, hsm, clock, randomIds);
    const keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
    keychain.createKey({ fullName: 'id/k', algorithm: 'AES-128', rollover: { kind: 'auto', cryptoperiod: 'P1D' } });
    clock.set(new Date('2026-01-02T00:00:01Z'));
    const errors: string[] = [];
    const record = (message: unknown, fields?: unknown): void => void errors.push(`${String(message)} ${JSON.stringify(fields ?? {})}`);
    const log = { info: () => undefined, warn: record, error: record, debug: () => undefined } as unknown as Logger;
    let name = 'node-1';
    const service = new RolloverService({
      keychain,
      clock,
      timers: new ManualTimers(clock),
      log,
      checkIntervalMs: 1_000,
      retentionMs: null,
      destructionWaitMs: 0,
      lease: keychain.schedulerLease('node-1', 3_000),
      nodeIdentity: async () => assertOwnNodeName(name, 'CC:03', signers),
    });
    expect(await service.sweep()).toMatchObject({ rolled: 0 });
    expect(await service.sweep()).toMatchObject({ rolled: 0 });
    expect(keychain.describeKey('id/k').instances).toHaveLength(1);
    expect(errors).toHaveLength(1); // once per outage, not at every check
    expect(errors[0]).toContain('CONFIG_INVALID');
    expect(errors[0]).toContain('is the name of another node');
    name = 'node-3';
    expect(await service.sweep()).toMatchObject({ rolled: 1 });
  });
});
