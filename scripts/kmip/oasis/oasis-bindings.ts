/**
 * What one case has learnt of the server while it plays: the value each
 * placeholder was bound to (the nth Unique Identifier the server returned,
 * the IV it picked, the cipher text it made), the time the case started
 * (what `$NOW` means in its requests, and the earliest a time stamp of the
 * server may be), and which objects the server generated key material for
 * (whose bytes, digests and outputs are random by nature). Requests are
 * made from templates here; responses bind placeholders as they are compared
 * (oasis-compare.ts).
 */
import { PrimitiveNode } from '../../../protocol/kmip/kmip-text-values';
import { TtlvNode } from '../../../protocol/kmip/ttlv';
import { isPlaceholder, NOW_PLACEHOLDER, PlaceholderNode, TemplateNode } from './oasis-template';

/** A request used a placeholder no earlier answer bound: the case cannot be played further. */
export class UnboundPlaceholderError extends Error {
  constructor(readonly placeholder: string) {
    super(`the request uses ${placeholder}, which no earlier answer bound`);
  }
}

/**
 * Seconds a time stamp of the server may lie outside the span of the case:
 * the server writes whole seconds, and its clock and ours are read at
 * different instants of the same second.
 */
export const CLOCK_SLACK_SECONDS = 2n;

export interface BindingsSnapshot {
  readonly values: ReadonlyMap<string, PrimitiveNode>;
  readonly serverChosen: ReadonlyMap<string, PrimitiveNode>;
  readonly serverChosenCounts: ReadonlyMap<string, number>;
}

export function secondsNow(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

/**
 * The placeholder names a value the server chose may be asked for by: a tag
 * `IVCounterNonce` gives `$IV_COUNTER_NONCE` (the last one) and
 * `$IV_COUNTER_NONCE_n` (the nth, from 0), as the OASIS cases name them.
 */
export function serverChosenNames(tagName: string, index: number): readonly string[] {
  const words = tagName.match(/[A-Z]+(?=[A-Z][a-z])|[A-Z][a-z0-9]*/g) ?? [tagName];
  const base = `$${words.join('_').toUpperCase()}`;
  return [base, `${base}_${index}`];
}

export class CaseBindings {
  private values = new Map<string, PrimitiveNode>();
  /**
   * Values the server chose where the expected answer wrote the recording
   * server's own (random by nature, compared by length: oasis-compare.ts),
   * by the placeholder names a later request may use for them
   * (serverChosenNames). The 1.4 edition of CS-BC-M-13 writes its Encrypt
   * answer's cipher text and random IV literally, yet its Decrypt sends
   * `$DATA_0` and `$IV_COUNTER_NONCE` — what the 2.1 edition binds from
   * the same answer: they are this server's cipher text and IV. Consulted
   * only for a placeholder no expected answer bound.
   */
  private serverChosen = new Map<string, PrimitiveNode>();
  private serverChosenCounts = new Map<string, number>();

  /** The last Unique Identifier the server returned: what a request without one means (the ID Placeholder). */
  lastUniqueIdentifier: string | undefined;

  constructor(
    readonly startedAt: bigint = secondsNow(),
    private readonly clock: () => bigint = secondsNow,
    /**
     * Unique Identifiers of objects whose key material the server generated
     * (Create, ReKey, …): the run's, shared by its cases, since a case may
     * find an object an earlier one made (TL-M-3 locates TL-M-2's key).
     */
    readonly generated: Set<string> = new Set<string>(),
  ) {}

  bound(placeholder: string): PrimitiveNode | undefined {
    return this.values.get(placeholder);
  }

  bind(placeholder: string, value: PrimitiveNode): void {
    this.values.set(placeholder, value);
  }

  /** Remembers a value the server chose that the expected answer held as the recording server's own (above). */
  rememberServerChosen(tagName: string, value: PrimitiveNode): void {
    const index = this.serverChosenCounts.get(tagName) ?? 0;
    this.serverChosenCounts.set(tagName, index + 1);
    for (const name of serverChosenNames(tagName, index)) this.serverChosen.set(name, value);
  }

  /** The bindings as they are, for a comparison that may have to be taken back (matching a set). */
  snapshot(): BindingsSnapshot {
    return { values: new Map(this.values), serverChosen: new Map(this.serverChosen), serverChosenCounts: new Map(this.serverChosenCounts) };
  }

  restore(snapshot: BindingsSnapshot): void {
    this.values = new Map(snapshot.values);
    this.serverChosen = new Map(snapshot.serverChosen);
    this.serverChosenCounts = new Map(snapshot.serverChosenCounts);
  }

  /** The span a server time stamp `$NOW+offset` may take: from the case's start to now, with the slack. */
  nowWindow(offsetSeconds: bigint): readonly [bigint, bigint] {
    return [this.startedAt + offsetSeconds - CLOCK_SLACK_SECONDS, this.clock() + offsetSeconds + CLOCK_SLACK_SECONDS];
  }

  /** The request a template stands for: `$NOW±n` is the case's start ± n, the rest what the server's answers bound. */
  resolve(template: TemplateNode): TtlvNode {
    if (isPlaceholder(template)) return this.resolvePlaceholder(template);
    if (template.type === 'Structure') return { tag: template.tag, type: 'Structure', value: template.value.map((child) => this.resolve(child)) };
    return template;
  }

  private resolvePlaceholder(node: PlaceholderNode): TtlvNode {
    if (node.placeholder === NOW_PLACEHOLDER && node.type === 'DateTime') return { tag: node.tag, type: 'DateTime', value: this.startedAt + node.offsetSeconds };
    const value = this.values.get(node.placeholder) ?? this.serverChosen.get(node.placeholder);
    if (value === undefined || value.type !== node.type) throw new UnboundPlaceholderError(node.placeholder);
    return { ...value, tag: node.tag } as TtlvNode;
  }
}
