/**
 * Split-knowledge unsealing on the fast fakes (SoftHsm, MemoryStore): the
 * keychain key bound to a 2-of-3 (and 3-of-5) Shamir secret inside the HSM
 * wrap, unsealed through the UnsealService as the server does. The same
 * runs over TLS on SoftHSM2 and SQLite in test/integration/unseal-over-tls.
 */
import { ManualClock } from '../../../common/clock';
import { randomIds } from '../../../domain/ids';
import { Keychain } from '../../../domain/keychain';
import { initializeKeychain } from '../../../domain/keychain-key';
import { decodeShare, encodeShare, SHARE_BYTES } from '../../../domain/unseal/share-codec';
import { BOUND_KEY_BYTES } from '../../../domain/unseal/share-binding';
import { combineShares, makeShareSet } from '../../../domain/unseal/split-secret';
import { storeShareCommitments } from '../../../domain/unseal/share-commitments';
import { SoftHsm } from '../../../hsm/soft-hsm';
import { ClientIdentity } from '../../../domain/policy/identity';
import { PENDING_TTL_MS, SUBMISSIONS_PER_MINUTE_GLOBAL, SUBMISSIONS_PER_MINUTE_PER_CLIENT, UnsealService } from '../../../domain/unseal/unseal-service';
import { AUDITED_REFUSALS_PER_WINDOW, RESETS_OF_OTHERS_PER_WINDOW } from '../../../domain/unseal/unseal-throttle';
import { MemoryStore } from '../../../storage/memory-store';
import { codeOf, rejectionCode } from '../../support/error-code';
import { ManualTimers } from '../../support/manual-timers';

const officer = (name: string): ClientIdentity => ({ name, role: 'officer', groups: [], fingerprint256: `fp-${name}`, subject: `CN=${name}` });

interface Bound {
  store: MemoryStore;
  hsm: SoftHsm;
  keychain: Keychain;
  shares: readonly string[];
  service: UnsealService;
  events: Array<{ type: string; result: string; custom: Record<string, string> }>;
  clock: ManualClock;
  material: Buffer;
}

/** A share-bound keychain as init makes it (with per-custodian commitments), or as older keychains are (`commitments: false`). */
async function boundKeychain(n: number, m: number, options: { commitments?: boolean } = {}): Promise<Bound> {
  const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
  const store = new MemoryStore();
  const hsm = new SoftHsm({ label: 'unseal-unit' });
  const set = await makeShareSet(n, m);
  await initializeKeychain(store, hsm, clock, randomIds, { secret: set.secret, shares: n, threshold: m });
  if (options.commitments !== false) await storeShareCommitments(store, hsm, clock, set.shares);
  const keychain = new Keychain({ store, clock });
  await keychain.unseal(hsm, set.secret);
  set.secret.fill(0);
  keychain.createKey({ fullName: 'hr/payroll', algorithm: 'AES-256' });
  const material = keychain.getKey({ fullName: 'hr/payroll' }).material;
  keychain.seal();
  const events: Bound['events'] = [];
  const service = new UnsealService(keychain, store, async () => hsm, clock, new ManualTimers(clock), {
    onEvent: (e) => {
      events.push({ type: e.type, result: e.result, custom: e.custom });
    },
  });
  return { store, hsm, keychain, shares: set.shares, service, events, clock, material };
}

function subsets<T>(items: readonly T[], size: number): T[][] {
  if (size === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), size - 1).map((rest) => [item, ...rest]));
}

/** A share with one byte of its y part changed and its checksum made valid again: what only GCM can catch. */
function forged(text: string): string {
  const { custodian, bytes } = decodeShare(text);
  bytes[0] ^= 0x01;
  return encodeShare(custodian, bytes);
}

