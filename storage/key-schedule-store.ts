/**
 * The due-work capability of the keychain store: the read-only queries the
 * lifecycle sweeps run ("what is due at this instant?"): rollovers, process
 * stops, scheduled destructions and instances whose retention ran out.
 *
 * Why it is its own capability: the sweeps only ask these questions and
 * then act through KeyStore like any operation; the queries are indexed
 * scans ordered soonest first and bounded by `limit`, a different shape
 * from the row reads of key-store.ts, and a backend may answer them from a
 * different index without touching the rows' invariants. Every result is
 * ordered by the due date, then by id, so a sweep that resumes after
 * `limit` rows sees the same order. The general contract is in
 * keychain-store.ts.
 */
import { DueActivation, DueDestruction, DueKey, DueProcessStop } from './records';

export interface KeyScheduleStore {
  /** Ids of Deactivated instances with material, not current, no destruction pending, deactivated at or before `beforeIso`. */
  listRetentionExpired(beforeIso: string, limit: number): string[];

  /** Active instances whose process-stop date is at or before `atIso`, soonest first, at most `limit`. */
  listDueProcessStops(atIso: string, limit: number): DueProcessStop[];

  /** PreActive instances whose activation date is at or before `atIso` and whose destruction is not pending, soonest first, at most `limit`. */
  listDueActivations(atIso: string, limit: number): DueActivation[];

  /** Instances whose scheduled destruction is at or before `atIso`, soonest first, at most `limit`. */
  listDueDestructions(atIso: string, limit: number): DueDestruction[];

  /** Keys whose next rollover is at or before `atIso`, soonest first, at most `limit`. */
  listDueKeys(atIso: string, limit: number): DueKey[];
}
