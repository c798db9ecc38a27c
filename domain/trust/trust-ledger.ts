/**
 * Freshness of the authenticated rows: a keyed set-hash over the MAC of
 * every row the server decides from (keys, instances, aliases, clients,
 * grants, approval requests, votes, quorums), with a counter of changes.
 *
 * The set-hash is the XOR of HMAC(set key, table ‖ row MAC) over all rows.
 * Inserting, updating or deleting a row XORs its old and new elements in or
 * out, so each write costs two HMACs, not a rescan. XOR of a PRF is a sound
 * set MAC only while its values are secret: the set-hash and counter are
 * stored AES-GCM sealed (counter in the AAD) under the state key, so the
 * file never shows an element or a sum an attacker could combine.
 *
 * What it catches: a row written back from an older copy (a revoked client,
 * a Compromised instance made Active again, a deleted grant restored), a row
 * deleted, a row inserted with a MAC copied from elsewhere, the journal or
 * the state itself tampered with. The full check runs at every unseal and at
 * every audit checkpoint; a mismatch is INTEGRITY_FAILURE.
 *
 * Every keychain write runs the hooks (storage/sqlite-connection.ts): before
 * it, the journal must be empty (rows journaled outside a write were not
 * written by the appliance); after it, the journal is folded into the state
 * in the same transaction, so a change and its place in the set-hash commit
 * together. A write while sealed that touched authenticated rows cannot be
 * folded and is undone (SEALED).
 *
 * Not caught here: the whole file (state included) swapped for an older
 * copy, which is consistent with itself. docs/threat-model.md says what
 * covers that and what does not.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Clock, isoNow } from '../../common/clock';
import { KeychainError } from '../../common/errors';
import { wipe } from '../../common/secret';
import { AUTHENTICATED_TABLES } from '../../storage/migration-trust.sql';
import { TrustJournalEntry, TrustJournalStore } from '../../storage/trust-journal-store';
import { encodeFields } from '../field-encoding';
import { openWithAad, sealWithAad } from '../instance-seal';
import { TrustKeys } from './trust-keys';

const SET_HASH_BYTES = 32;
/** Rows between two returns to the event loop in checkInSteps (about 10 ms of HMACs). */
const ROWS_PER_STEP = 1000;
const FOREIGN_JOURNAL = 'the trust journal holds changes no write of the appliance made: the keychain database was altered outside it';
const MISMATCH = 'the authenticated rows of the keychain database do not match its trust state: a row was written back from an older copy, deleted or inserted outside the appliance';

/** What the full check found: the state's counter (how many changes this keychain has seen) and the rows counted. */
export interface TrustCheck {
  readonly counter: number;
  readonly rows: number;
}

function integrity(message: string): KeychainError {
  return new KeychainError('INTEGRITY_FAILURE', message);
}

export class TrustLedger {
  constructor(
    private readonly store: TrustJournalStore,
    private readonly keys: () => TrustKeys | null,
    private readonly clock: Clock,
  ) {}

  /** Installs the write hooks on the store. */
  attach(): void {
    // The check before a write may travel with the write's first statement (PostgreSQL): it still fails the write, before it commits.
    this.store.setWriteHooks({ beforeWrite: () => this.store.requireEmptyJournal({ code: 'INTEGRITY_FAILURE', message: FOREIGN_JOURNAL }), afterWrite: () => this.fold() });
  }

  /**
   * At unseal, before anything is served: checks the rows against the
   * stored state; a keychain that has none yet (made before schema 12, or
   * this is the first unseal of a new one) gets one from the rows as they
   * are: trust on first unseal, which the caller records in the trail.
   */
  openAtUnseal(keys: TrustKeys): { readonly established: boolean } & TrustCheck {
    this.assertJournalEmpty();
    if (this.store.getTrustState() === null) {
      const { hash, rows } = this.scan(keys);
      this.store.putTrustState({ counter: 0, sealed: this.sealState(keys, 0, hash), updatedAt: isoNow(this.clock) });
      wipe(hash);
      return { established: true, counter: 0, rows };
    }
    return { established: false, ...this.checkWith(keys) };
  }

  /** The stored counter as the file says (unauthenticated until openAtUnseal or check), or null without a trust state. */
  storedCounter(): number | null {
    return this.store.getTrustState()?.counter ?? null;
  }

  /** The full check (at each audit checkpoint): INTEGRITY_FAILURE when the rows are not the ones the state counts. */
  check(): TrustCheck {
    const keys = this.keys();
    if (keys === null) throw new KeychainError('SEALED', 'the keychain is sealed: its rows cannot be checked');
    return this.checkWith(keys);
  }

