/**
 * Rollover notices, where officers look. Once an `auto` key comes within
 * `rollover_notice` of its rollover, the scheduler records ONE audit event
 * `rollover-notice` naming the key, the instance the rollover replaces, the
 * due date and the cryptoperiod. It goes through the normal audit path, so
 * the SIEM sinks, `audit search` and the compliance report have it; once it
 * is durable it is logged and told to the live event stream.
 *
 * Once per key, instance and due date: across sweeps by what this process
 * recorded, across restarts by what the trail holds — read from where the
 * last look stopped, and a notice found there counts only when its MAC is
 * the keychain's (trust/rollover-notice-mac.ts). A notice written into the
 * file by someone else, to keep the appliance quiet, is logged as such and
 * the genuine one is recorded. A notice the trail cannot take is not
 * marked, and is tried again at the next check.
 */
import { timingSafeEqual } from 'node:crypto';
import { KeychainError } from '../common/errors';
import { Logger } from '../common/logger';
import { AuditStore } from '../storage/audit-store';
import { AuditEvent, EventStamper } from './audit/audit-event';
import { adminEvent } from './audit/audit-events';
import { Keychain } from './keychain';

export const ROLLOVER_NOTICE_EVENT = 'rollover-notice';
/** Most upcoming rollovers looked at per check (the soonest): bounds a check's work. */
export const MAX_NOTICES_PER_CHECK = 1000;
/** Trail records read per page while looking for notices already recorded. */
const TRAIL_PAGE = 1000;

export interface RolloverNotice {
  readonly keyId: string;
  /** The key's full name. */
  readonly key: string;
  /** The instance the rollover replaces (the key's current one). */
  readonly instance: string;
  /** ISO 8601 UTC. */
  readonly dueAt: string;
  readonly cryptoperiod: string | null;
}

/** The audit event of a notice: the key and instance in their usual fields, the rest in `custom` (strings, as every custom field). */
export function rolloverNoticeEvent(stamper: EventStamper, notice: RolloverNotice, noticePeriod: string, noticeMac: string): AuditEvent {
  const custom: Record<string, string> = { dueAt: notice.dueAt, noticePeriod, keyId: notice.keyId, noticeMac };
  if (notice.cryptoperiod !== null) custom.cryptoperiod = notice.cryptoperiod;
  return { ...adminEvent(stamper, ROLLOVER_NOTICE_EVENT, notice.key, notice.instance), custom };
}

/**
 * Whether a `rollover-notice` event is one this appliance recorded: its
 * `custom.noticeMac` is the keychain's MAC of its key id, instance and due
 * date (trust/rollover-notice-mac.ts). Null while the keychain is sealed
 * (nothing to check with).
 */
export function isAppliancesNotice(keychain: Keychain, event: AuditEvent): boolean | null {
  const { keyId, dueAt, noticeMac } = event.custom;
  if (keyId === undefined || dueAt === undefined || event.instance === null) return keychain.isSealed ? null : false;
  const expected = keychain.rolloverNoticeMac({ keyId, instance: event.instance, dueAt });
  if (expected === null) return null;
  return typeof noticeMac === 'string' && noticeMac.length === expected.length && timingSafeEqual(Buffer.from(expected), Buffer.from(noticeMac));
}

export interface RolloverNoticesOptions {
  readonly keychain: Keychain;
  /** The trail, read to learn which notices it already holds. */
  readonly audit: AuditStore;
  readonly stamper: EventStamper;
  readonly log: Logger;
  /** rollover_notice in milliseconds (0: no notices), and as configured (P7D). */
  readonly noticeMs: number;
  readonly noticePeriod: string;
  /** Resolves once the event is durable (the audit pipeline's record). */
  readonly record: (event: AuditEvent) => Promise<void>;
  /** Told of each notice once it is durable (the live event stream). */
  readonly onRecorded?: (notice: RolloverNotice) => void;
  /** Awaited between pages of the trail (a server yields to its event loop). */
  readonly pause?: () => Promise<void>;
}

export class RolloverNotices {
  /** `keyId@dueAt` of the notices the trail holds (authenticated, or recorded by this process), with their due time: dropped once due. */
  private readonly recorded = new Map<string, number>();
  /** The next trail seq to look at. */
  private nextSeq = 1;

  constructor(private readonly options: RolloverNoticesOptions) {}

