/**
 * Keychains made before split knowledge have their TLS identity only under
 * the keychain key. The first start that unseals (here: from the PIN) writes
 * the HSM-sealed copy a sealed start needs; the copy is the identity the
 * listener really serves; and a sealed keychain without a copy is refused
 * with a code that says to unseal it once.
 */
import { X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { systemClock } from '../../common/clock';
import { PkiService } from '../../domain/pki/pki-service';
import { Appliance } from '../../server/compose/open-appliance';
import { randomIds } from '../../domain/ids';
import { Keychain } from '../../domain/keychain';
import { initializeKeychain } from '../../domain/keychain-key';
import { SoftHsm } from '../../hsm/soft-hsm';
import { MemoryStore } from '../../storage/memory-store';
import { loadTlsIdentity } from '../../server/tls/tls-identity';
import { startTestAppliance, TestAppliance } from '../support/appliance-fixture';
import { rejectionCode } from '../support/error-code';

describe('the TLS identity of a sealed start (SoftHSM2, SQLite)', () => {
  let app: TestAppliance;
  beforeAll(async () => {
    app = await startTestAppliance();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('was copied for the HSM alone at the first start, and is what the listener serves', async () => {
    expect(app.appliance.store.listHsmSealedSecrets().map((s) => s.name)).toEqual(['tls/ca-cert', 'tls/server-cert', 'tls/server-key']);
    const expected = new PkiService(app.appliance.keychain, app.appliance.keychain.directory, systemClock).serverCredentials().certificatePem;
    const served = await new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: app.port, ca: app.officer.caPem, cert: app.officer.certificatePem, key: app.officer.privateKeyPem, servername: 'localhost' }, () => {
        const raw = socket.getPeerCertificate().raw;
        socket.destroy();
        resolve(new X509Certificate(raw).toString());
      });
      socket.once('error', reject);
    });
    expect(served.trim()).toBe(new X509Certificate(expected).toString().trim());
    const identity = await loadTlsIdentity(app.appliance, systemClock);
    expect(identity.certificatePem).toBe(expected);
    identity.privateKeyPem.fill(0);
  });

  it('a sealed keychain without the copy is refused (UNSEAL_SHARES_REQUIRED) rather than served some other way', async () => {
    // A keychain from before the copy existed, still sealed.
    const store = new MemoryStore();
    const hsm = new SoftHsm();
    await initializeKeychain(store, hsm, systemClock, randomIds);
    const keychain = new Keychain({ store, clock: systemClock });
    const older: Appliance = { config: app.appliance.config, storage: 'sqlite', store, keychain, ids: randomIds, hsm: async () => hsm, resetHsm: async () => undefined, unseal: async () => keychain.unseal(hsm), close: async () => keychain.seal() };
    expect(await rejectionCode(loadTlsIdentity(older, systemClock))).toBe('UNSEAL_SHARES_REQUIRED');
    expect(store.listHsmSealedSecrets()).toEqual([]);
  });
});