  /**
   * The full check without holding up the appliance (at each audit
   * checkpoint): it walks a snapshot read on a connection of its own, and
   * gives the event loop back every `rowsPerStep` rows, while writes go on.
   * Resolves null when the keychain was sealed meanwhile (no verdict).
   */
  async checkInSteps(pause: () => Promise<void>, rowsPerStep = ROWS_PER_STEP): Promise<TrustCheck | null> {
    const keys = this.keys();
    if (keys === null) return null;
    const snapshot = this.store.openSnapshot();
    try {
      if (snapshot.journalLength > 0) throw integrity(FOREIGN_JOURNAL);
      if (snapshot.state === null) throw integrity('the keychain database has lost its trust state: it was altered outside the appliance');
      const expected = this.openSealed(keys, snapshot.state.counter, snapshot.state.sealed);
      const hash = Buffer.alloc(SET_HASH_BYTES);
      let rows = 0;
      for (const table of AUTHENTICATED_TABLES) {
        for (const mac of snapshot.rowMacs(table)) {
          xorInto(hash, element(keys, table, mac));
          if (++rows % rowsPerStep === 0) await pause();
        }
      }
      // Sealed meanwhile: the keys were zeroed under the walk, so there is no verdict to give.
      if (this.keys() !== keys) return null;
      const same = timingSafeEqual(hash, expected);
      wipe(hash, expected);
      if (!same) throw integrity(MISMATCH);
      return { counter: snapshot.state.counter, rows };
    } finally {
      snapshot.close();
    }
  }

  /**
   * For a restored copy (docs/backup.md §5): the full check, then the same
   * set-hash sealed again at `counter` (above every counter the HSM token or
   * the replaced file has seen), so the restored file is the newest copy of
   * its keychain and the replaced one the older that unseal refuses.
   */
  resealAt(keys: TrustKeys, counter: number): TrustCheck {
    const checked = this.checkWith(keys);
    if (counter <= checked.counter) throw new KeychainError('WRONG_STATE', `a restored trust state moves forward only (from ${checked.counter}, not to ${counter})`);
    const { hash } = this.openState(keys);
    this.store.putTrustState({ counter, sealed: this.sealState(keys, counter, hash), updatedAt: isoNow(this.clock) });
    wipe(hash);
    return { counter, rows: checked.rows };
  }

  private checkWith(keys: TrustKeys): TrustCheck {
    this.assertJournalEmpty();
    const { counter, hash: expected } = this.openState(keys);
    const { hash, rows } = this.scan(keys);
    const same = timingSafeEqual(hash, expected);
    wipe(hash, expected);
    if (!same) throw integrity(MISMATCH);
    return { counter, rows };
  }

  private assertJournalEmpty(): void {
    if (this.store.journalLength() > 0) throw integrity(FOREIGN_JOURNAL);
  }

  private fold(): void {
    // The journal and the state in one read: on PostgreSQL each read is a round trip the event loop waits for.
    const { entries, state } = this.store.takeJournalWithState();
    if (entries.length === 0) return;
    const keys = this.keys();
    if (keys === null) throw new KeychainError('SEALED', 'the keychain is sealed: authenticated rows change only while it is unsealed');
    const { counter, hash } = this.openState(keys, state);
    for (const entry of entries) xorChange(keys, hash, entry);
    const next = counter + 1;
    this.store.putTrustState({ counter: next, sealed: this.sealState(keys, next, hash), updatedAt: isoNow(this.clock) });
    wipe(hash);
  }

  private scan(keys: TrustKeys): { hash: Buffer; rows: number } {
    const hash = Buffer.alloc(SET_HASH_BYTES);
    let rows = 0;
    for (const table of AUTHENTICATED_TABLES) {
      for (const mac of this.store.rowMacs(table)) {
        xorInto(hash, element(keys, table, mac));
        rows++;
      }
    }
    return { hash, rows };
  }

  private openState(keys: TrustKeys, state = this.store.getTrustState()): { counter: number; hash: Buffer } {
    if (state === null) throw integrity('the keychain database has lost its trust state: it was altered outside the appliance');
    return { counter: state.counter, hash: this.openSealed(keys, state.counter, state.sealed) };
  }

  private openSealed(keys: TrustKeys, counter: number, sealed: Buffer): Buffer {
    const hash = openWithAad(keys.state, stateAad(keys, counter), sealed, (why) => integrity(`the keychain's trust state failed authentication (${why})`));
    if (hash.length !== SET_HASH_BYTES) throw integrity('the keychain trust state has the wrong length');
    return hash;
  }

  private sealState(keys: TrustKeys, counter: number, hash: Buffer): Buffer {
    return sealWithAad(keys.state, stateAad(keys, counter), hash);
  }
}

function stateAad(keys: TrustKeys, counter: number): Buffer {
  return encodeFields(['strongroom/trust-state/v1', keys.keychainId, counter]);
}

/** Each table's element prefix, encoded once (the full check computes one element per row). */
const ELEMENT_PREFIX = new Map<string, Buffer>();

function element(keys: TrustKeys, table: string, mac: Buffer): Buffer {
  let prefix = ELEMENT_PREFIX.get(table);
  if (prefix === undefined) {
    prefix = encodeFields(['strongroom/trust-element/v1', table]);
    ELEMENT_PREFIX.set(table, prefix);
  }
  return createHmac('sha256', keys.setKeyObject).update(prefix).update(mac).digest();
}

function xorInto(target: Buffer, value: Buffer): void {
  for (let i = 0; i < target.length; i++) target[i] ^= value[i];
}

function xorChange(keys: TrustKeys, hash: Buffer, entry: TrustJournalEntry): void {
  if (entry.oldMac !== null) xorInto(hash, element(keys, entry.table, entry.oldMac));
  if (entry.newMac !== null) xorInto(hash, element(keys, entry.table, entry.newMac));
}
