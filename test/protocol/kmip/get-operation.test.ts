/**
 * The KMIP Get's own decisions, with a fake native call: KMIP's words for
 * an instance whose material is not served (PreActive, destroyed), and the
 * material of an answer that is not given zeroed before the refusal.
 */
import { KeychainError } from '../../../common/errors';
import { ProtocolVersion } from '../../../protocol/kmip/kmip-message';
import { get } from '../../../protocol/kmip/operations/get';
import { KmipOperationContext, KmipOperationError } from '../../../protocol/kmip/operations/kmip-operation';
import { enumItem, structureItem, textItem } from '../../../protocol/kmip/operations/payload';

function context(version: ProtocolVersion, call: () => Promise<unknown>): KmipOperationContext {
  return { version, header: { protocolVersion: version, batchCount: 1 }, call, served: [], operations: new Map(), client: 'c', nowMs: () => 0, newId: () => 'id' };
}

const request = (format?: string) => structureItem('RequestPayload', [textItem('UniqueIdentifier', 'inst-1'), format === undefined ? undefined : enumItem('KeyFormatType', format)]);

describe('KMIP Get', () => {
  test.each([
    [{ major: 2, minor: 1 }, 'PreActive', 'WrongKeyLifecycleState'],
    [{ major: 1, minor: 4 }, 'PreActive', 'IllegalOperation'],
    [{ major: 2, minor: 1 }, 'Destroyed', 'ObjectDestroyed'],
    [{ major: 2, minor: 1 }, 'DestroyedCompromised', 'ObjectDestroyed'],
  ])('%o: an instance %s without served material is %s', async (version, state, reason) => {
    const noMaterial = new KeychainError('NO_MATERIAL', `instance inst-1 of a/b is ${state} and has no retrievable material`, { details: { instance: 'inst-1', state } });
    const refused = await get.run(request(), context(version, () => Promise.reject(noMaterial))).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(KmipOperationError);
    expect(refused).toMatchObject({ resultReason: reason, message: expect.stringMatching(/^NO_MATERIAL: instance inst-1 of a\/b is /) });
  });

  test('1.x has no Object Destroyed: the native refusal passes as it is (Key Value Not Present, from the error table)', async () => {
    const noMaterial = new KeychainError('NO_MATERIAL', 'destroyed', { details: { state: 'Destroyed' } });
    await expect(get.run(request(), context({ major: 1, minor: 4 }, () => Promise.reject(noMaterial)))).rejects.toBe(noMaterial);
  });

  test('material fetched for a format its object is not served in is zeroed before the refusal', async () => {
    const material = Buffer.alloc(32, 0x41);
    const answer = { key: { algorithm: 'AES-256', customAttributes: {} }, instance: { name: 'inst-1' }, material };
    await expect(get.run(request('Opaque'), context({ major: 2, minor: 1 }, async () => answer))).rejects.toMatchObject({ resultReason: 'KeyFormatTypeNotSupported' });
    expect(material.every((byte) => byte === 0)).toBe(true);
  });

  test('the material is answered as the Buffer the native Get returned, not a copy, so the transport\'s wipe reaches it', async () => {
    const material = Buffer.alloc(16, 0x42);
    const answer = { key: { algorithm: 'AES-128', customAttributes: {} }, instance: { name: 'inst-1' }, material };
    const payload = await get.run(request(), context({ major: 2, minor: 1 }, async () => answer));
    const found: unknown[] = [];
    const walk = (node: { type: string; value: unknown }): void => {
      if (node.type === 'ByteString') found.push(node.value);
      else if (node.type === 'Structure') (node.value as Array<{ type: string; value: unknown }>).forEach(walk);
    };
    walk(payload);
    expect(found).toEqual([material]);
    expect(found[0]).toBe(material);
  });
});
