/**
 * The HsmPort conformance suite: every implementation (the soft one, the
 * PKCS#11 one over SoftHSM2) runs these same cases from a three-line test
 * file. `factory` returns a fresh port, a port on ANOTHER token with its own
 * master key v1 (already generated or not: the suite generates it when
 * missing), and a cleanup. Assertions are on error codes, never messages.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import type { HsmPort, WrappedKey } from '../../hsm/hsm-port';
import { rejectionCode } from '../support/error-code';

export interface ConformanceSubject {
  hsm: HsmPort;
  other: HsmPort;
  cleanup: () => Promise<void>;
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

function verifies(pem: string, data: Buffer, signature: Buffer): boolean {
  return verify('sha256', data, { key: pem, dsaEncoding: 'ieee-p1363' }, signature);
}

export function describeHsmConformance(name: string, factory: () => Promise<ConformanceSubject>): void {
  describe(`${name} conforms to the HsmPort contract`, () => {
    let subject: ConformanceSubject;
    let hsm: HsmPort;

    beforeAll(async () => {
      subject = await factory();
      hsm = subject.hsm;
      await hsm.generateMasterKey(1);
      if (!(await subject.other.listMasterKeyVersions()).includes(1)) await subject.other.generateMasterKey(1);
    });

    afterAll(async () => {
      await subject?.cleanup();
    });

    describe('master keys', () => {
      it('lists the generated version', async () => {
        expect(await hsm.listMasterKeyVersions()).toEqual([1]);
      });

      it('lists several versions in ascending order', async () => {
        await hsm.generateMasterKey(3);
        await hsm.generateMasterKey(2);
        expect(await hsm.listMasterKeyVersions()).toEqual([1, 2, 3]);
      });

      it('refuses to generate an existing version again (HSM_ERROR)', async () => {
        expect(await rejectionCode(hsm.generateMasterKey(1))).toBe('HSM_ERROR');
      });

      it('refuses a version that is not a positive integer (INVALID_ARGUMENT)', async () => {
        expect(await rejectionCode(hsm.generateMasterKey(0))).toBe('INVALID_ARGUMENT');
        expect(await rejectionCode(hsm.generateMasterKey(1.5))).toBe('INVALID_ARGUMENT');
      });
    });

    describe('destroying a master key version', () => {
      it('destroys one version for good: it is no longer listed and what it wrapped cannot be unwrapped', async () => {
        await hsm.generateMasterKey(9);
        const key = randomBytes(32);
        const wrapped = await hsm.wrapKey(9, key);
        await hsm.destroyMasterKey(9);
        expect(await hsm.listMasterKeyVersions()).not.toContain(9);
        expect(await rejectionCode(hsm.unwrapKey(wrapped))).toBe('HSM_MASTER_KEY_MISSING');
        expect(await rejectionCode(hsm.wrapKey(9, key))).toBe('HSM_MASTER_KEY_MISSING');
      });

      it('leaves the other versions working', async () => {
        await hsm.generateMasterKey(10);
        const key = randomBytes(32);
        const underOne = await hsm.wrapKey(1, key);
        await hsm.destroyMasterKey(10);
        expect((await hsm.unwrapKey(underOne)).equals(key)).toBe(true);
      });

      it('refuses an absent version (HSM_MASTER_KEY_MISSING) and a malformed one (INVALID_ARGUMENT)', async () => {
        expect(await rejectionCode(hsm.destroyMasterKey(11))).toBe('HSM_MASTER_KEY_MISSING');
        expect(await rejectionCode(hsm.destroyMasterKey(0))).toBe('INVALID_ARGUMENT');
      });

      it('lets a destroyed version be generated again, as a new key', async () => {
        await hsm.generateMasterKey(12);
        const wrapped = await hsm.wrapKey(12, randomBytes(32));
        await hsm.destroyMasterKey(12);
        await hsm.generateMasterKey(12);
        expect(await rejectionCode(hsm.unwrapKey(wrapped))).toBe('MASTER_KEY_MISMATCH');
        await hsm.destroyMasterKey(12);
      });
    });

    describe('wrapping', () => {
      it.each([16, 24, 32, 48, 64])('round-trips %i bytes of key material', async (length) => {
        const key = randomBytes(length);
        const wrapped = await hsm.wrapKey(1, key);
        expect(wrapped.mechanism).toBe('AES_KEY_WRAP_PAD');
        expect(wrapped.masterKeyVersion).toBe(1);
        const unwrapped = await hsm.unwrapKey(wrapped);
        expect(unwrapped.equals(key)).toBe(true);
        expect(unwrapped).not.toBe(key);
      });

      it('does not zero or keep the caller\'s key bytes', async () => {
        const key = randomBytes(32);
        const copy = Buffer.from(key);
        await hsm.wrapKey(1, key);
        expect(key.equals(copy)).toBe(true);
      });

      it('produces wrapped bytes that do not contain the plaintext', async () => {
        const key = randomBytes(32);
        const wrapped = await hsm.wrapKey(1, key);
        expect(wrapped.wrapped.length).toBeGreaterThan(key.length);
        expect(wrapped.wrapped.includes(key)).toBe(false);
        expect(wrapped.wrapped.includes(key.subarray(0, 8))).toBe(false);
      });

      it('wraps under the version asked for: another version does not open it (MASTER_KEY_MISMATCH)', async () => {
        const wrapped = await hsm.wrapKey(2, randomBytes(32));
        expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, masterKeyVersion: 1 }))).toBe('MASTER_KEY_MISMATCH');
      });

      it('rejects altered wrapped bytes (MASTER_KEY_MISMATCH)', async () => {
        const wrapped = await hsm.wrapKey(1, randomBytes(32));
        for (const index of [0, 8, wrapped.wrapped.length - 1]) {
          const altered = Buffer.from(wrapped.wrapped);
          altered[index] ^= 0x01;
          expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, wrapped: altered }))).toBe('MASTER_KEY_MISMATCH');
        }
      });

      it('rejects truncated wrapped bytes (MASTER_KEY_MISMATCH)', async () => {
        const wrapped = await hsm.wrapKey(1, randomBytes(32));
        const truncated = wrapped.wrapped.subarray(0, wrapped.wrapped.length - 8);
        expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, wrapped: truncated }))).toBe('MASTER_KEY_MISMATCH');
      });

      it('refuses to unwrap under an absent version (HSM_MASTER_KEY_MISSING)', async () => {
        const wrapped = await hsm.wrapKey(1, randomBytes(32));
        expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, masterKeyVersion: 99 }))).toBe('HSM_MASTER_KEY_MISSING');
      });

      it('refuses to wrap under an absent version (HSM_MASTER_KEY_MISSING)', async () => {
        expect(await rejectionCode(hsm.wrapKey(99, randomBytes(32)))).toBe('HSM_MASTER_KEY_MISSING');
      });

      it('cannot be opened by another token\'s master key of the same version (MASTER_KEY_MISMATCH)', async () => {
        const wrapped = await hsm.wrapKey(1, randomBytes(32));
        expect(await rejectionCode(subject.other.unwrapKey(wrapped))).toBe('MASTER_KEY_MISMATCH');
      });

      it('refuses key material outside 16..64 bytes (INVALID_ARGUMENT)', async () => {
        expect(await rejectionCode(hsm.wrapKey(1, randomBytes(8)))).toBe('INVALID_ARGUMENT');
        expect(await rejectionCode(hsm.wrapKey(1, randomBytes(72)))).toBe('INVALID_ARGUMENT');
      });

      it('refuses a key length that is not a multiple of 8 bytes (INVALID_ARGUMENT)', async () => {
        // SoftHSM2 would return such a key zero-padded to a multiple of 8: see hsm/hsm-arguments.ts.
        for (const length of [17, 20, 31]) {
          expect(await rejectionCode(hsm.wrapKey(1, randomBytes(length)))).toBe('INVALID_ARGUMENT');
        }
      });

      it('refuses an unknown mechanism and empty wrapped bytes (INVALID_ARGUMENT)', async () => {
        const wrapped = await hsm.wrapKey(1, randomBytes(32));
        const unknown = { ...wrapped, mechanism: 'AES_KEY_WRAP' } as unknown as WrappedKey;
        expect(await rejectionCode(hsm.unwrapKey(unknown))).toBe('INVALID_ARGUMENT');
        expect(await rejectionCode(hsm.unwrapKey({ ...wrapped, wrapped: Buffer.alloc(0) }))).toBe('INVALID_ARGUMENT');
      });
    });

    describe('signing', () => {
      it('has no signing key before ensureSigningKey (HSM_SIGNING_KEY_MISSING)', async () => {
        expect(await rejectionCode(hsm.signingPublicKey())).toBe('HSM_SIGNING_KEY_MISSING');
        expect(await rejectionCode(hsm.signDigest(sha256(Buffer.from('x'))))).toBe('HSM_SIGNING_KEY_MISSING');
      });

      it('ensureSigningKey is idempotent: the same public key twice', async () => {
        const first = await hsm.ensureSigningKey();
        const second = await hsm.ensureSigningKey();
        expect(first).toMatch(/^-----BEGIN PUBLIC KEY-----/);
        expect(second).toBe(first);
        expect(await hsm.signingPublicKey()).toBe(first);
      });

      it('signs a SHA-256 digest as raw ECDSA that node verifies over the data', async () => {
        const pem = await hsm.ensureSigningKey();
        const data = Buffer.from('audit checkpoint 42');
        const signature = await hsm.signDigest(sha256(data));
        expect(signature.length).toBe(64);
        expect(verifies(pem, data, signature)).toBe(true);
        expect(verifies(pem, Buffer.from('audit checkpoint 43'), signature)).toBe(false);
      });

      it('a tampered signature fails verification', async () => {
        const pem = await hsm.ensureSigningKey();
        const data = Buffer.from('backup manifest');
        const signature = await hsm.signDigest(sha256(data));
        for (const index of [0, 40]) {
          const tampered = Buffer.from(signature);
          tampered[index] ^= 0x01;
          expect(verifies(pem, data, tampered)).toBe(false);
        }
      });

      it('refuses a digest that is not 32 bytes (INVALID_ARGUMENT)', async () => {
        await hsm.ensureSigningKey();
        expect(await rejectionCode(hsm.signDigest(randomBytes(31)))).toBe('INVALID_ARGUMENT');
        expect(await rejectionCode(hsm.signDigest(randomBytes(33)))).toBe('INVALID_ARGUMENT');
      });

      it('another token has its own signing key', async () => {
        expect(await subject.other.ensureSigningKey()).not.toBe(await hsm.ensureSigningKey());
      });
    });

    describe('token', () => {
      it('reports its label and identity', async () => {
        const info = await hsm.tokenInfo();
        const otherInfo = await subject.other.tokenInfo();
        expect(info.label.length).toBeGreaterThan(0);
        expect(info.label).not.toBe(otherInfo.label);
        expect(typeof info.serialNumber).toBe('string');
        expect(info.manufacturer.length).toBeGreaterThan(0);
        expect(info.model.length).toBeGreaterThan(0);
      });

      it('serves calls made concurrently', async () => {
        await hsm.ensureSigningKey();
        const keys = [16, 24, 32, 48].map((n) => randomBytes(n));
        const results = await Promise.all([
          ...keys.map(async (key) => (await hsm.unwrapKey(await hsm.wrapKey(1, key))).equals(key)),
          hsm.signDigest(randomBytes(32)).then((sig) => sig.length === 64),
          hsm.listMasterKeyVersions().then((v) => v.includes(1)),
        ]);
        expect(results.every(Boolean)).toBe(true);
      });
    });

    describe('anchors (token data objects that outlive a copy of the database file)', () => {
      it('has none under a label never written, stores one value, and replaces it leaving exactly one', async () => {
        const label = `anchor-${randomBytes(4).toString('hex')}`;
        expect(await hsm.readAnchors(label)).toEqual([]);
        await hsm.writeAnchor(label, Buffer.from('first'));
        expect((await hsm.readAnchors(label)).map(String)).toEqual(['first']);
        await hsm.writeAnchor(label, Buffer.from('second'));
        expect((await hsm.readAnchors(label)).map(String)).toEqual(['second']);
      });

      it('keeps labels apart, and another token has none of them', async () => {
        const a = `anchor-a-${randomBytes(4).toString('hex')}`;
        const b = `anchor-b-${randomBytes(4).toString('hex')}`;
        await hsm.writeAnchor(a, Buffer.from('A'));
        await hsm.writeAnchor(b, Buffer.from('B'));
        expect((await hsm.readAnchors(a)).map(String)).toEqual(['A']);
        expect((await hsm.readAnchors(b)).map(String)).toEqual(['B']);
        expect(await subject.other.readAnchors(a)).toEqual([]);
      });
    });
  });
}