describe('split-knowledge unsealing (2 of 3)', () => {
  let b: Bound;
  beforeEach(async () => {
    b = await boundKeychain(3, 2);
  });

  it.each(subsets([0, 1, 2], 2).map((s) => [s.map((i) => i + 1).join('+'), s]))('unseals with custodians %s, and the keys open', async (_label, subset) => {
    for (const i of subset as number[]) await b.service.submit(officer(`c${i}`), b.shares[i]);
    expect(b.keychain.isSealed).toBe(false);
    expect(b.keychain.getKey({ fullName: 'hr/payroll' }).material.equals(b.material)).toBe(true);
    expect(b.service.status()).toMatchObject({ sealed: false, submitted: 0 });
  });

  it('stays sealed with M-1 shares and shows the progress, k of M', async () => {
    const status = await b.service.submit(officer('c1'), b.shares[0]);
    expect(status).toMatchObject({ sealed: true, mode: 'hsm+shares', shares: 3, threshold: 2, submitted: 1, custodians: [1] });
    expect(b.keychain.isSealed).toBe(true);
    expect(codeOf(() => b.keychain.getKey({ fullName: 'hr/payroll' }))).toBe('SEALED');
  });

  it('refuses a duplicated share when it is submitted (UNSEAL_SHARE_DUPLICATE), keeping the progress', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(await rejectionCode(b.service.submit(officer('c2'), b.shares[0]))).toBe('UNSEAL_SHARE_DUPLICATE');
    expect(await rejectionCode(b.service.submit(officer('c2'), ` ${b.shares[0].toLowerCase()} `))).toBe('UNSEAL_SHARE_DUPLICATE');
    expect(b.service.status().submitted).toBe(1);
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.isSealed).toBe(false);
  });

  it('refuses malformed share text (INVALID_ARGUMENT) without counting it', async () => {
    expect(await rejectionCode(b.service.submit(officer('c1'), 'sr1-1-NOTASHARE-AAAA'))).toBe('INVALID_ARGUMENT');
    expect(await rejectionCode(b.service.submit(officer('c1'), undefined))).toBe('INVALID_ARGUMENT');
    expect(b.service.status().submitted).toBe(0);
  });

  it('refuses a forged share of custodian 2 at submission (UNSEAL_SHARE_INVALID, naming 2), keeping the progress; the genuine custodian 2 then completes', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    const refused = await b.service.submit(officer('saboteur'), forged(b.shares[1])).catch((err: { code: string; details: unknown }) => err);
    expect(refused).toMatchObject({ code: 'UNSEAL_SHARE_INVALID', details: { custodian: 2 } });
    expect(b.service.status()).toMatchObject({ sealed: true, submitted: 1, custodians: [1], shareCheck: 'each-share' });
    // A custodian number beyond the set is refused the same way.
    const beyond = encodeShare(4, decodeShare(b.shares[2]).bytes);
    expect(await rejectionCode(b.service.submit(officer('saboteur-2'), beyond))).toBe('UNSEAL_SHARE_INVALID');
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.isSealed).toBe(false);
  });

  it('takes one share per certificate in an attempt (UNSEAL_CLIENT_ALREADY_SUBMITTED), keeping the progress', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(await rejectionCode(b.service.submit(officer('c1'), b.shares[1]))).toBe('UNSEAL_CLIENT_ALREADY_SUBMITTED');
    expect(b.service.status()).toMatchObject({ sealed: true, submitted: 1 });
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.isSealed).toBe(false);
  });

  it('an officer withdraws only their own share; clearing others\' shares is rate limited and audited', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(b.service.reset(officer('c3'), true)).toMatchObject({ submitted: 1 }); // c3 holds nothing: withdraws nothing
    expect(b.service.reset(officer('c1'), true)).toMatchObject({ submitted: 0 });
    for (let i = 0; i < RESETS_OF_OTHERS_PER_WINDOW; i++) {
      await b.service.submit(officer('c1'), b.shares[0]);
      expect(b.service.reset(officer('meddler')).submitted).toBe(0);
    }
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(codeOf(() => b.service.reset(officer('meddler')))).toBe('RATE_LIMITED');
    expect(b.service.status().submitted).toBe(1);
    // Resetting one's own shares (all of them being the caller's) is never limited.
    expect(b.service.reset(officer('c1')).submitted).toBe(0);
    const resets = b.events.filter((e) => e.type === 'unseal-reset').map((e) => `${e.result}:${e.custom.scope}:${e.custom.others ?? ''}`);
    expect(resets).toEqual(['ok:own:', 'ok:own:', 'ok:all:1', 'ok:all:1', 'RATE_LIMITED:all:1', 'ok:all:0']);
  });

  it('apps see only sealed or not; officers the progress', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(b.service.statusFor({ ...officer('payroll-app'), role: 'app' })).toEqual({ sealed: true });
    expect(b.service.statusFor(officer('c9'))).toMatchObject({ sealed: true, submitted: 1, custodians: [1] });
  });

  it('one client refused by its own limit does not drain the global bucket: the custodians still unseal', async () => {
    for (let i = 0; i < SUBMISSIONS_PER_MINUTE_GLOBAL * 3; i++) await rejectionCode(b.service.submit(officer('flooder'), 'sr1-1-x-AAAA'));
    await b.service.submit(officer('c1'), b.shares[0]);
    await b.service.submit(officer('c3'), b.shares[2]);
    expect(b.keychain.isSealed).toBe(false);
  });

  it('writes the first few refusals of a client per window and counts the rest into one event', async () => {
    const attempts = 50;
    for (let i = 0; i < attempts; i++) await rejectionCode(b.service.submit(officer('flooder'), 'sr1-1-x-AAAA'));
    const refusals = () => b.events.filter((e) => e.type === 'unseal-share' && e.result !== 'ok');
    expect(refusals()).toHaveLength(AUDITED_REFUSALS_PER_WINDOW);
    b.clock.advance(60_000);
    await rejectionCode(b.service.submit(officer('flooder'), 'sr1-1-x-AAAA'));
    expect(b.events.filter((e) => e.type === 'unseal-refusals-suppressed').map((e) => e.custom.suppressed)).toEqual([String(attempts - AUDITED_REFUSALS_PER_WINDOW)]);
    expect(refusals()).toHaveLength(AUDITED_REFUSALS_PER_WINDOW + 1);
    for (let i = 0; i < 10; i++) await rejectionCode(b.service.submit(officer('flooder'), 'sr1-1-x-AAAA'));
    b.service.close();
    expect(b.events.filter((e) => e.type === 'unseal-refusals-suppressed').map((e) => e.custom.suppressed)).toEqual([String(attempts - AUDITED_REFUSALS_PER_WINDOW), String(11 - AUDITED_REFUSALS_PER_WINDOW)]);
  });
});

