/**
 * The request's `idempotencyKey` in the codec (protocol/request.ts,
 * protocol/idempotency-key.ts): kept on the operations whose answer can be
 * stored, checked before anything runs, each refusal INVALID_REQUEST with a
 * message that says the rule or names the operation.
 */
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
import { REPLAYABLE_OPERATIONS } from '../../protocol/idempotency-key';
import { decodeRequest, RequestError } from '../../protocol/request';

const decode = (message: unknown) => decodeRequest(Buffer.from(JSON.stringify(message)), DEFAULT_JSON_LIMITS);
function refusal(message: unknown): { code: string; message: string; id: unknown } {
  try {
    decode(message);
  } catch (err) {
    const e = err as RequestError;
    return { code: e.code, message: e.message, id: e.requestId };
  }
  throw new Error('decoded');
}

describe('idempotencyKey in the request envelope', () => {
  it('is kept, as sent, on a write whose answer can be stored; absent, the request has none', () => {
    expect(decode({ id: 'r-1', op: 'Create', args: { name: 'hr/k' }, idempotencyKey: '0b9f7a3e-2c41-4d8e-9a51-7f3c2e1d0a99' }).idempotencyKey).toBe('0b9f7a3e-2c41-4d8e-9a51-7f3c2e1d0a99');
    expect(decode({ id: 'r-1', op: 'Create', args: { name: 'hr/k' } })).not.toHaveProperty('idempotencyKey');
  });

  it('is 8-128 printable ASCII characters: anything else is INVALID_REQUEST saying the rule, with the id to echo', () => {
    for (const bad of ['short', 'x'.repeat(129), 'tab\there-ok', 'é-not-ascii', 42, null]) {
      expect(refusal({ id: 'r-2', op: 'Create', args: { name: 'hr/k' }, idempotencyKey: bad })).toEqual({
        code: 'INVALID_REQUEST',
        message: 'idempotencyKey must be a string of 8-128 printable ASCII characters',
        id: 'r-2',
      });
    }
    expect(decode({ id: 'r-2', op: 'Create', args: { name: 'hr/k' }, idempotencyKey: '~'.repeat(128) }).idempotencyKey).toHaveLength(128);
    expect(decode({ id: 'r-2', op: 'Create', args: { name: 'hr/k' }, idempotencyKey: ' '.repeat(8) }).idempotencyKey).toBe('        ');
  });

  it("refuses the appliance's own replay mark in meta.custom: a client could otherwise record a real change as a replay that did nothing", () => {
    expect(refusal({ id: 'r-5', op: 'Create', args: { name: 'hr/k' }, meta: { custom: { idempotentReplay: 'true' } } })).toEqual({
      code: 'INVALID_REQUEST',
      message: 'meta.custom.idempotentReplay is set by the appliance only (on the event of a write answered from its idempotency record)',
      id: 'r-5',
    });
    expect(refusal({ id: 'r-6', op: 'Get', args: { name: 'hr/k' }, meta: { custom: { idempotentReplay: 'false' } } }).code).toBe('INVALID_REQUEST');
    // The Revoke's message is the appliance's to record, from the Revoke's own argument.
    expect(refusal({ id: 'r-7', op: 'Create', args: { name: 'hr/k' }, meta: { custom: { revocationMessage: 'revoked by the CISO' } } })).toMatchObject({
      code: 'INVALID_REQUEST',
      message: "meta.custom.revocationMessage is set by the appliance only (on a Revoke's event, from its message argument)",
    });
    expect(decode({ id: 'r-7', op: 'Create', args: { name: 'hr/k' }, meta: { custom: { ticket: 'CHG-1' } } }).meta).toEqual({ custom: { ticket: 'CHG-1' } });
  });

  it('is refused on an operation whose answer is not stored (material, credentials) and on a Batch, naming the operation', () => {
    for (const op of ['Get', 'Encrypt', 'ClientIssue', 'ApprovalApprove', 'Batch', 'Query']) {
      const answer = refusal({ id: 'r-3', op, args: {}, idempotencyKey: 'key-00000001' });
      expect(answer.code).toBe('INVALID_REQUEST');
      expect(answer.message).toMatch(new RegExp(`^${op} takes no idempotencyKey`));
    }
    // Refused before the arguments are looked at: the key's rule is the answer, not the arguments'.
    expect(refusal({ id: 'r-3', op: 'Get', args: { nope: 1 }, idempotencyKey: 'key-00000001' }).message).toMatch(/^Get takes no idempotencyKey/);
  });

  it('takes no key inside a Batch item: an item is only op and args, and the whole Batch is refused', () => {
    expect(refusal({ id: 'r-4', op: 'Batch', args: { items: [{ op: 'Create', args: { name: 'hr/k' }, idempotencyKey: 'key-00000001' }] } })).toEqual({
      code: 'INVALID_REQUEST',
      message: 'args.items[0] has unknown field idempotencyKey',
      id: 'r-4',
    });
  });

  it('lists no operation whose answer holds material', () => {
    expect(REPLAYABLE_OPERATIONS).not.toEqual(expect.arrayContaining(['Get']));
    for (const op of ['Get', 'Encrypt', 'Decrypt', 'GenerateDataKey', 'DecryptDataKey', 'Export', 'ClientIssue', 'ClientRenew', 'ApprovalCollect', 'ApprovalApprove', 'RandomBytes']) {
      expect(REPLAYABLE_OPERATIONS as readonly string[]).not.toContain(op);
    }
  });
});
