/**
 * A child process for the chaos test (test/integration/chaos-sigkill.test.ts).
 * It loads its modules and says `loaded` (the parent starts the next child
 * while the current one works, so loading costs the test no time), then
 * waits for its order on stdin (scenario, cycle, sweep instant). Only then
 * it opens the data folder as the CLI's local mode does (chaos-child-session.ts:
 * openAppliance, the in-process audit pipeline, the one dispatcher of
 * composeServices), unseals it with the HSM, runs the start-up recovery a
 * serving appliance runs (approvals.start(): an approved operation a kill
 * interrupted is failed, never run again), prints `ready <ms from the
 * order>`, and does the work of its scenario (chaos-scenarios.ts) in a loop
 * until the parent SIGKILLs it. The restore scenario's rounds each end with
 * an approved restore and the in-process restart `strongroom serve` does
 * (the session closed, the folder opened again: the swap).
 *
 * Every request goes through the dispatcher as a real client would send it
 * (officers by their directory rows, the sweep as the local operator), and
 * every answer waits for its audit event, so an `ack` line means: answered
 * to the client. Acks are written with writeSync to the pipe, so an ack the
 * parent may count is never left in a buffer when the kill lands.
 */
import { writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../common/config';
import { Requester } from '../../protocol/requester';
import { localOperator } from '../../server/local/local-operator';
import { EventBus } from '../../domain/events/event-bus';
import { openChildSession } from './chaos-child-session';
import { ChaosOrder, CHAOS_OFFICERS, chaosKeyName, ROLLOVER_CRYPTOPERIOD } from './chaos-scenarios';

/** Upper bound on one scenario's loop, so a child nobody kills stops by itself. */
const MAX_ROUNDS = 10_000;

function ack(line: string): void {
  writeSync(1, `ack ${line}\n`);
}

/** The APPROVAL_REQUIRED details of a request that must be held for approval. */
async function requestApproval(requester: Requester, op: 'Destroy' | 'MasterKeyRotate' | 'BackupRestore', args: Record<string, unknown>): Promise<{ requestId: string; digest: string }> {
  try {
    await requester.request(op, args);
  } catch (err) {
    const e = err as { code?: string; details?: { requestId: string; digest: string } };
    if (e.code === 'APPROVAL_REQUIRED' && e.details) return e.details;
    throw err;
  }
  throw new Error(`${op} ran without approval`);
}

/** The two other officers approve (those who have not yet); returns the request's final state (executed, failed, ...). */
async function approveByOthers(approvers: readonly Requester[], pending: { requestId: string; digest: string }, voted: readonly number[] = []): Promise<string> {
  let state = 'pending';
  for (const [index, approver] of approvers.entries()) {
    if (voted.includes(index)) continue;
    const answer = await approver.request<{ request: { state: string } }>('ApprovalApprove', { id: pending.requestId, digest: pending.digest });
    state = answer.request.state;
    if (state !== 'pending') break;
  }
  return state;
}

/** Lines from the parent on stdin, in order: the order (one JSON line), then `go` before the HSM is touched. */
function parentLines(): () => Promise<string> {
  const ready: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let text = '';
  let ended = false;
  process.stdin.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      const line = text.slice(0, end);
      text = text.slice(end + 1);
      const taker = waiting.shift();
      if (taker) taker(line);
      else ready.push(line);
    }
  });
  process.stdin.on('end', () => {
    ended = true;
  });
  return () =>
    new Promise((resolve, reject) => {
      const line = ready.shift();
      if (line !== undefined) return resolve(line);
      if (ended) return reject(new Error('stdin closed before the parent said what to do'));
      waiting.push(resolve);
    });
}

/** Resolves with `executed` or `failed` once the approved request settles (its live event), asynchronously run ones included. */
function settled(events: EventBus, requestId: string): Promise<string> {
  return new Promise((resolve) => {
    const stop = events.subscribe((event) => {
      if (event.kind === 'approval' && event.requestId === requestId && (event.action === 'executed' || event.action === 'failed')) {
        stop();
        resolve(event.action);
      }
    });
  });
}

/** Approves every pending Destroy (as the approvers who have not voted on it), acknowledging each one's final state. */
async function approveWaitingDestroys(requester: Requester, approvers: readonly Requester[]): Promise<void> {
  const listed = await requester.request<{ requests: Array<{ id: string; operation: string; digest: string; approvedBy: string[] }> }>('ApprovalList', { state: 'pending', limit: 500 });
  for (const request of listed.requests.filter((r) => r.operation === 'Destroy')) {
    const voted = CHAOS_OFFICERS.slice(1).flatMap((officer, index) => (request.approvedBy.includes(officer) ? [index] : []));
    ack(`approval ${request.id} ${await approveByOthers(approvers, { requestId: request.id, digest: request.digest }, voted)}`);
  }
}