describe('a share-bound keychain made without share commitments (before they existed)', () => {
  let b: Bound;
  beforeEach(async () => {
    b = await boundKeychain(3, 2, { commitments: false });
  });

  it('fails at the threshold with a corrupted share (UNSEAL_SHARES_INVALID), resets the progress, and then unseals with good ones', async () => {
    expect(b.service.status().shareCheck).toBe('at-threshold');
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(await rejectionCode(b.service.submit(officer('c2'), forged(b.shares[1])))).toBe('UNSEAL_SHARES_INVALID');
    expect(b.keychain.isSealed).toBe(true);
    expect(b.service.status().submitted).toBe(0);
    await b.service.submit(officer('c1'), b.shares[0]);
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.isSealed).toBe(false);
  });

  it('fails with shares of another set (UNSEAL_SHARES_INVALID)', async () => {
    const other = await makeShareSet(3, 2);
    other.secret.fill(0);
    await b.service.submit(officer('c1'), other.shares[0]);
    expect(await rejectionCode(b.service.submit(officer('c2'), other.shares[1]))).toBe('UNSEAL_SHARES_INVALID');
  });

  it('records every submission and attempt without share bytes', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    await rejectionCode(b.service.submit(officer('c2'), b.shares[0]));
    await rejectionCode(b.service.submit(officer('c2'), forged(b.shares[1])));
    expect(b.events.map((e) => `${e.type}:${e.result}`)).toEqual(['unseal-share:ok', 'unseal-share:UNSEAL_SHARE_DUPLICATE', 'unseal-share:ok', 'unseal:UNSEAL_SHARES_INVALID']);
    const logged = JSON.stringify(b.events);
    for (const share of b.shares) expect(logged).not.toContain(share.split('-')[2].slice(0, 10));
  });
});

