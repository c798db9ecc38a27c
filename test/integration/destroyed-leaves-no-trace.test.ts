/**
 * Destroyed material leaves no trace, on a real appliance (SoftHSM2 token,
 * SQLite keychain, mTLS): one key destroyed by the destruction sweep after
 * destruction_wait (the deferred path), one destroyed at once (P0D, after a
 * restart), both dual-controlled. Afterwards neither the keychain file, nor
 * its WAL, nor a backup made after the destructions holds the keys' material
 * (raw, hex, base64) or their sealed material as the file held it. Controls:
 * a backup made before the destructions does hold the sealed material (so
 * the scan finds what is there), and a key kept alive is still found in the
 * file and in the later backup.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ManualClock } from '../../common/clock';
import { RawConnection, startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { encodingsOf } from '../support/key-import-support';
import { ManualTimers } from '../support/manual-timers';

const DAY_MS = 86_400_000;

interface Seen {
  readonly name: string;
  readonly instance: string;
  readonly material: Buffer;
  readonly sealed: Buffer;
}

/** Every way the bytes could sit in a file: the encodings of the material and of the sealed material. */
function needlesOf(seen: Seen): Array<{ label: string; bytes: Buffer }> {
  return [...encodingsOf(seen.material), ...encodingsOf(seen.sealed).map((e) => ({ ...e, label: `sealed ${e.label}` }))].map((e) => ({ label: `${seen.name} ${e.label}`, bytes: e.bytes }));
}

function holders(files: readonly string[], needles: ReadonlyArray<{ label: string; bytes: Buffer }>): string[] {
  const found: string[] = [];
  for (const file of files) {
    const content = readFileSync(file);
    for (const needle of needles) if (content.includes(needle.bytes)) found.push(`${file}: ${needle.label}`);
  }
  return found;
}

describe('destroyed material leaves no trace (file, WAL, later backups)', () => {
  const timers = new ManualTimers(new ManualClock(Date.now()));
  let t: TestAppliance;
  let officer: RawConnection;

  beforeAll(async () => {
    t = await startTestAppliance({ destruction_wait: 'P7D', timezone: 'UTC' }, { clock: timers.clock, timers });
    officer = await t.connect(t.officer);
  });

  afterAll(async () => {
    await t?.stop();
  });

  async function ok(op: string, args: Record<string, unknown>): Promise<unknown> {
    const res = await officer.request(op, args);
    if (res.error) throw new Error(`${op}: ${res.error.code} ${res.error.message}`);
    return res.result;
  }

  /** Creates a key and reads its material (through the keychain) and its sealed material (as the file holds it). */
  async function createAndSee(name: string): Promise<Seen> {
    await ok('Create', { name, algorithm: 'AES-256' });
    const got = t.appliance.keychain.getKey({ fullName: name });
    const material = Buffer.from(got.material);
    got.material.fill(0);
    const instance = t.appliance.keychain.describeKey(name).key.currentInstance as string;
    const raw = new Database(join(t.dataDir, 'keychain.db'), { readonly: true });
    try {
      const row = raw.prepare('SELECT sealed_material AS sealed FROM key_instances WHERE name = ?').get(instance) as { sealed: Buffer };
      return { name, instance, material, sealed: row.sealed };
    } finally {
      raw.close();
    }
  }

  async function destroyApproved(name: string): Promise<void> {
    await ok('Revoke', { name, reason: 'cessationOfOperation' });
    const approved = await t.approve(await officer.request('Destroy', { name }));
    expect(approved).toMatchObject({ state: 'executed', error: null });
  }

  async function backup(): Promise<string> {
    return join(t.dataDir, 'backups', ((await ok('BackupCreate', {})) as { name: string }).name);
  }

  it('after the destruction sweep and an immediate destroy: nothing in the file, its WAL or a later backup', async () => {
    const deferred = await createAndSee('gone/deferred');
    const immediate = await createAndSee('gone/immediate');
    const kept = await createAndSee('kept/alive');
    const before = await backup();
    // Control: a backup taken while the keys lived holds their sealed material.
    expect(holders([before], encodingsOf(deferred.sealed))).toHaveLength(1);

    await destroyApproved('gone/deferred');
    expect(t.appliance.keychain.describeInstance({ instance: deferred.instance })).toMatchObject({ state: 'Deactivated' });
    // The wait is over: the server's own sweep (what its timer runs) destroys the material.
    timers.clock.advance(8 * DAY_MS);
    await t.server.rollover.sweep();
    expect(t.appliance.keychain.describeInstance({ instance: deferred.instance })).toMatchObject({ state: 'Destroyed' });

    await t.restart({ destruction_wait: 'P0D' });
    officer = await t.connect(t.officer);
    await destroyApproved('gone/immediate');
    expect(t.appliance.keychain.describeInstance({ instance: immediate.instance })).toMatchObject({ state: 'Destroyed' });

    const after = await backup();
    const backups = readdirSync(join(t.dataDir, 'backups')).map((n) => join(t.dataDir, 'backups', n));
    const later = backups.filter((b) => b !== before);
    expect(later).toContain(after);
    const files = [join(t.dataDir, 'keychain.db'), join(t.dataDir, 'keychain.db-wal'), ...later].filter(existsSync);
    expect(holders(files, [...needlesOf(deferred), ...needlesOf(immediate)])).toEqual([]);
    // Control: the key kept alive is found where it lives (the file, or its WAL, and the later backup); its material in the clear nowhere.
    expect(holders(files, encodingsOf(kept.sealed)).some((f) => f.startsWith(after))).toBe(true);
    expect(holders(files, encodingsOf(kept.material))).toEqual([]);
  }, 120_000);
});
