/**
 * Plays one OASIS case against a server: each step's request is made from
 * its template (placeholders resolved from what earlier answers bound),
 * sent, and its answer compared with the expected one; the case stops at
 * its first difference (later steps build on the state the failed one should
 * have left). Every case gets a connection of its own, so one that the
 * server closes does not spill into the next; the connection is chosen for
 * the case (oasis-runner.ts: the MSGENC cases go over HTTPS in their
 * encoding). The Byte
 * Strings of every answer (key material, plaintexts) are zeroed once the
 * case is over: until then later requests may carry them (`$DATA_0`).
 */
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { wipeByteStrings } from '../../../server/kmip/kmip-connection';
import { CaseBindings, UnboundPlaceholderError } from './oasis-bindings';
import { OasisCase } from './oasis-cases';
import { compareResponse, Difference } from './oasis-compare';
import { learnFromResponse } from './oasis-generated';
import { ApprovePending, settlePending } from './oasis-pending';

/** A connection to the server under test: one request in, its response out. */
export interface KmipExchange {
  exchange(request: TtlvNode): Promise<TtlvNode>;
  close(): void;
}

export interface CaseOutcome {
  readonly testCase: OasisCase;
  readonly passed: boolean;
  /** Steps that agreed before the first difference (all of them when passed). */
  readonly stepsPassed: number;
  /** Items dual control held that officers approved before they were compared (oasis-pending.ts). */
  readonly approved: number;
  /** Where the case stopped: the step (0-based), and the difference or what went wrong. */
  readonly failure?: { readonly step: number; readonly difference?: Difference; readonly error?: string };
}

export interface PlayOptions {
  /** Officers who approve what dual control holds; without them a pending item is compared as it is. */
  readonly approve?: ApprovePending;
  readonly bindings?: CaseBindings;
  /** The objects the server generated key material for in earlier cases of the run (CaseBindings `generated`). */
  readonly generated?: Set<string>;
}

/** A connection for a case (the case decides the transport: oasis-runner.ts). */
export type CaseConnector = (testCase: OasisCase) => Promise<KmipExchange>;

export async function playCase(testCase: OasisCase, connect: CaseConnector, options: PlayOptions = {}): Promise<CaseOutcome> {
  const bindings = options.bindings ?? new CaseBindings(undefined, undefined, options.generated);
  let approved = 0;
  const failed = (step: number, failure: { difference?: Difference; error?: string }): CaseOutcome => ({ testCase, passed: false, stepsPassed: step, approved, failure: { step, ...failure } });
  let connection: KmipExchange;
  try {
    connection = await connect(testCase);
  } catch (error) {
    return failed(0, { error: `could not connect: ${(error as Error).message}` });
  }
  const received: TtlvNode[] = [];
  try {
    for (const [step, { request: template, response: expected }] of testCase.steps.entries()) {
      let request: TtlvNode;
      try {
        request = bindings.resolve(template);
      } catch (error) {
        if (error instanceof UnboundPlaceholderError) return failed(step, { error: error.message });
        throw error;
      }
      let got: TtlvNode;
      try {
        let answer = await connection.exchange(request);
        received.push(answer);
        if (options.approve) {
          const settled = await settlePending(request, answer, (poll) => connection.exchange(poll), options.approve);
          received.push(...settled.polls);
          approved += settled.approved;
          answer = settled.answer;
        }
        got = answer;
        received.push(got);
      } catch (error) {
        return failed(step, { error: (error as Error).message });
      }
      const difference = compareResponse(expected, got, request, bindings);
      if (difference) return failed(step, { difference });
      learnFromResponse(got, bindings);
    }
    return { testCase, passed: true, stepsPassed: testCase.steps.length, approved };
  } finally {
    connection.close();
    for (const answer of received) wipeByteStrings(answer);
  }
}
