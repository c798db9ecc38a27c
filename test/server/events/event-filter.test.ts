/**
 * The event stream's filters and message text (pure): strict validation of
 * the URL query and the subscribe message, matching by kind, audit type and
 * namespace, and the audit message being the export line with `kind`.
 */
import { AuditEvent, canonicalEvent } from '../../../domain/audit/audit-event';
import { auditLineOfLive, parseAuditLine } from '../../../protocol/audit-line';
import { AuditLiveEvent, LiveEvent } from '../../../domain/events/event-bus';
import { filterFromMessage, filterFromQuery, makeFilter, matches } from '../../../server/events/event-filter';
import { encodeLiveEvent, errorCodeOfClose } from '../../../protocol/event-wire';
import { codeOf } from '../../support/error-code';

function audit(type: string, key: string | null): AuditLiveEvent {
  const event: AuditEvent = { time: '2026-01-01T00:00:00.000Z', eventId: 'e1', type, identity: null, endUser: null, purpose: null, source: null, operation: 'Get', key, instance: null, result: 'ok', requestId: 1, custom: {} };
  return { kind: 'audit', seq: 7, hash: 'a'.repeat(64), prevHash: 'b'.repeat(64), canonical: canonicalEvent(event), event };
}
const notice = (key: string): LiveEvent => ({ kind: 'rollover-notice', key, namespace: key.split('/')[0], dueAt: 'x', time: 'y' });

describe('event filters', () => {
  it('matches by kind, audit type and namespace (multi-segment namespaces included; keyless events only without a namespace filter)', () => {
    const hr = makeFilter({ namespaces: ['hr', 'eu/hr'] });
    expect(matches(hr, audit('operation', 'hr/payroll'))).toBe(true);
    expect(matches(hr, audit('operation', 'eu/hr/payroll'))).toBe(true);
    expect(matches(hr, audit('operation', 'payroll/run'))).toBe(false);
    expect(matches(hr, audit('auth-failure', null))).toBe(false);
    expect(matches(hr, notice('hr/k'))).toBe(true);
    expect(matches(makeFilter({}), audit('auth-failure', null))).toBe(true);
    const failures = makeFilter({ types: ['audit'], auditTypes: ['auth-failure'] });
    expect(matches(failures, audit('auth-failure', null))).toBe(true);
    expect(matches(failures, audit('operation', 'hr/k'))).toBe(false);
    expect(matches(failures, notice('hr/k'))).toBe(false);
  });

  it.each<[string, string]>([
    ['unknown parameter', 'type=audit'],
    ['unknown kind', 'types=audits'],
    ['empty list', 'types='],
    ['parameter twice', 'types=audit&types=approval'],
    ['bad namespace', 'namespaces=hr/../x'],
    ['namespace starting with a dash', 'namespaces=-hr'],
    ['audit type with a space', 'auditTypes=auth%20failure'],
    ['audit types without audit', 'types=approval&auditTypes=operation'],
    ['too many entries', `namespaces=${Array.from({ length: 33 }, (_, i) => `n${i}`).join(',')}`],
    ['over-long namespace', `namespaces=${'a'.repeat(201)}`],
  ])('refuses a query with %s (INVALID_ARGUMENT)', (_title, query) => {
    expect(codeOf(() => filterFromQuery(new URLSearchParams(query)))).toBe('INVALID_ARGUMENT');
  });

  it.each<[string, unknown]>([
    ['not an object', []],
    ['no op', { types: ['audit'] }],
    ['another op', { op: 'unsubscribe' }],
    ['an unknown field', { op: 'subscribe', kinds: ['audit'] }],
    ['a list that is a string', { op: 'subscribe', types: 'audit' }],
    ['a non-string entry', { op: 'subscribe', namespaces: [1] }],
  ])('refuses a subscribe message with %s (INVALID_ARGUMENT)', (_title, message) => {
    expect(codeOf(() => filterFromMessage(message))).toBe('INVALID_ARGUMENT');
  });

  it('takes a valid subscribe message, null meaning "all"', () => {
    const filter = filterFromMessage({ op: 'subscribe', types: ['audit'], auditTypes: null, namespaces: ['hr'] });
    expect([...filter.kinds]).toEqual(['audit']);
    expect(filter.auditTypes).toBeNull();
    expect([...(filter.namespaces ?? [])]).toEqual(['hr']);
  });
});

describe('event messages', () => {
  it('sends an audit event as the export line with kind first, which parses back as an audit line', () => {
    const live = audit('operation', 'hr/payroll');
    const text = encodeLiveEvent(live);
    expect(text).toBe(`{"kind":"audit",${auditLineOfLive(live).slice(1)}`);
    const record = parseAuditLine(text, 1);
    expect(record.seq).toBe(7);
    expect(record.event).toBe(live.canonical);
  });

  it('maps close codes to error codes', () => {
    expect(errorCodeOfClose(4408)).toBe('SUBSCRIBER_TOO_SLOW');
    expect(errorCodeOfClose(4401)).toBe('UNAUTHENTICATED');
    expect(errorCodeOfClose(4400)).toBe('INVALID_ARGUMENT');
    expect(errorCodeOfClose(1001)).toBe('UNAVAILABLE');
  });
});
