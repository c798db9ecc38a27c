/**
 * The key check value shown to approvers of a key import, and the seal of
 * the material waiting for their approval: bound to its request, so a blob
 * moved to another request, or edited, fails closed (INTEGRITY_FAILURE).
 */
import { randomBytes } from 'node:crypto';
import { aesCmacOneBlock, keyCheckValue } from '../../../domain/keys/key-check-value';
import { ImportBinding, openImportMaterial, sealImportMaterial } from '../../../domain/keys/import-seal';
import { KeychainSeal } from '../../../domain/keys/keychain-seal';

const hex = (text: string): Buffer => Buffer.from(text, 'hex');

describe('key check values', () => {
  it('computes AES-CMAC of one block as RFC 4493 example 2 gives it', () => {
    expect(aesCmacOneBlock(hex('2b7e151628aed2a6abf7158809cf4f3c'), hex('6bc1bee22e409f96e93d7e117393172a')).toString('hex')).toBe('070a16b46b4d4144f79bdd9dd04a287c');
  });

  it('gives the X9.24-1:2017 KCV of an AES key: the leftmost 5 bytes of the CMAC of a zero block (values from openssl mac CMAC)', () => {
    expect(keyCheckValue('AES-128', hex('2b7e151628aed2a6abf7158809cf4f3c'))).toEqual({ value: '7AD386C376', kind: 'AES-CMAC' });
    expect(keyCheckValue('AES-256', hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'))).toEqual({ value: 'B4CF0BB13E', kind: 'AES-CMAC' });
  });

  it('gives HMAC and ChaCha20 keys a truncated SHA-256, labelled so', () => {
    const material = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    // SHA-256 of these 32 bytes begins 82d8640853 (computed independently: `xxd -r -p | sha256sum`).
    expect(keyCheckValue('CHACHA20', material)).toEqual({ value: '82D8640853', kind: 'SHA-256' });
    expect(keyCheckValue('HMAC-SHA256', material).value).toBe(keyCheckValue('CHACHA20', material).value);
  });
});

describe('sealed import material', () => {
  const keychainKey = randomBytes(32);
  const unsealed = { keychainId: 'kc-1', currentVersion: 1, keys: new Map([[1, keychainKey]]) };
  // The two methods import-seal uses, over a fixed keychain key: the real KeychainSeal needs an HSM to unseal.
  const seal = { requireUnsealed: () => unsealed, sealingKey: (_u: unknown, version: number) => (version === 1 ? keychainKey : null) } as unknown as KeychainSeal;
  const binding: ImportBinding = { requestId: 'req-1', requester: 'alice', name: 'pay/zmk', algorithm: 'AES-256', kcv: 'B4CF0BB13E', kcvKind: 'AES-CMAC' };
  const material = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');

  it('opens for its own request, and the blob does not hold the material', () => {
    const sealed = sealImportMaterial(seal, binding, material);
    expect(Buffer.from(sealed.sealed, 'base64').includes(material)).toBe(false);
    expect(openImportMaterial(seal, binding, sealed)).toEqual(material);
  });

  it.each([
    ['another request', { requestId: 'req-2' }],
    ['another requester', { requester: 'mallory' }],
    ['another name', { name: 'pay/other' }],
    ['another algorithm', { algorithm: 'AES-128' }],
    ['another key check value', { kcv: '0000000000' }],
  ])('fails closed when moved to %s', (_what, change) => {
    const sealed = sealImportMaterial(seal, binding, material);
    expect(() => openImportMaterial(seal, { ...binding, ...change }, sealed)).toThrow(
      expect.objectContaining({ code: 'INTEGRITY_FAILURE', message: expect.stringContaining('nothing was registered') }),
    );
  });

  it('fails closed on a flipped byte, and names the request, never the bytes', () => {
    const sealed = sealImportMaterial(seal, binding, material);
    const bytes = Buffer.from(sealed.sealed, 'base64');
    bytes[20] ^= 0x01;
    let caught: { code?: string; message?: string } | null = null;
    try {
      openImportMaterial(seal, binding, { ...sealed, sealed: bytes.toString('base64') });
    } catch (err) {
      caught = err as { code?: string; message?: string };
    }
    expect(caught?.code).toBe('INTEGRITY_FAILURE');
    expect(caught?.message).toContain('req-1');
    expect(caught?.message).not.toContain(sealed.sealed);
  });
});
