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

export function secondsNow(): bigint {
  return BigInt(Math.floor(Date.now() / 1000));
}

export class CaseBindings {
  private values = new Map<string, PrimitiveNode>();

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

  /** The bindings as they are, for a comparison that may have to be taken back (matching a set). */
  snapshot(): ReadonlyMap<string, PrimitiveNode> {
    return new Map(this.values);
  }

  restore(snapshot: ReadonlyMap<string, PrimitiveNode>): void {
    this.values = new Map(snapshot);
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
    const value = this.values.get(node.placeholder);
    if (value === undefined || value.type !== node.type) throw new UnboundPlaceholderError(node.placeholder);
    return { ...value, tag: node.tag } as TtlvNode;
  }
}
