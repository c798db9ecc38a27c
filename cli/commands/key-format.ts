/**
 * Human renderings of keys and instances for the `key` commands.
 */
import type { InstanceView, KeyView } from '../../client/types';
import { table } from '../output';

export function renderKey(key: KeyView, instances?: InstanceView[]): string {
  const lines = [
    `${key.fullName}`,
    `  algorithm:     ${key.algorithm}`,
    `  usage:         ${key.usage.join(', ')}`,
    `  rollover:      ${key.rolloverPolicy}${key.cryptoperiod ? ` every ${key.cryptoperiod}` : ''}${key.nextRolloverAt ? `, next ${key.nextRolloverAt}` : ''}`,
    `  current:       ${key.currentInstance} (v${key.currentVersion})`,
    `  owner:         ${key.owner || '-'}`,
    `  description:   ${key.description || '-'}`,
    `  created:       ${key.createdAt}`,
  ];
  for (const [name, value] of Object.entries(key.customAttributes)) lines.push(`  attr ${name}: ${value}`);
  if (instances) {
    lines.push('', table(
      ['VERSION', 'INSTANCE', 'STATE', 'CURRENT', 'CREATED', 'DESTRUCTION'],
      // A scheduled destruction is shown where the operator looks, with how to stop it.
      instances.map((i) => [String(i.version), i.name, i.state, i.current ? 'yes' : '', i.createdAt, i.destroyAt ? `scheduled ${i.destroyAt}` : '']),
    ));
    if (instances.some((i) => i.destroyAt)) lines.push('', 'Cancel a scheduled destruction: strongroom key destroy --cancel --instance INSTANCE');
  }
  return lines.join('\n');
}