async function main(): Promise<void> {
  writeSync(1, `loaded ${Math.round(performance.now())}\n`);
  const nextLine = parentLines();
  // Until the order comes the child has only loaded its modules and touched nothing.
  const order = JSON.parse(await nextLine()) as ChaosOrder;
  const startedMs = performance.now();
  const { scenario, cycle } = order;
  const env = process.env;
  const config = loadConfig({ dataDir: env.SR_DATA as string, env: {}, flags: JSON.parse(env.SR_FLAGS as string) as Record<string, string> });
  // The parent answers each `hsm` line with `go` once it holds kills (chaos-child-session.ts).
  const handshake = async (): Promise<void> => void (await nextLine());
  let session = await openChildSession(config, handshake);
  writeSync(1, `ready ${Math.round(performance.now() - startedMs)}\n`);
  const officers = (): { requester: Requester; approvers: readonly Requester[] } => ({ requester: session.officers[0], approvers: session.officers.slice(1) });

  for (let n = 0; n < MAX_ROUNDS; n++) {
    const name = chaosKeyName(scenario, cycle, n);
    // The restore scenario opens a new session each round: its officers go through the new dispatcher.
    const { requester, approvers } = officers();
    switch (scenario) {
      case 'create':
        // Every other key is due for rollover a cryptoperiod after its creation: what the sweep scenario rolls.
        await requester.request('Create', { name, algorithm: 'AES-256', ...(n % 2 === 0 ? { rollover: 'auto', cryptoperiod: ROLLOVER_CRYPTOPERIOD } : {}) });
        ack(`create ${name}`);
        break;
      case 'sweep': {
        // A sweep at one fixed instant (SR_SWEEP_AT), as the local operator's `rollover run --at`: a key rolls at most once there.
        const result = await session.as(localOperator()).request<{ rolled: number; failed: number }>('RolloverRun', { at: order.sweepAt });
        ack(`sweep ${result.rolled} ${result.failed}`);
        break;
      }
      case 'approval': {
        // First the Destroys earlier (killed) children left pending: officers approve what waits, so material seen alive earlier gets destroyed here.
        if (n === 0) await approveWaitingDestroys(requester, approvers);
        // Destroy is dual-controlled: the third officer's vote runs it, in the vote's transaction.
        await requester.request('Create', { name, algorithm: 'AES-256' });
        await requester.request('Revoke', { name, reason: 'cessationOfOperation' });
        const pending = await requestApproval(requester, 'Destroy', { name });
        ack(`requested ${pending.requestId} ${name}`);
        ack(`approval ${pending.requestId} ${await approveByOthers(approvers, pending)}`);
        break;
      }
      case 'backup': {
        const made = await requester.request<{ name: string }>('BackupCreate', {});
        ack(`backup ${made.name}`);
        break;
      }
      case 'rotation': {
        // Dual-controlled too: the approved rotation runs asynchronously (the request is `executing` meanwhile).
        const pending = await requestApproval(requester, 'MasterKeyRotate', { destroyOld: true });
        const done = settled(session.audit.events, pending.requestId);
        const state = await approveByOthers(approvers, pending);
        if (state === 'executing') await done;
        // Answered after the settled request's events (one trail, appended in order): so they are durable too.
        const final = await requester.request<{ request: { state: string } }>('ApprovalGet', { id: pending.requestId });
        ack(`approval ${pending.requestId} ${final.request.state}`);
        break;
      }
      case 'restore': {
        // A backup of the keychain as it is now, then a key made after it: the restore takes that key away on
        // purpose, and the checks account for it in the keychain the restore kept (chaos-restore-checks.ts).
        const made = await requester.request<{ name: string }>('BackupCreate', {});
        ack(`backup ${made.name}`);
        await requester.request('Create', { name, algorithm: 'AES-256' });
        ack(`create ${name}`);
        // Dual-controlled: the third officer's vote runs it (`executing` while it verifies the backup again and stages it);
        // once executed, the restorer seals the appliance until its restart, stages the keychain and writes its intent.
        const pending = await requestApproval(requester, 'BackupRestore', { name: made.name });
        const done = settled(session.audit.events, pending.requestId);
        const state = await approveByOthers(approvers, pending);
        const final = state === 'executing' ? await done : state;
        ack(`approval ${pending.requestId} ${final}`);
        if (final !== 'executed') throw new Error(`the approved restore of ${made.name} is ${final}, not executed`);
        await session.restoreStaged;
        // As `strongroom serve` does: closed, and the folder opened again, which puts the restored keychain in place.
        await session.close();
        session = await openChildSession(config, handshake);
        if (session.appliance.restore?.outcome !== 'restored') throw new Error(`the restart after a staged restore did not restore: ${JSON.stringify(session.appliance.restore)}`);
        ack(`restored ${made.name}`);
        break;
      }
      default:
        throw new Error(`unknown scenario ${String(scenario)}`);
    }
  }
  writeSync(1, 'done\n');
  await session.close();
}

main().catch((err) => {
  process.stderr.write(`chaos child failed: ${err instanceof Error ? `${(err as { code?: string }).code ?? ''} ${err.stack}` : String(err)}\n`);
  process.exit(1);
});
