/**
 * The dispatcher on the transport-neutral Request (operations/request.ts),
 * without a socket or a JSON frame: a Batch runs its decoded items in order,
 * an item the codec could not decode answers its own error and runs nothing
 * (no audit outcome), a refused item is an item error, and what the audit
 * listener hears carries the request's id, meta and source address.
 */
import { AuditError, StrongroomError } from '../../common/errors';
import { OperationTable } from '../../operations/operation';
import { Services } from '../../operations/context';
import { Dispatcher, Outcome } from '../../operations/dispatcher';
import { Request } from '../../operations/request';
import { allOperations } from '../../operations/table';
import { ClientIdentity } from '../../domain/policy/identity';
import { DEFAULT_JSON_LIMITS } from '../../protocol/json-limits';
import { decodeRequest } from '../../protocol/request';
import { rejectionCode } from '../support/error-code';

const app: ClientIdentity = { name: 'billing', role: 'app', groups: [], fingerprint256: 'ab', subject: 'CN=billing' };

/** Only what Query and the dispatcher's own checks read: every other operation here is refused before it runs. */
function makeDispatcher(): { dispatcher: Dispatcher; outcomes: Outcome[] } {
  // Identity confirmation accepts everyone here: it has its own tests (test/domain/identity-confirmation.test.ts).
  const services = { keychain: { isSealed: false }, identities: { confirm: () => undefined }, version: '9.9.9', limits: {} } as unknown as Services;
  const outcomes: Outcome[] = [];
  const dispatcher: Dispatcher = new Dispatcher(services, allOperations(() => dispatcher.operationNames()), (outcome) => {
    outcomes.push(outcome);
  });
  return { dispatcher, outcomes };
}

