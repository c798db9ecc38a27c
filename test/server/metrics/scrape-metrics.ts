/**
 * Test helpers for /metrics: a scrape with a real HTTP(S) client
 * (node:http / node:https), and a parser of the text exposition format
 * written from the format's description (not from the encoder), so that the
 * tests read the page the way Prometheus does: HELP and TYPE lines, samples
 * with escaped label values, histogram series.
 */
import { request as httpRequest, IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Credentials } from '../../support/appliance-fixture';

export interface ScrapeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** GET `path` from the metrics listener; `tls` for HTTPS (credentials null: no client certificate). */
export function scrape(port: number, options: { path?: string; method?: string; tls?: { ca: string; client: Omit<Credentials, 'caPem'> | null } } = {}): Promise<ScrapeAnswer> {
  return new Promise((resolve, reject) => {
    const common = { host: '127.0.0.1', port, path: options.path ?? '/metrics', method: options.method ?? 'GET', agent: false as const, timeout: 10_000 };
    const tls = options.tls;
    const req = tls
      ? httpsRequest({ ...common, ca: tls.ca, servername: 'localhost', cert: tls.client?.certificatePem, key: tls.client?.privateKeyPem })
      : httpRequest(common);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('scrape timed out')));
    req.on('error', reject);
    req.end();
  });
}

export interface ParsedSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ParsedPage {
  readonly help: ReadonlyMap<string, string>;
  readonly type: ReadonlyMap<string, string>;
  readonly samples: readonly ParsedSample[];
}

function unescape(text: string, quote: boolean): string {
  return text.replace(quote ? /\\(["\\n])/g : /\\([\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) throw new Error(`not a sample value: "${text}"`);
  return value;
}

/** Parses a page; throws on any line that is not a comment, a HELP, a TYPE or a well-formed sample. */
export function parsePage(text: string): ParsedPage {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: ParsedSample[] = [];
  if (text !== '' && !text.endsWith('\n')) throw new Error('a page ends with a line feed');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      const target = meta[1] === 'HELP' ? help : type;
      if (target.has(meta[2])) throw new Error(`second ${meta[1]} for ${meta[2]}`);
      target.set(meta[2], meta[1] === 'HELP' ? unescape(meta[3], false) : meta[3]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(line);
    if (!head) throw new Error(`not a sample line: ${line}`);
    let at = head[0].length;
    const labels: Record<string, string> = {};
    if (head[2]) {
      const label = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|\})/y;
      for (;;) {
        label.lastIndex = at;
        const match = label.exec(line);
        if (!match) throw new Error(`bad labels in: ${line}`);
        labels[match[1]] = unescape(match[2], true);
        at = label.lastIndex;
        if (match[3] === '}') break;
      }
    }
    const rest = line.slice(at);
    if (!/^ \S+( -?\d+)?$/.test(rest)) throw new Error(`bad value in: ${line}`);
    samples.push({ name: head[1], labels, value: parseValue(rest.trim().split(' ')[0]) });
  }
  return { help, type, samples };
}

/** The value of the sample `name` with exactly these labels; exactly one must exist (or none, read as 0, when `absentIsZero`). */
export function valueOf(page: ParsedPage, name: string, labels: Record<string, string> = {}, absentIsZero = false): number {
  const same = (a: Readonly<Record<string, string>>): boolean => Object.keys(a).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => a[k] === v);
  const matching = page.samples.filter((s) => s.name === name && same(s.labels));
  if (matching.length === 0 && absentIsZero) return 0;
  if (matching.length !== 1) throw new Error(`${matching.length} samples of ${name} ${JSON.stringify(labels)}`);
  return matching[0].value;
}

/** Every labelled series of histogram `name` (labels without le): its buckets in page order, sum and count. */
export function histograms(page: ParsedPage, name: string): Array<{ labels: Record<string, string>; buckets: Array<{ le: number; count: number }>; sum: number; count: number }> {
  const key = (labels: Readonly<Record<string, string>>): string => JSON.stringify(Object.entries(labels).filter(([k]) => k !== 'le').sort());
  const series = new Map<string, { labels: Record<string, string>; buckets: Array<{ le: number; count: number }>; sum: number; count: number }>();
  const entry = (labels: Readonly<Record<string, string>>) => {
    const k = key(labels);
    let found = series.get(k);
    if (!found) {
      const { le: _le, ...rest } = labels;
      found = { labels: rest, buckets: [], sum: NaN, count: NaN };
      series.set(k, found);
    }
    return found;
  };
  for (const sample of page.samples) {
    if (sample.name === `${name}_bucket`) entry(sample.labels).buckets.push({ le: parseValue(sample.labels.le), count: sample.value });
    if (sample.name === `${name}_sum`) entry(sample.labels).sum = sample.value;
    if (sample.name === `${name}_count`) entry(sample.labels).count = sample.value;
  }
  return [...series.values()];
}
