/**
 * The first node named `name` in a TTLV tree, depth first (the node itself
 * included): how the KMIP integration tests pick a field out of an answer
 * without caring where in the payload it sits.
 */
import { tagNumberOf } from '../../protocol/kmip/kmip-message-fields';
import { TtlvNode } from '../../protocol/kmip/ttlv';

export function find(node: TtlvNode | undefined, name: string): TtlvNode | undefined {
  if (node === undefined) return undefined;
  if (node.tag === tagNumberOf(name)) return node;
  if (node.type !== 'Structure') return undefined;
  for (const child of node.value as TtlvNode[]) {
    const found = find(child, name);
    if (found !== undefined) return found;
  }
  return undefined;
}
