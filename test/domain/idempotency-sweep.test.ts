/**
 * The retention of idempotency records (domain/idempotency-sweep.ts) on a
 * real SQLite file: records older than idempotency_retention are deleted,
 * in batches of IDEMPOTENCY_SWEEP_BATCH, newer ones kept and still served;
 * and the setting's shapes (common/duration-setting.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../common/clock';
import { parseDayHourMinuteDuration } from '../../common/duration-setting';
import { randomIds } from '../../domain/ids';
import { IDEMPOTENCY_SWEEP_BATCH, sweepIdempotencyRecords } from '../../domain/idempotency-sweep';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { KeychainStore } from '../../storage/keychain-store';
import { openSqliteStore } from '../../storage/sqlite-store';

const HOUR_MS = 3_600_000;

describe('idempotency records past their retention', () => {
  let dir: string;
  let store: KeychainStore;
  let hsm: SoftHsm;
  let keychain: Keychain;
  const clock = new ManualClock(new Date('2026-12-07T10:00:00Z'));

  beforeEach(async () => {
    clock.set(new Date('2026-12-07T10:00:00Z'));
    dir = mkdtempSync(join(tmpdir(), 'strongroom-idem-sweep-'));
    store = openSqliteStore(join(dir, 'keychain.db'));
    hsm = new SoftHsm();
    await initializeKeychain(store, hsm, clock, randomIds);
    keychain = new Keychain({ store, clock, timeZone: 'UTC' });
    await keychain.unseal(hsm);
  });
  afterEach(async () => {
    keychain.seal();
    store.close();
    await hsm.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (key: string): void => {
    const digest = keychain.idempotency.digest('Create', { name: key });
    keychain.transaction(() => keychain.idempotency.record('app-1', key, 'Create', digest, { key: { fullName: key } }));
  };

  it('deletes the records older than the retention, batch by batch, and keeps the newer ones', async () => {
    const old = Array.from({ length: IDEMPOTENCY_SWEEP_BATCH + 3 }, (_, i) => `old-key-${i}`);
    for (const key of old) write(key);
    clock.set(new Date(clock.nowMs() + 23 * HOUR_MS));
    write('new-key-0001');
    clock.set(new Date(clock.nowMs() + 2 * HOUR_MS));
    let yields = 0;
    const deleted = await sweepIdempotencyRecords(keychain, clock.nowMs(), 24 * HOUR_MS, async () => void yields++);
    expect(deleted).toBe(old.length);
    expect(yields).toBe(1);
    expect(old.filter((key) => keychain.idempotency.find('app-1', key) !== null)).toEqual([]);
    expect(keychain.idempotency.find('app-1', 'new-key-0001')?.result).toEqual({ key: { fullName: 'new-key-0001' } });
    expect(await sweepIdempotencyRecords(keychain, clock.nowMs(), 24 * HOUR_MS, async () => undefined)).toBe(0);
  });

  it('reads the setting as days, hours and minutes, at least a minute', () => {
    expect(parseDayHourMinuteDuration('PT24H')).toBe(24 * HOUR_MS);
    expect(parseDayHourMinuteDuration('P1DT12H')).toBe(36 * HOUR_MS);
    expect(parseDayHourMinuteDuration('PT1M')).toBe(60_000);
    for (const bad of ['PT0M', 'P', 'PT', '24H', 'P1W', 'PT30S', '']) expect(parseDayHourMinuteDuration(bad)).toBeNull();
  });
});
