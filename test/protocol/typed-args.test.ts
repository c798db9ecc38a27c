/**
 * Typed arguments (protocol/op-schemas.ts OperationArgs, derived from the
 * schemas by protocol/schema-types.ts): the types the compiler gives a few
 * operations' arguments (checked by `tsc --noEmit`, which type-checks the
 * tests), and what validateArgs and decodeRequest return for them at run
 * time, including a Batch whose bad items become item errors.
 */
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
import { ArgsOf, BatchEntry, OperationCall, validateArgs } from '../../protocol/op-schemas';
import { decodeRequest } from '../../protocol/request';

/** True when A and B are the same type (readonly and optional modifiers included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when given `true`: each use below is a compile-time assertion. */
const holds = <T extends true>(): T | undefined => undefined;

// Compile-time: the derived types, field by field.
type Mode = 'AES-GCM' | 'AES-CBC-PKCS5' | 'CHACHA20-POLY1305' | 'AES-ECB' | 'AES-ECB-PKCS5' | 'CHACHA20';
holds<
  Equal<
    ArgsOf<'Encrypt'>,
    | { readonly name: string; readonly instance?: string; readonly plaintext: Buffer; readonly aad?: Buffer; readonly mode?: Mode; readonly iv?: Buffer; readonly tagLength?: number; readonly initialCounter?: number; readonly streamInit?: boolean; readonly stream?: Buffer; readonly streamFinal?: boolean }
    | { readonly name?: undefined; readonly instance: string; readonly plaintext: Buffer; readonly aad?: Buffer; readonly mode?: Mode; readonly iv?: Buffer; readonly tagLength?: number; readonly initialCounter?: number; readonly streamInit?: boolean; readonly stream?: Buffer; readonly streamFinal?: boolean }
  >
>();
holds<Equal<ArgsOf<'Get'>, { readonly name: string; readonly instance?: string } | { readonly name?: undefined; readonly instance: string }>>();
holds<Equal<ArgsOf<'Locate'>['limit'], number | undefined>>();
holds<Equal<ArgsOf<'Revoke'>['reason'], 'unspecified' | 'keyCompromise' | 'caCompromise' | 'affiliationChanged' | 'superseded' | 'cessationOfOperation' | 'privilegeWithdrawn'>>();
holds<Equal<ArgsOf<'ClientIssue'>['groups'], readonly string[] | undefined>>();
holds<Equal<ArgsOf<'Create'>['attributes'], Readonly<Record<string, string>> | undefined>>();
holds<Equal<ArgsOf<'UnsealReset'>, { readonly own?: boolean }>>();
holds<Equal<ArgsOf<'Query'>, {}>>();
holds<Equal<ArgsOf<'PolicyGrant'>['client' | 'group'], string | undefined>>();
holds<Equal<ArgsOf<'Batch'>, { readonly items: readonly BatchEntry[] }>>();
// A Batch item cannot name Batch, nor an operation refused inside one.
holds<Equal<Extract<BatchEntry, { op: 'Batch' | 'UnsealSubmit' | 'MasterKeyRotate' | 'MasterKeyStatus' | 'ClusterStatus' }>, never>>();

// Compile-time: what the types refuse.
// @ts-expect-error a key reference needs a name or an instance
export const noRef: ArgsOf<'Get'> = {};
// @ts-expect-error base64 fields are Buffers once decoded, never strings
export const textPlaintext: ArgsOf<'Encrypt'> = { name: 'a/b', plaintext: 'aGk=' };
// @ts-expect-error an enum takes only its values
export const badReason: ArgsOf<'Revoke'> = { name: 'a/b', reason: 'because' };
// @ts-expect-error a grant goes to a client or a group, not both
export const bothSubjects: ArgsOf<'PolicyGrant'> = { client: 'c', group: 'g', pattern: '*', permissions: [] };
// @ts-expect-error a field the schema does not have
export const extraField: ArgsOf<'Get'> = { name: 'a/b', colour: 'blue' };
// @ts-expect-error `op` decides `args`: Get's arguments are not Encrypt's
export const mismatched: OperationCall = { op: 'Encrypt', args: { name: 'a/b' } };