describe('split-knowledge unsealing (2 of 3), continued', () => {
  let b: Bound;
  beforeEach(async () => {
    b = await boundKeychain(3, 2);
  });

  it('a share of another keychain is refused at submission (UNSEAL_SHARE_INVALID)', async () => {
    const other = await makeShareSet(3, 2);
    other.secret.fill(0);
    expect(await rejectionCode(b.service.submit(officer('c1'), other.shares[0]))).toBe('UNSEAL_SHARE_INVALID');
    expect(b.service.status().submitted).toBe(0);
  });

  it('the HSM alone cannot unseal (UNSEAL_SHARES_REQUIRED): it yields only the share-bound blob', async () => {
    expect(await rejectionCode(b.keychain.unseal(b.hsm))).toBe('UNSEAL_SHARES_REQUIRED');
    const [row] = b.store.listWrappedKeychainKeys();
    const inner = await b.hsm.unwrapKey({ mechanism: 'AES_KEY_WRAP_PAD', masterKeyVersion: row.masterKeyVersion, wrapped: row.wrapped });
    expect(inner.length).toBe(BOUND_KEY_BYTES);
    inner.fill(0);
  });

  it('the shares alone cannot unseal: another token has not the master key (MASTER_KEY_MISMATCH)', async () => {
    const secret = await combineShares([decodeShare(b.shares[0]).bytes, decodeShare(b.shares[2]).bytes], 2);
    expect(await rejectionCode(b.keychain.unseal(new SoftHsm({ label: 'thief' }), secret))).toBe('MASTER_KEY_MISMATCH');
    const thief = new SoftHsm({ label: 'thief2' });
    await thief.generateMasterKey(1);
    expect(await rejectionCode(b.keychain.unseal(thief, secret))).toBe('MASTER_KEY_MISMATCH');
    secret.fill(0);
  });

  it('seals on demand, then unseals again with shares', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    await b.service.submit(officer('c2'), b.shares[2]);
    b.service.seal(officer('c1'));
    expect(b.keychain.isSealed).toBe(true);
    expect(codeOf(() => b.keychain.getKey({ fullName: 'hr/payroll' }))).toBe('SEALED');
    b.service.seal(officer('c1'));
    await b.service.submit(officer('c3'), b.shares[2]);
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.getKey({ fullName: 'hr/payroll' }).material.equals(b.material)).toBe(true);
    expect(await rejectionCode(b.service.submit(officer('c1'), b.shares[0]))).toBe('WRONG_STATE');
  });

  it('an officer reset forgets the pending shares; so does the pending timeout', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(b.service.reset(officer('c2')).submitted).toBe(0);
    await b.service.submit(officer('c1'), b.shares[0]);
    b.clock.advance(PENDING_TTL_MS);
    expect(b.service.status().submitted).toBe(0);
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.keychain.isSealed).toBe(true);
  });

  it('the pending timeout fires on its own: held shares are forgotten with no request to notice it', async () => {
    // The timers run on a clock of their own: the service's clock never moves, so only the timer can clear the shares.
    const timers = new ManualTimers(new ManualClock(b.clock.nowMs()));
    const service = new UnsealService(b.keychain, b.store, async () => b.hsm, b.clock, timers);
    await service.submit(officer('c1'), b.shares[0]);
    await timers.advance(PENDING_TTL_MS - 1);
    expect(service.status().submitted).toBe(1);
    await timers.advance(1);
    expect(service.status().submitted).toBe(0);
    expect(timers.count).toBe(0);
  });

  it('rate-limits submissions per client (RATE_LIMITED)', async () => {
    const codes: string[] = [];
    for (let i = 0; i < SUBMISSIONS_PER_MINUTE_PER_CLIENT + 1; i++) codes.push(await rejectionCode(b.service.submit(officer('guesser'), 'sr1-1-x-AAAA')));
    expect(codes.slice(0, SUBMISSIONS_PER_MINUTE_PER_CLIENT).every((c) => c === 'INVALID_ARGUMENT')).toBe(true);
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    // Another client is not held back by it.
    await b.service.submit(officer('c1'), b.shares[0]);
    expect(b.service.status().submitted).toBe(1);
  });

  it('records every submission and refusal without share bytes', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    await rejectionCode(b.service.submit(officer('c2'), b.shares[0]));
    await rejectionCode(b.service.submit(officer('c2'), forged(b.shares[1])));
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(b.events.map((e) => `${e.type}:${e.result}`)).toEqual(['unseal-share:ok', 'unseal-share:UNSEAL_SHARE_DUPLICATE', 'unseal-share:UNSEAL_SHARE_INVALID', 'unseal-share:ok', 'unseal:ok']);
    const logged = JSON.stringify(b.events);
    for (const share of b.shares) expect(logged).not.toContain(share.split('-')[2].slice(0, 10));
  });

  it('zeroes the held shares when the attempt ends', async () => {
    await b.service.submit(officer('c1'), b.shares[0]);
    const held = (b.service as unknown as { pending: Array<{ share: { bytes: Uint8Array } }> }).pending[0].share.bytes;
    expect(held.some((byte) => byte !== 0)).toBe(true);
    await b.service.submit(officer('c2'), b.shares[1]);
    expect(held.every((byte) => byte === 0)).toBe(true);
    expect(held.length).toBe(SHARE_BYTES);
  });
});

