import { randomBytes } from 'node:crypto';
import { encodeAad, openMaterial, SealBinding, sealMaterial } from '../../domain/instance-seal';
import { codeOf } from '../support/error-code';

const binding: SealBinding = { keychainId: 'kc', keyId: 'k1', instanceId: 'i1', version: 1, algorithm: 'AES-256', sealVersion: 1 };

describe('instance sealing', () => {
  const keychainKey = randomBytes(32);

  it('round-trips material and uses a fresh IV each time', () => {
    const material = randomBytes(32);
    const a = sealMaterial(keychainKey, binding, material);
    const b = sealMaterial(keychainKey, binding, material);
    expect(a.equals(b)).toBe(false);
    expect(openMaterial(keychainKey, binding, a).equals(material)).toBe(true);
    expect(openMaterial(keychainKey, binding, b).equals(material)).toBe(true);
  });

  it.each([
    ['keychainId', { keychainId: 'other' }],
    ['keyId', { keyId: 'k2' }],
    ['instanceId', { instanceId: 'i2' }],
    ['version', { version: 2 }],
    ['algorithm', { algorithm: 'AES-128' }],
    ['sealVersion', { sealVersion: 2 }],
  ])('refuses material bound to another %s', (_field, change) => {
    const sealed = sealMaterial(keychainKey, binding, randomBytes(32));
    expect(codeOf(() => openMaterial(keychainKey, { ...binding, ...change }, sealed))).toBe('INTEGRITY_FAILURE');
  });

  it('refuses every single-byte alteration', () => {
    const sealed = sealMaterial(keychainKey, binding, randomBytes(16));
    for (let offset = 0; offset < sealed.length; offset++) {
      const altered = Buffer.from(sealed);
      altered[offset] ^= 0x01;
      expect(codeOf(() => openMaterial(keychainKey, binding, altered))).toBe('INTEGRITY_FAILURE');
    }
  });

  it('refuses truncated material and the wrong keychain key', () => {
    const sealed = sealMaterial(keychainKey, binding, randomBytes(32));
    expect(codeOf(() => openMaterial(keychainKey, binding, sealed.subarray(0, 20)))).toBe('INTEGRITY_FAILURE');
    expect(codeOf(() => openMaterial(randomBytes(32), binding, sealed))).toBe('INTEGRITY_FAILURE');
  });

  it('encodes bindings without ambiguity between fields', () => {
    const a = encodeAad({ ...binding, keyId: 'ab', instanceId: 'c' });
    const b = encodeAad({ ...binding, keyId: 'a', instanceId: 'bc' });
    expect(a.equals(b)).toBe(false);
  });
});
