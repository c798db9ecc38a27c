/**
 * The compliance report as Markdown. Every string that came from a name, a
 * certificate or a request (end users, owners, error codes) is escaped, so
 * it can neither break a table nor inject HTML when a viewer renders the
 * Markdown.
 */
import type { ComplianceReport, ChainStatus, UpcomingRollovers } from '../../client/types';

/** Markdown-safe cell text: no table breaks, no HTML, no emphasis or code spans. */
export function mdText(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_[\]|#~]/g, (c) => `\\${c}`)
    .replace(/\r?\n|\r/g, ' ');
}

export function countsText(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.length === 0 ? '—' : entries.map(([name, n]) => `${name} ${n}`).join(', ');
}

export function chainText(chain: ChainStatus): string {
  if (chain.ok) {
    const signed = chain.checkpoints === 0 ? 'no signed checkpoint yet' : `${chain.checkpoints} HSM-signed checkpoint(s)${chain.signaturesChecked ? '' : ' (signatures not checked: no trusted key)'}, the newest at seq ${chain.lastCheckpointSeq}, ${chain.unsignedTail} event(s) after it`;
    return `intact: ${chain.events} event(s) verified; ${signed}; head seq ${chain.headSeq ?? '—'}, hash ${chain.headHash ?? '—'}`;
  }
  return `BROKEN at event ${chain.firstBadSeq}: ${chain.reason} (${chain.events} event(s) verified before it; head seq ${chain.headSeq ?? '—'})`;
}

function table(headers: string[], rows: string[][]): string[] {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

/** Whether a recorded notice is the appliance's own: a forged one is said loudly. */
export function genuineText(genuine: boolean | null): string {
  return genuine === null ? 'not checked (sealed)' : genuine ? 'yes' : 'NO: not written by this appliance';
}

/** The "Upcoming rollovers" section: what rolls within the window (and whether its notice is in the trail), then the notices of the period. */
function upcomingMarkdown(upcoming: UpcomingRollovers): string[] {
  const lines = ['## Upcoming rollovers', ''];
  if (upcoming.scheduled.length === 0) lines.push(`No automatic rollover in the next ${upcoming.withinDays} days.`, '');
  else {
    lines.push(
      `Automatic rollovers due in the next ${upcoming.withinDays} days (or overdue), soonest first:`,
      '',
      ...table(
        ['key', 'instance replaced', 'due', 'cryptoperiod', 'notice recorded'],
        upcoming.scheduled.map((r) => [mdText(r.key), mdText(r.instance), mdText(r.dueAt), mdText(r.cryptoperiod), mdText(r.noticedAt)]),
      ),
      '',
    );
  }
  if (upcoming.omittedScheduled > 0) lines.push(`(${upcoming.omittedScheduled} more rollover(s) due later in the window, not listed.)`, '');
  if (upcoming.notices.length === 0) lines.push('Rollover notices recorded in the period: none.', '');
  else {
    lines.push(
      'Rollover notices recorded in the audit trail in the period (`rollover-notice`):',
      '',
      ...table(['noticed', 'key', 'instance', 'due', 'cryptoperiod', 'genuine'], upcoming.notices.map((n) => [mdText(n.noticedAt), mdText(n.key), mdText(n.instance), mdText(n.dueAt), mdText(n.cryptoperiod), genuineText(n.genuine)])),
      '',
    );
  }
  if (upcoming.omittedNotices > 0) lines.push(`(${upcoming.omittedNotices} more notice(s) not listed.)`, '');
  return lines;
}

export function renderMarkdown(report: ComplianceReport): string {
  const { keys, access, dualControl, usage, chain } = report;
  const lines: string[] = [
    '# Strongroom compliance report',
    '',
    `Period: ${report.period.from} to ${report.period.to} (end exclusive). Generated ${report.generatedAt}.`,
    '',
    '## Audit chain',
    '',
    mdText(chainText(chain)),
    '',
    '## Key inventory',
    '',
    `${keys.total} key(s). By algorithm: ${mdText(countsText(keys.byAlgorithm))}. Instances by state: ${mdText(countsText(keys.instancesByState))}.`,
    '',
  ];
  if (keys.items.length > 0) {
    lines.push(
      ...table(
        ['key', 'algorithm', 'owner', 'rollover', 'cryptoperiod', 'version', 'last rollover', 'next rollover', 'instances', 'states'],
        keys.items.map((k) => [mdText(k.name), mdText(k.algorithm), mdText(k.owner), mdText(k.rolloverPolicy), mdText(k.cryptoperiod), String(k.currentVersion), mdText(k.lastRolloverAt), mdText(k.nextRolloverAt), String(k.instances), mdText(countsText(k.states))]),
      ),
      '',
    );
  }
  if (keys.omitted > 0) lines.push(`(${keys.omitted} more key(s) counted above but not listed.)`, '');
  lines.push(...upcomingMarkdown(report.upcomingRollovers));
  lines.push(
    '## Access',
    '',
    `${access.events} operation(s): ${access.allowed} allowed, ${access.refused} refused or failed; ${access.authFailures} refused connection(s).`,
    '',
  );
  if (access.rows.length === 0) lines.push('No operations in the period.', '');
  else {
    lines.push(
      ...table(
        ['key', 'identity', 'role', 'end user', 'operation', 'allowed', 'refused', 'refusals'],
        access.rows.map((r) => [mdText(r.key), mdText(r.identity), mdText(r.role), mdText(r.endUser), mdText(r.operation), String(r.allowed), String(r.refused), mdText(countsText(r.refusals))]),
      ),
      '',
    );
  }
  if (access.omittedEvents > 0) lines.push(`(${access.omittedEvents} more event(s) counted above but not broken down.)`, '');
  lines.push('## Dual control', '');
  if (dualControl.requests.length === 0) lines.push('Dual-control requests: none in the period.', '');
  else {
    lines.push(`Outcomes: ${mdText(countsText(dualControl.byOutcome))}.`, '');
    lines.push(
      ...table(
        ['request', 'operation', 'key', 'requester', 'outcome', 'steps'],
        dualControl.requests.map((r) => [mdText(r.requestId), mdText(r.operation), mdText(r.key), mdText(r.requester), mdText(r.outcome), r.steps.map((s) => `${mdText(s.time)} ${mdText(s.action)} by ${mdText(s.by)}`).join('; ')]),
      ),
      '',
    );
  }
  if (dualControl.omitted > 0) lines.push(`(${dualControl.omitted} more request(s) not listed.)`, '');
  const perBucket = usage.bucketMs === 3_600_000 ? 'hour' : usage.bucketMs === 86_400_000 ? 'day' : `${usage.bucketMs / 86_400_000} days`;
  const busy = usage.buckets.filter((b) => b.allowed + b.refused > 0);
  lines.push(`## Key usage per ${perBucket}`, '');
  if (busy.length === 0) lines.push('No key operations in the period.', '');
  else lines.push(...table(['from', 'allowed', 'refused'], busy.map((b) => [b.start, String(b.allowed), String(b.refused)])), '');
  return lines.join('\n');
}