describe('split-knowledge unsealing (3 of 5)', () => {
  it('any 3 of 5 unseal, any 2 do not', async () => {
    const b = await boundKeychain(5, 3);
    for (const subset of subsets([0, 1, 2, 3, 4], 3)) {
      for (const i of subset) await b.service.submit(officer(`c${i}-${subset.join('')}`), b.shares[i]);
      expect(b.keychain.isSealed).toBe(false);
      b.service.seal(officer('c0'));
      b.clock.advance(60_000);
    }
    await b.service.submit(officer('x'), b.shares[0]);
    await b.service.submit(officer('y'), b.shares[4]);
    expect(b.service.status()).toMatchObject({ sealed: true, submitted: 2, threshold: 3 });
  });
});

describe('share counts', () => {
  it.each([
    [1, 1],
    [3, 1],
    [3, 4],
    [17, 2],
    [0, 0],
  ])('refuses %i shares with threshold %i (INVALID_ARGUMENT)', async (n, m) => {
    expect(await rejectionCode(makeShareSet(n, m))).toBe('INVALID_ARGUMENT');
  });

  it('allows threshold 1 only as a lab choice', async () => {
    const set = await makeShareSet(2, 1, true);
    const store = new MemoryStore();
    const hsm = new SoftHsm();
    const clock = new ManualClock(0);
    await initializeKeychain(store, hsm, clock, randomIds, { secret: set.secret, shares: 2, threshold: 1 });
    const keychain = new Keychain({ store, clock });
    await new UnsealService(keychain, store, async () => hsm, clock, new ManualTimers(clock)).submit(officer('lab'), set.shares[1]);
    expect(keychain.isSealed).toBe(false);
  });
});