describe('Dispatcher', () => {
  it('runs a Batch item by item: a decoding error, a refusal and a non-batchable operation are item errors', () => {
    const { dispatcher, outcomes } = makeDispatcher();
    const decoded = decodeRequest(
      Buffer.from(JSON.stringify({
        id: 'b-1',
        op: 'Batch',
        args: { items: [{ op: 'Query' }, { op: 'Nope' }, { op: 'ClientList' }, { op: 'AuditVerify' }, { op: 'Query', args: { x: 1 } }] },
        meta: { endUser: 'alice' },
      })),
      DEFAULT_JSON_LIMITS,
    );
    const request: Request = { ...decoded, identity: app, source: { transport: 'local', address: null } };
    const audits: Array<Promise<void>> = [];
    const answer = dispatcher.dispatch(request, audits) as { items: Array<{ result?: { server: string; version: string }; error?: { code: string; details?: unknown } }> };

    expect(answer.items.map((item) => item.error?.code ?? 'ok')).toEqual(['ok', 'UNKNOWN_OPERATION', 'PERMISSION_DENIED', 'INVALID_REQUEST', 'INVALID_REQUEST']);
    expect(answer.items[0].result).toMatchObject({ server: 'strongroom', version: '9.9.9' });
    // The codec's error reaches the client as it was made, details included.
    expect(answer.items[4].error?.details).toEqual({ field: 'args.x' });
    // Only the items that reached an operation are audited: Query and the refused ClientList.
    expect(outcomes.map((o) => [o.op, o.error?.code ?? 'ok'])).toEqual([['Query', 'ok'], ['ClientList', 'PERMISSION_DENIED']]);
    for (const outcome of outcomes) {
      // No address in-process: the trail records the transport instead.
      expect(outcome).toMatchObject({ requestId: 'b-1', source: 'local', meta: { endUser: 'alice' }, identity: app });
    }
    expect(audits).toHaveLength(0);
  });

  it('passes the source address of a request to the audit listener, and throws the operation error', async () => {
    const { dispatcher, outcomes } = makeDispatcher();
    const request: Request = { id: 7, op: 'ClientList', args: {}, meta: {}, identity: app, source: { transport: 'tls', address: '192.0.2.7' } };
    expect(await rejectionCode(() => dispatcher.dispatch(request))).toBe('PERMISSION_DENIED');
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ op: 'ClientList', requestId: 7, source: '192.0.2.7' });
    expect(outcomes[0].error).toBeInstanceOf(StrongroomError);
  });

  it('stamps each outcome with its transport and the monotonic time the dispatcher took it (the metrics time it from there)', () => {
    const services = { keychain: { isSealed: false }, identities: { confirm: () => undefined }, version: '9.9.9', limits: {} } as unknown as Services;
    const outcomes: Outcome[] = [];
    let now = 1000;
    const dispatcher: Dispatcher = new Dispatcher(services, allOperations(() => dispatcher.operationNames()), (outcome) => void outcomes.push(outcome), null, () => now++);
    dispatcher.dispatch({ id: 1, op: 'Query', args: {}, meta: {}, identity: app, source: { transport: 'kmip', address: '192.0.2.8' } });
    dispatcher.dispatch({ id: 2, op: 'Query', args: {}, meta: {}, identity: app, source: { transport: 'tls', address: '192.0.2.8' } });
    expect(outcomes.map((o) => [o.transport, o.startedMs])).toEqual([['kmip', 1000], ['tls', 1001]]);
  });

  /** AliasSet stands for any state-changing operation: it only notes that it ran. */
  function withIntents(intent: (op: string) => Promise<void>): { dispatcher: Dispatcher; ran: string[]; outcomes: Outcome[]; intents: string[] } {
    const services = { keychain: { isSealed: false }, identities: { confirm: () => undefined }, version: '9.9.9', limits: {} } as unknown as Services;
    const ran: string[] = [];
    const outcomes: Outcome[] = [];
    const intents: string[] = [];
    const table = {
      ...allOperations(() => dispatcher.operationNames()),
      AliasSet: { name: 'AliasSet', access: 'any', changesState: true, run: (args: { alias: string }) => (ran.push(args.alias), { alias: args.alias }) },
    } as unknown as OperationTable;
    const dispatcher: Dispatcher = new Dispatcher(
      services,
      table,
      (outcome) => {
        outcomes.push(outcome);
      },
      (pending) => {
        intents.push(String(pending.args.alias));
        return intent(String(pending.args.alias));
      },
    );
    return { dispatcher, ran, outcomes, intents };
  }
  const aliasSet = (alias: string): Request => ({ id: alias, op: 'AliasSet', args: { alias, name: 'hr/payroll' }, meta: {}, identity: app, source: { transport: 'local', address: null } });

  it('runs a state-changing operation only once its intent is durable, and not at all when it cannot be written', async () => {
    let release: () => void = () => undefined;
    const { dispatcher, ran, outcomes } = withIntents((alias) =>
      alias === 'lab/lost' ? Promise.reject(new AuditError('AUDIT_UNAVAILABLE', 'trail unwritable')) : new Promise<void>((resolve) => (release = resolve)),
    );
    const answer = dispatcher.dispatch(aliasSet('lab/x'));
    expect(ran).toEqual([]);
    release();
    await expect(answer).resolves.toEqual({ alias: 'lab/x' });
    expect(ran).toEqual(['lab/x']);

    expect(await rejectionCode(() => dispatcher.dispatch(aliasSet('lab/lost')))).toBe('AUDIT_UNAVAILABLE');
    expect(ran).toEqual(['lab/x']);
    expect(outcomes.map((o) => [o.args.alias, o.error?.code ?? 'ok'])).toEqual([['lab/x', 'ok'], ['lab/lost', 'AUDIT_UNAVAILABLE']]);
  });

  it('runs a Batch in order, each state-changing item after its own intent; a read runs without one', async () => {
    const { dispatcher, ran, intents } = withIntents((alias) => (alias === 'lab/lost' ? Promise.reject(new AuditError('AUDIT_UNAVAILABLE', 'trail unwritable')) : Promise.resolve()));
    const request: Request = {
      id: 'b-2',
      op: 'Batch',
      args: { items: [{ op: 'AliasSet', args: { alias: 'lab/a', name: 'hr/payroll' } }, { op: 'Query', args: {} }, { op: 'AliasSet', args: { alias: 'lab/lost', name: 'hr/payroll' } }, { op: 'AliasSet', args: { alias: 'lab/b', name: 'hr/payroll' } }] },
      meta: {},
      identity: app,
      source: { transport: 'local', address: null },
    } as Request;
    const answer = (await dispatcher.dispatch(request)) as { items: Array<{ result?: unknown; error?: { code: string } }> };
    expect(answer.items.map((item) => item.error?.code ?? 'ok')).toEqual(['ok', 'ok', 'AUDIT_UNAVAILABLE', 'ok']);
    expect(ran).toEqual(['lab/a', 'lab/b']);
    expect(intents).toEqual(['lab/a', 'lab/lost', 'lab/b']);
  });

  /** AliasSet marked to commit with its event; the committer stands for the audit pipeline's one transaction. */
  function withCommitter(dualControl: string | null = null): { dispatcher: Dispatcher; log: string[]; outcomes: Outcome[] } {
    const services = { keychain: { isSealed: false }, identities: { confirm: () => undefined }, version: '9.9.9', limits: {}, approvals: { approvalRequired: () => new AuditError('AUDIT_UNAVAILABLE', 'not expected'), takeAudits: () => [] } } as unknown as Services;
    const log: string[] = [];
    const outcomes: Outcome[] = [];
    const table = {
      ...allOperations(() => dispatcher.operationNames()),
      AliasSet: {
        name: 'AliasSet',
        access: 'any',
        changesState: true,
        commitsWithItsEvent: true,
        dualControl: () => dualControl,
        run: (args: { alias: string }) => {
          log.push(`run ${args.alias}`);
          if (args.alias === 'lab/bad') throw new StrongroomError('KEY_NOT_FOUND', 'no such key');
          return { alias: args.alias };
        },
      },
    } as unknown as OperationTable;
    const dispatcher: Dispatcher = new Dispatcher(
      services,
      table,
      (outcome) => void outcomes.push(outcome),
      (pending) => {
        log.push(`intent ${String(pending.args.alias)}`);
        return Promise.resolve();
      },
      () => 0,
      (change, outcomeOf) => {
        log.push('begin');
        try {
          const result = change();
          log.push(`event ${String(outcomeOf(result).args.alias)} ${outcomeOf(result).error === null ? 'ok' : 'error'}`);
          log.push('commit');
          return result;
        } catch (err) {
          log.push('rollback');
          throw err;
        }
      },
    );
    return { dispatcher, log, outcomes };
  }

  it('runs a change marked commitsWithItsEvent inside the committer with its outcome, without an intent, and answers synchronously', () => {
    const { dispatcher, log, outcomes } = withCommitter();
    expect(dispatcher.dispatch(aliasSet('lab/x'))).toEqual({ alias: 'lab/x' });
    expect(log).toEqual(['begin', 'run lab/x', 'event lab/x ok', 'commit']);
    // The listener (the group commit) hears only of what the transaction did not record.
    expect(outcomes).toEqual([]);
  });

  it('records a failed change through the listener after the transaction was undone', async () => {
    const { dispatcher, log, outcomes } = withCommitter();
    expect(await rejectionCode(() => dispatcher.dispatch(aliasSet('lab/bad')))).toBe('KEY_NOT_FOUND');
    expect(log).toEqual(['begin', 'run lab/bad', 'rollback']);
    expect(outcomes.map((o) => [o.args.alias, o.error?.code])).toEqual([['lab/bad', 'KEY_NOT_FOUND']]);
  });

  it('gives a change the dual-control gate stores for approval its intent first, as before', async () => {
    const { dispatcher, log } = withCommitter('client-revoke');
    await rejectionCode(() => dispatcher.dispatch(aliasSet('lab/x')));
    expect(log[0]).toBe('intent lab/x');
    expect(log).not.toContain('begin');
  });
});
