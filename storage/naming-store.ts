/**
 * The naming capability of the keychain store: the names laid over keys
 * rather than the keys themselves. Aliases (a second name that points at a
 * key and can be moved) and namespaces (the first part of every key name,
 * summarised and deleted as a whole).
 *
 * Why aliases and namespaces go together: deleting a namespace must take the
 * aliases that point into it in the same transaction (an alias never points
 * at a missing key), so the two share rows and one writer. Neither changes a
 * key or instance row's content; they are separate from key-store.ts so the
 * hot path's capability stays small. The general contract is in
 * keychain-store.ts.
 */
import { AliasRecord, NamespaceSummary } from './records';

export interface NamingStore {
  /** Creates or moves an alias; STORAGE_ERROR when its key does not exist. */
  putAlias(alias: AliasRecord): void;
  getAlias(alias: string): AliasRecord | null;
  /** ALIAS_NOT_FOUND when absent; returns what was removed. */
  deleteAlias(alias: string): AliasRecord;
  /** Ordered by alias. */
  listAliases(): AliasRecord[];

  /** Every namespace with its key count and how many keys still have an instance that is not destroyed. */
  listNamespaces(): NamespaceSummary[];
  /** Deletes a namespace's keys, their instances and the aliases pointing at them, in one transaction. */
  deleteNamespace(namespace: string): number;
}
