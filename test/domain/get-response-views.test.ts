/**
 * A Get's encoded answer never outlives the state it shows: the key and
 * instance views the keychain caches are frozen, and the wire keeps their
 * JSON text (protocol/frozen-json.ts) for as long as the very objects live;
 * a rollover, a revoke, a destroy and a seal replace or drop them, so the
 * next Get's bytes show the new state (or no answer is given).
 */
import { ManualClock } from '../../common/clock';
import { Keychain } from '../../domain/keychain';
import { LifecycleService } from '../../domain/lifecycle-service';
import { SoftHsm } from '../../hsm/soft-hsm';
import { FrameDecoder } from '../../protocol/frame-codec';
import { frozenJson } from '../../protocol/frozen-json';
import { encodeResult } from '../../protocol/response';
import { codeOf } from '../support/error-code';
import { unsealedMemoryKeychain } from '../support/memory-keychain';

interface GetAnswer {
  readonly key: { readonly currentInstance: string; readonly currentVersion: number; readonly currentState: string };
  readonly instance: { readonly name: string; readonly state: string; readonly current: boolean; readonly revocationReason: string | null };
}

describe('a Get answer after a change of its key', () => {
  const clock = new ManualClock(new Date('2026-05-01T00:00:00Z'));
  let keychain: Keychain;
  let lifecycle: LifecycleService;
  let hsm: SoftHsm;

  /** Gets `ref` and encodes the answer as the server does (material zeroed after, as the connection does). */
  function get(ref: { fullName?: string; instance?: string }): GetAnswer {
    const got = keychain.getKey(ref);
    try {
      const [payload] = new FrameDecoder().push(encodeResult('r', got));
      return (JSON.parse(payload.toString('utf8')) as { result: GetAnswer }).result;
    } finally {
      got.material.fill(0);
    }
  }

  beforeEach(async () => {
    ({ hsm, keychain } = await unsealedMemoryKeychain(clock));
    lifecycle = new LifecycleService(keychain, clock);
    keychain.createKey({ fullName: 'app/data', algorithm: 'AES-256' });
    get({ fullName: 'app/data' }); // the first serving (Fresh turns false): a change of its own
  });

  it('serves a hot key\'s views from the kept text (the same frozen objects each time)', () => {
    const first = keychain.getKey({ fullName: 'app/data' });
    const second = keychain.getKey({ fullName: 'app/data' });
    expect(second.key).toBe(first.key);
    expect(frozenJson(first.key)).toBe(JSON.stringify(first.key));
    expect(frozenJson(first.instance)).toBe(JSON.stringify(first.instance));
    first.material.fill(0);
    second.material.fill(0);
  });

  it('after a rollover: the new current instance, and the old one no longer current', () => {
    const before = get({ fullName: 'app/data' });
    keychain.rollover('app/data');
    const after = get({ fullName: 'app/data' });
    expect(after.key.currentInstance).not.toBe(before.key.currentInstance);
    expect(after.key.currentVersion).toBe(before.key.currentVersion + 1);
    expect(after.instance.name).toBe(after.key.currentInstance);
    const old = get({ instance: before.instance.name });
    expect(old.instance.current).toBe(false);
    expect(old.instance.state).toBe('Deactivated');
  });

  it('after a revoke: the instance\'s new state and reason', () => {
    const before = get({ fullName: 'app/data' });
    expect(before.instance.revocationReason).toBeNull();
    lifecycle.revoke({ fullName: 'app/data' }, 'cessationOfOperation');
    const after = get({ instance: before.instance.name });
    expect(after.instance.state).toBe('Deactivated');
    expect(after.instance.revocationReason).toBe('cessationOfOperation');
    expect(after.key.currentState).toBe('Deactivated');
  });

  it('after a destroy: no answer at all', () => {
    const before = get({ fullName: 'app/data' });
    lifecycle.revoke({ fullName: 'app/data' }, 'cessationOfOperation');
    lifecycle.destroy({ fullName: 'app/data' });
    expect(codeOf(() => get({ instance: before.instance.name }))).toBe('NO_MATERIAL');
  });

  it('after a seal: no answer; unsealed again, the state as it is now', async () => {
    const before = get({ fullName: 'app/data' });
    keychain.seal();
    expect(codeOf(() => get({ fullName: 'app/data' }))).toBe('SEALED');
    await keychain.unseal(hsm);
    keychain.rollover('app/data');
    expect(get({ fullName: 'app/data' }).key.currentVersion).toBe(before.key.currentVersion + 1);
  });
});