  /** Records the notices due at `nowMs` that the trail does not hold yet; answers how many. Never throws: a failure is logged, and the next check tries again. */
  async check(nowMs: number): Promise<number> {
    const { keychain, noticeMs, log } = this.options;
    if (noticeMs <= 0 || keychain.isSealed) return 0;
    for (const [tag, dueMs] of this.recorded) if (dueMs <= nowMs) this.recorded.delete(tag);
    let caughtUp = false;
    let count = 0;
    try {
      for (const due of keychain.dueKeys(nowMs + noticeMs, MAX_NOTICES_PER_CHECK)) {
        if (Date.parse(due.nextRolloverAt) <= nowMs || this.recorded.has(`${due.keyId}@${due.nextRolloverAt}`)) continue;
        if (!caughtUp) {
          await this.readTrail(nowMs);
          caughtUp = true;
          if (this.recorded.has(`${due.keyId}@${due.nextRolloverAt}`)) continue;
        }
        const notice = this.noticeOf(due.keyId, nowMs);
        if (notice === null || this.recorded.has(`${notice.keyId}@${notice.dueAt}`)) continue;
        await this.recordNotice(notice);
        count++;
      }
    } catch (err) {
      // AUDIT_UNAVAILABLE (the trail could not take one) or SEALED (sealed meanwhile): the unrecorded rest waits for the next check.
      log.error('rollover notices stopped; the next check tries again', { code: (err as { code?: string }).code ?? 'INTERNAL_ERROR' });
    }
    return count;
  }

  /**
   * The notice of a key's next rollover, from its authenticated row; null
   * when it is not within the notice period after all, or cannot be read
   * (removed meanwhile, or a row that fails authentication: logged, and the
   * other keys still get their notices).
   */
  private noticeOf(keyId: string, nowMs: number): RolloverNotice | null {
    const { keychain, noticeMs, log } = this.options;
    let key;
    try {
      key = keychain.describeKey(keychain.keyNameById(keyId)).key;
    } catch (err) {
      if ((err as { code?: string }).code === 'SEALED') throw err;
      log.error('rollover notice skipped: the key could not be read', { keyId, code: (err as { code?: string }).code ?? 'INTERNAL_ERROR' });
      return null;
    }
    const dueMs = key.nextRolloverAt === null ? Number.NaN : Date.parse(key.nextRolloverAt);
    if (!(dueMs > nowMs && dueMs <= nowMs + noticeMs)) return null;
    return { keyId, key: key.fullName, instance: key.currentInstance, dueAt: key.nextRolloverAt as string, cryptoperiod: key.cryptoperiod };
  }

  private async recordNotice(notice: RolloverNotice): Promise<void> {
    const { keychain, stamper, noticePeriod, log } = this.options;
    const mac = keychain.rolloverNoticeMac(notice);
    if (mac === null) return;
    await this.options.record(rolloverNoticeEvent(stamper, notice, noticePeriod, mac));
    this.recorded.set(`${notice.keyId}@${notice.dueAt}`, Date.parse(notice.dueAt));
    log.info('rollover coming', { key: notice.key, instance: notice.instance, at: notice.dueAt });
    this.options.onRecorded?.(notice);
  }

  /** Reads the trail from where the last look stopped, keeping the authenticated notices of rollovers still to come. */
  private async readTrail(nowMs: number): Promise<void> {
    const { audit, pause } = this.options;
    for (;;) {
      const page = audit.readAuditRecords(this.nextSeq, TRAIL_PAGE);
      for (const record of page) {
        this.take(record.seq, record.event, nowMs);
        // Only past a record taken: one that threw (sealed meanwhile) is read again next time.
        this.nextSeq = record.seq + 1;
      }
      if (page.length < TRAIL_PAGE) return;
      await pause?.();
    }
  }

  /** Keeps a stored event when it is a genuine notice of a rollover still to come; logs a notice the appliance did not write. */
  private take(seq: number, canonical: string, nowMs: number): void {
    // Parsing is most of the cost: only records that can be a notice are parsed.
    if (!canonical.includes(`"${ROLLOVER_NOTICE_EVENT}"`)) return;
    const event = JSON.parse(canonical) as AuditEvent;
    if (event.type !== ROLLOVER_NOTICE_EVENT) return;
    const { keyId, dueAt } = event.custom;
    const dueMs = Date.parse(dueAt ?? '');
    if (!(dueMs > nowMs)) return;
    const genuine = isAppliancesNotice(this.options.keychain, event);
    if (genuine === null) throw new KeychainError('SEALED', 'the keychain was sealed while reading rollover notices');
    if (genuine) this.recorded.set(`${keyId}@${dueAt}`, dueMs);
    else this.options.log.warn('a rollover notice in the audit trail is not one this appliance wrote: it does not count, the notice is recorded again', { seq, key: event.key });
  }
}
