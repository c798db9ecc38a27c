/**
 * The compliance report as one self-contained HTML page: inline CSS and an
 * inline SVG chart, no scripts, fonts or links to fetch, so it opens
 * offline and can be archived as evidence. Every string that came from a
 * name, a certificate, a request or the trail is HTML-escaped (htmlText):
 * a key owner or end user written as `<script>…` shows as text. A
 * Content-Security-Policy forbidding scripts is a second line of defence.
 */
import { chainText, countsText, genuineText } from './render-markdown';
import type { ComplianceReport, UpcomingRollovers } from '../../client/types';
import { usageChartSvg } from './usage-chart-svg';

export function htmlText(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #1d1d1f; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #16642b; font-weight: 600; } .broken { color: #a4161a; font-weight: 600; }
svg text { font: 11px sans-serif; fill: #444; } svg .axis { stroke: #888; } svg .allowed { fill: #3a7bd5; } svg .refused { fill: #d5573a; }
.legend span { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 1em; vertical-align: middle; }
`;

function table(headers: string[], rows: Array<Array<{ text: string | number | null; numeric?: boolean }>>): string {
  const head = `<tr>${headers.map((h) => `<th>${htmlText(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((c) => `<td${c.numeric ? ' class="n"' : ''}>${htmlText(c.text)}</td>`).join('')}</tr>`).join('\n');
  return `<table>\n${head}\n${body}\n</table>`;
}

const n = (value: number): { text: number; numeric: true } => ({ text: value, numeric: true });
const t = (value: string | null): { text: string | null } => ({ text: value });

/** The "Upcoming rollovers" section, as in the Markdown rendering. */
function upcomingHtml(upcoming: UpcomingRollovers): string[] {
  const parts = ['<h2>Upcoming rollovers</h2>'];
  if (upcoming.scheduled.length === 0) parts.push(`<p>No automatic rollover in the next ${upcoming.withinDays} days.</p>`);
  else {
    parts.push(
      `<p>Automatic rollovers due in the next ${upcoming.withinDays} days (or overdue), soonest first:</p>`,
      table(['key', 'instance replaced', 'due', 'cryptoperiod', 'notice recorded'], upcoming.scheduled.map((r) => [t(r.key), t(r.instance), t(r.dueAt), t(r.cryptoperiod), t(r.noticedAt)])),
    );
  }
  if (upcoming.omittedScheduled > 0) parts.push(`<p>(${upcoming.omittedScheduled} more rollover(s) due later in the window, not listed.)</p>`);
  if (upcoming.notices.length === 0) parts.push('<p>Rollover notices recorded in the period: none.</p>');
  else {
    parts.push(
      '<p>Rollover notices recorded in the audit trail in the period (<code>rollover-notice</code>):</p>',
      table(['noticed', 'key', 'instance', 'due', 'cryptoperiod', 'genuine'], upcoming.notices.map((n) => [t(n.noticedAt), t(n.key), t(n.instance), t(n.dueAt), t(n.cryptoperiod), t(genuineText(n.genuine))])),
    );
  }
  if (upcoming.omittedNotices > 0) parts.push(`<p>(${upcoming.omittedNotices} more notice(s) not listed.)</p>`);
  return parts;
}

export function renderHtml(report: ComplianceReport): string {
  const { keys, access, dualControl, usage, chain } = report;
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>Strongroom compliance report ${htmlText(report.period.from)} to ${htmlText(report.period.to)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    '<h1>Strongroom compliance report</h1>',
    `<p>Period: ${htmlText(report.period.from)} to ${htmlText(report.period.to)} (end exclusive). Generated ${htmlText(report.generatedAt)}.</p>`,
    '<h2>Audit chain</h2>',
    `<p class="${chain.ok ? 'ok' : 'broken'}">${htmlText(chainText(chain))}</p>`,
    '<h2>Key inventory</h2>',
    `<p>${keys.total} key(s). By algorithm: ${htmlText(countsText(keys.byAlgorithm))}. Instances by state: ${htmlText(countsText(keys.instancesByState))}.</p>`,
  ];
  if (keys.items.length > 0) {
    parts.push(
      table(
        ['key', 'algorithm', 'owner', 'rollover', 'cryptoperiod', 'version', 'last rollover', 'next rollover', 'instances', 'states'],
        keys.items.map((k) => [t(k.name), t(k.algorithm), t(k.owner), t(k.rolloverPolicy), t(k.cryptoperiod), n(k.currentVersion), t(k.lastRolloverAt), t(k.nextRolloverAt), n(k.instances), t(countsText(k.states))]),
      ),
    );
  }
  if (keys.omitted > 0) parts.push(`<p>(${keys.omitted} more key(s) counted above but not listed.)</p>`);
  parts.push(...upcomingHtml(report.upcomingRollovers));
  parts.push('<h2>Key usage</h2>', '<p class="legend"><span style="background:#3a7bd5"></span>allowed<span style="background:#d5573a"></span>refused or failed</p>', usageChartSvg(usage));
  parts.push('<h2>Access</h2>', `<p>${access.events} operation(s): ${access.allowed} allowed, ${access.refused} refused or failed; ${access.authFailures} refused connection(s).</p>`);
  if (access.rows.length === 0) parts.push('<p>No operations in the period.</p>');
  else {
    parts.push(
      table(
        ['key', 'identity', 'role', 'end user', 'operation', 'allowed', 'refused', 'refusals'],
        access.rows.map((r) => [t(r.key), t(r.identity), t(r.role), t(r.endUser), t(r.operation), n(r.allowed), n(r.refused), t(countsText(r.refusals))]),
      ),
    );
  }
  if (access.omittedEvents > 0) parts.push(`<p>(${access.omittedEvents} more event(s) counted above but not broken down.)</p>`);
  parts.push('<h2>Dual control</h2>');
  if (dualControl.requests.length === 0) parts.push('<p>Dual-control requests: none in the period.</p>');
  else {
    parts.push(`<p>Outcomes: ${htmlText(countsText(dualControl.byOutcome))}.</p>`);
    parts.push(
      table(
        ['request', 'operation', 'key', 'requester', 'outcome', 'steps'],
        dualControl.requests.map((r) => [t(r.requestId), t(r.operation), t(r.key), t(r.requester), t(r.outcome), t(r.steps.map((s) => `${s.time} ${s.action} by ${s.by ?? '—'}`).join('; '))]),
      ),
    );
  }
  if (dualControl.omitted > 0) parts.push(`<p>(${dualControl.omitted} more request(s) not listed.)</p>`);
  parts.push('</body></html>', '');
  return parts.join('\n');
}
