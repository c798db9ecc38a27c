/**
 * Secrets the HSM alone opens (the sealed server's TLS identity): a round
 * trip, and every alteration refused: the sealed bytes, the name they are
 * bound to, another keychain's, another token.
 */
import { ManualClock } from '../../../common/clock';
import { randomIds } from '../../../domain/ids';
import { initializeKeychain } from '../../../domain/keychain-key';
import { getHsmSealedSecret, putHsmSealedSecret } from '../../../domain/unseal/hsm-sealed-secrets';
import { SoftHsm } from '../../../hsm/soft-hsm';
import { MemoryStore } from '../../../storage/memory-store';
import { rejectionCode } from '../../support/error-code';

const clock = new ManualClock(0);

async function setUp(): Promise<{ store: MemoryStore; hsm: SoftHsm }> {
  const store = new MemoryStore();
  const hsm = new SoftHsm();
  await initializeKeychain(store, hsm, clock, randomIds);
  await putHsmSealedSecret(store, hsm, clock, 'tls/server-key', Buffer.from('-----BEGIN PRIVATE KEY-----'));
  return { store, hsm };
}

describe('HSM-sealed secrets', () => {
  it('opens with the HSM alone, and is absent as null', async () => {
    const { store, hsm } = await setUp();
    expect((await getHsmSealedSecret(store, hsm, 'tls/server-key'))?.toString()).toBe('-----BEGIN PRIVATE KEY-----');
    expect(await getHsmSealedSecret(store, hsm, 'nothing')).toBeNull();
    const record = store.getHsmSealedSecret('tls/server-key');
    expect(record?.sealed.includes(Buffer.from('PRIVATE KEY'))).toBe(false);
  });

  it('refuses altered sealed bytes (INTEGRITY_FAILURE)', async () => {
    const { store, hsm } = await setUp();
    const record = store.getHsmSealedSecret('tls/server-key')!;
    record.sealed[record.sealed.length - 1] ^= 1;
    store.putHsmSealedSecret(record);
    expect(await rejectionCode(getHsmSealedSecret(store, hsm, 'tls/server-key'))).toBe('INTEGRITY_FAILURE');
  });

  it('refuses a secret moved to another name (INTEGRITY_FAILURE)', async () => {
    const { store, hsm } = await setUp();
    store.putHsmSealedSecret({ ...store.getHsmSealedSecret('tls/server-key')!, name: 'tls/ca-cert' });
    expect(await rejectionCode(getHsmSealedSecret(store, hsm, 'tls/ca-cert'))).toBe('INTEGRITY_FAILURE');
  });

  it('another token cannot open it (MASTER_KEY_MISMATCH)', async () => {
    const { store } = await setUp();
    const other = new SoftHsm();
    await other.generateMasterKey(1);
    expect(await rejectionCode(getHsmSealedSecret(store, other, 'tls/server-key'))).toBe('MASTER_KEY_MISMATCH');
  });
});
