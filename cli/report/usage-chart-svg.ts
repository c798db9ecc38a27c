/**
 * The report's chart of key usage over time as an inline SVG: one stacked
 * bar per bucket (allowed below, refused above), an axis with the busiest
 * count and the period's first and last dates. Self-contained (no scripts,
 * no fonts, no external references), so the HTML report works offline.
 * Only numbers and ISO dates go in; the caller escapes nothing here.
 */
import type { UsageSeries } from '../../client/types';

const WIDTH = 900;
const HEIGHT = 220;
const MARGIN = { left: 48, right: 12, top: 12, bottom: 36 };

export function usageChartSvg(usage: UsageSeries): string {
  const buckets = usage.buckets;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const max = Math.max(1, ...buckets.map((b) => b.allowed + b.refused));
  const slot = plotWidth / Math.max(1, buckets.length);
  const barWidth = Math.max(1, slot * 0.8);
  const bars: string[] = [];
  buckets.forEach((bucket, i) => {
    const x = (MARGIN.left + i * slot + (slot - barWidth) / 2).toFixed(2);
    const allowedHeight = (bucket.allowed / max) * plotHeight;
    const refusedHeight = (bucket.refused / max) * plotHeight;
    const base = MARGIN.top + plotHeight;
    const title = `<title>${bucket.start}: ${bucket.allowed} allowed, ${bucket.refused} refused</title>`;
    if (bucket.allowed > 0) bars.push(`<rect class="allowed" x="${x}" y="${(base - allowedHeight).toFixed(2)}" width="${barWidth.toFixed(2)}" height="${allowedHeight.toFixed(2)}">${title}</rect>`);
    if (bucket.refused > 0) bars.push(`<rect class="refused" x="${x}" y="${(base - allowedHeight - refusedHeight).toFixed(2)}" width="${barWidth.toFixed(2)}" height="${refusedHeight.toFixed(2)}">${title}</rect>`);
  });
  const first = buckets[0]?.start.slice(0, 16).replace('T', ' ') ?? '';
  const last = buckets[buckets.length - 1]?.start.slice(0, 16).replace('T', ' ') ?? '';
  const axisY = MARGIN.top + plotHeight;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="100%" role="img" aria-label="Key operations per bucket">`,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${axisY}"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${axisY}" x2="${WIDTH - MARGIN.right}" y2="${axisY}"/>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 10}" text-anchor="end">${max}</text>`,
    `<text x="${MARGIN.left - 6}" y="${axisY}" text-anchor="end">0</text>`,
    `<text x="${MARGIN.left}" y="${HEIGHT - 12}">${first}</text>`,
    `<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 12}" text-anchor="end">${last}</text>`,
    ...bars,
    '</svg>',
  ].join('\n');
}