const decode = (message: unknown) => decodeRequest(Buffer.from(JSON.stringify(message)), DEFAULT_JSON_LIMITS);

describe('typed decoding', () => {
  it('Get by instance alone: a reference with no name', () => {
    const args = validateArgs('Get', { instance: 'x7Kq' });
    expect(args).toEqual({ instance: 'x7Kq' });
    expect(args.name).toBeUndefined();
  });

  it('Encrypt: base64 fields arrive as Buffers, absent optional ones are left out', () => {
    const args = validateArgs('Encrypt', { name: 'crm/pii', plaintext: 'aGk=' });
    expect(Buffer.isBuffer(args.plaintext)).toBe(true);
    expect(args.plaintext.equals(Buffer.from('hi'))).toBe(true);
    expect(Object.keys(args)).toEqual(['name', 'plaintext']);
  });

  it('Revoke and ApprovalQuorumSet: enums and integers keep their values', () => {
    expect(validateArgs('Revoke', { instance: 'x7Kq', reason: 'superseded' })).toEqual({ instance: 'x7Kq', reason: 'superseded' });
    expect(validateArgs('ApprovalQuorumSet', { class: 'key-destroy', required: 2 })).toEqual({ class: 'key-destroy', required: 2 });
  });

  it('a decoded request narrows its args by op', () => {
    const request = decode({ id: 'r-1', op: 'MAC', args: { name: 'mac/k', data: 'ZGF0YQ==' } });
    if (request.op !== 'MAC') throw new Error(`decoded as ${request.op}`);
    expect(request.args.data.toString()).toBe('data');
  });

  it('a Batch with bad items: each bad item is its own error, the others are typed calls', () => {
    const request = decode({
      id: 9,
      op: 'Batch',
      args: {
        items: [
          { op: 'Encrypt', args: { name: 'crm/pii', plaintext: 'aGk=' } },
          { op: 'Get', args: { name: 5 } },
          { op: 'Nope' },
          { op: 'MasterKeyRotate', args: {} },
          { op: 'Batch', args: { items: [{ op: 'Query' }] } },
          { op: 'Get', args: { instance: 'x7Kq' } },
        ],
      },
    });
    if (request.op !== 'Batch') throw new Error(`decoded as ${request.op}`);
    const [encrypt, badArgs, unknown, unbatched, nested, get] = request.args.items;
    expect(encrypt).toEqual({ op: 'Encrypt', args: { name: 'crm/pii', plaintext: Buffer.from('hi') } });
    expect(get).toEqual({ op: 'Get', args: { instance: 'x7Kq' } });
    const errorOf = (entry: BatchEntry) => ('error' in entry ? entry.error.toJSON() : null);
    expect(errorOf(badArgs)).toEqual(expect.objectContaining({ code: 'INVALID_REQUEST', details: { field: 'args.name', expected: 'string' } }));
    expect(errorOf(unknown)?.code).toBe('UNKNOWN_OPERATION');
    expect(errorOf(unbatched)).toEqual(expect.objectContaining({ code: 'INVALID_REQUEST', details: { field: 'op' } }));
    expect(errorOf(nested)).toEqual(expect.objectContaining({ code: 'INVALID_REQUEST', details: { field: 'op' } }));
    expect(errorOf(encrypt)).toBeNull();
  });

  it('a Batch whose item shape is wrong fails as a whole (INVALID_REQUEST with the id)', () => {
    expect(() => decode({ id: 9, op: 'Batch', args: { items: [{ op: 'Get', args: { name: 'a/b' }, id: 1 }] } })).toThrow(
      expect.objectContaining({ code: 'INVALID_REQUEST', requestId: 9 }),
    );
  });
});
