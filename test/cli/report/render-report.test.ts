/**
 * The compliance report's renderings (cli/report/), over the scenario of
 * test/support/report-scenario.ts: Markdown and HTML show the model's
 * figures and escape what came from users (an owner and an end user written
 * as markup); the HTML is self-contained (no script, no external reference).
 */
import { ComplianceReport } from '../../../client/types';
import { renderHtml } from '../../../cli/report/render-html';
import { renderMarkdown } from '../../../cli/report/render-markdown';
import { brokenChainReport, EVENTS, reportScenario, ReportScenario, shortPeriodReport } from '../../support/report-scenario';

describe('compliance report renderings', () => {
  let scenario: ReportScenario;
  let report: ComplianceReport;

  beforeAll(async () => {
    scenario = await reportScenario();
    report = scenario.report;
  });

  it('renders Markdown with the same figures, escaping what users wrote', () => {
    const md = renderMarkdown(report);
    expect(md).toContain('| hr/payroll | AES-256 | &lt;script&gt;alert(1)&lt;/script&gt; | auto | P90D | 2 |');
    expect(md).toContain('| hr/payroll | payroll-app | app | &lt;img src=x onerror=alert(2)&gt; | Get | 3 | 0 | — |');
    expect(md).toContain('| crm/pii | payroll-app | app | — | Get | 0 | 2 | PERMISSION\\_DENIED 2 |');
    expect(md).toContain('6 operation(s): 4 allowed, 2 refused or failed; 1 refused connection(s).');
    expect(md).toContain('3 key(s). By algorithm: AES-128 1, AES-256 1, HMAC-SHA256 1. Instances by state: Active 3, Deactivated 3.');
    expect(md).toContain('| req-1 | Destroy | lab/tmp | admin | executed |');
    expect(md).toContain('| 2026-11-05T00:00:00.000Z | 3 | 0 |');
    expect(md).toContain(`intact: ${EVENTS.length} event(s) verified`);
    expect(md).not.toMatch(/<script|<img/);
  });

  it('renders self-contained HTML: same figures, every user string escaped, no script or external reference', () => {
    const html = renderHtml(report);
    expect(html).not.toMatch(/<script|<img|onerror=alert\(2\)>/i);
    expect(html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
    expect(html).toContain('<td>hr/payroll</td><td>payroll-app</td><td>app</td><td>&lt;img src=x onerror=alert(2)&gt;</td><td>Get</td><td class="n">3</td><td class="n">0</td><td>—</td>');
    expect(html).toContain('<td>crm/pii</td><td>payroll-app</td><td>app</td><td>—</td><td>Get</td><td class="n">0</td><td class="n">2</td><td>PERMISSION_DENIED 2</td>');
    expect(html).toContain('6 operation(s): 4 allowed, 2 refused or failed; 1 refused connection(s).');
    // The chart: one bar per busy bucket and series, sized to the busiest day (3).
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'));
    expect(svg.match(/<rect class="allowed"/g)).toHaveLength(2);
    expect(svg.match(/<rect class="refused"/g)).toHaveLength(1);
    expect(svg).toContain('<title>2026-11-05T00:00:00.000Z: 3 allowed, 0 refused</title>');
    // Offline: nothing to fetch (the SVG namespace is an identifier, not a fetch).
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:|src=["']|<link|@import|url\(/i);
    expect(html).toContain("default-src 'none'");
  });

  it('says "none in the period" when there were no dual-control requests', async () => {
    const short = await shortPeriodReport(scenario);
    expect(renderMarkdown(short)).toContain('Dual-control requests: none in the period.');
    expect(renderHtml(short)).toContain('Dual-control requests: none in the period.');
  });

  it('renders the upcoming rollovers and their notices, escaping what the trail holds', () => {
    const hostile = '<img src=x onerror=alert(3)>|x';
    const withUpcoming: ComplianceReport = {
      ...report,
      upcomingRollovers: {
        withinDays: 30,
        scheduled: [
          { key: 'hr/payroll', instance: 'hr/payroll#2', dueAt: '2026-12-03T00:00:00.000Z', cryptoperiod: 'P90D', noticedAt: '2026-11-26T00:00:10.000Z' },
          { key: 'lab/tmp', instance: 'lab/tmp#3', dueAt: '2026-12-20T00:00:00.000Z', cryptoperiod: 'P30D', noticedAt: null },
        ],
        omittedScheduled: 4,
        notices: [
          { noticedAt: '2026-11-26T00:00:10.000Z', key: 'hr/payroll', instance: hostile, dueAt: '2026-12-03T00:00:00.000Z', cryptoperiod: 'P90D', genuine: true },
          { noticedAt: '2026-11-27T00:00:00.000Z', key: 'lab/tmp', instance: 'lab/tmp#3', dueAt: '2026-12-20T00:00:00.000Z', cryptoperiod: 'P30D', genuine: false },
        ],
        omittedNotices: 0,
      },
    };
    const md = renderMarkdown(withUpcoming);
    const section = md.slice(md.indexOf('## Upcoming rollovers'), md.indexOf('## Access'));
    expect(section).toContain('| hr/payroll | hr/payroll\\#2 | 2026-12-03T00:00:00.000Z | P90D | 2026-11-26T00:00:10.000Z |');
    expect(section).toContain('| lab/tmp | lab/tmp\\#3 | 2026-12-20T00:00:00.000Z | P30D | — |');
    expect(section).toContain('(4 more rollover(s) due later in the window, not listed.)');
    expect(section).toContain('| 2026-11-26T00:00:10.000Z | hr/payroll | &lt;img src=x onerror=alert(3)&gt;\\|x | 2026-12-03T00:00:00.000Z | P90D | yes |');
    expect(section).toContain('| 2026-11-27T00:00:00.000Z | lab/tmp | lab/tmp\\#3 | 2026-12-20T00:00:00.000Z | P30D | NO: not written by this appliance |');
    const html = renderHtml(withUpcoming);
    expect(html).toContain('<h2>Upcoming rollovers</h2>');
    expect(html).toContain('<td>lab/tmp</td><td>lab/tmp#3</td><td>2026-12-20T00:00:00.000Z</td><td>P30D</td><td>—</td>');
    expect(html).toContain('<td>&lt;img src=x onerror=alert(3)&gt;|x</td><td>2026-12-03T00:00:00.000Z</td><td>P90D</td><td>yes</td>');
    expect(html).toContain('<td>NO: not written by this appliance</td>');
    expect(html).not.toMatch(/<img/);
  });

  it('says when no rollover comes and no notice was recorded', () => {
    const quiet: ComplianceReport = { ...report, upcomingRollovers: { withinDays: 30, scheduled: [], omittedScheduled: 0, notices: [], omittedNotices: 0 } };
    expect(renderMarkdown(quiet)).toContain('No automatic rollover in the next 30 days.');
    expect(renderMarkdown(quiet)).toContain('Rollover notices recorded in the period: none.');
    expect(renderHtml(quiet)).toContain('<p>No automatic rollover in the next 30 days.</p>');
  });

  it('names the first broken event of the chain', async () => {
    expect(renderMarkdown(await brokenChainReport(scenario))).toContain('BROKEN at event 2');
  });
});
