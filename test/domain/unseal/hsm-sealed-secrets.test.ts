/**
 * Secrets the HSM alone opens (the sealed server's TLS identity): a round
 * trip, and every alteration refused: the sealed bytes, the name they are
 * bound to, another keychain's, another token; and secrets that belong
 * together (the TLS identity's three) written all or none.
 */
import { ManualClock } from '../../../common/clock';
import { randomIds } from '../../../domain/ids';
import { initializeKeychain } from '../../../domain/keychain-key';
import { getHsmSealedSecret, putHsmSealedSecret, putHsmSealedSecrets } from '../../../domain/unseal/hsm-sealed-secrets';
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

  it('writes secrets that belong together in one transaction: an HSM failure on the last wrap leaves every old one', async () => {
    const { store, hsm } = await setUp();
    await putHsmSealedSecrets(store, hsm, clock, [
      { name: 'tls/server-cert', secret: Buffer.from('old cert') },
      { name: 'tls/ca-cert', secret: Buffer.from('old ca') },
    ]);
    let wraps = 0;
    const wrapKey = hsm.wrapKey.bind(hsm);
    hsm.wrapKey = async (version, key) => {
      if (++wraps === 3) hsm.failNext('HSM_ERROR');
      return wrapKey(version, key);
    };
    const failing = putHsmSealedSecrets(store, hsm, clock, [
      { name: 'tls/server-cert', secret: Buffer.from('new cert') },
      { name: 'tls/ca-cert', secret: Buffer.from('new ca') },
      { name: 'tls/server-key', secret: Buffer.from('new key') },
    ]);
    expect(await rejectionCode(failing)).toBe('HSM_ERROR');
    const read = async (name: string) => (await getHsmSealedSecret(store, hsm, name))?.toString();
    expect([await read('tls/server-cert'), await read('tls/ca-cert'), await read('tls/server-key')]).toEqual(['old cert', 'old ca', '-----BEGIN PRIVATE KEY-----']);
  });

  it('a store failure among the writes rolls them all back', async () => {
    const { store, hsm } = await setUp();
    const put = store.putHsmSealedSecret.bind(store);
    let writes = 0;
    store.putHsmSealedSecret = (record) => {
      if (++writes === 2) throw new Error('disk full');
      put(record);
    };
    await expect(putHsmSealedSecrets(store, hsm, clock, [
      { name: 'tls/server-cert', secret: Buffer.from('new cert') },
      { name: 'tls/server-key', secret: Buffer.from('new key') },
    ])).rejects.toThrow('disk full');
    expect(store.getHsmSealedSecret('tls/server-cert')).toBeNull();
    expect((await getHsmSealedSecret(store, hsm, 'tls/server-key'))?.toString()).toBe('-----BEGIN PRIVATE KEY-----');
  });
});
