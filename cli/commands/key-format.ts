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
      instances.map((i) => [String(i.version), i.name, i.activatesAt ? `${i.state} until ${i.activatesAt}` : i.state, i.current ? 'yes' : '', i.createdAt, i.destroyAt ? `scheduled ${i.destroyAt}` : '']),
    ));
    // A dated PreActive instance is activated by the server on its date; say so, and how to do it sooner.
    for (const waiting of instances.filter((i) => i.activatesAt && !i.destroyAt)) {
      const becomes = waiting.current ? 'becomes Active' : 'becomes Active and current (the current instance is then Deactivated)';
      lines.push('', `Instance ${waiting.name} ${becomes} at ${waiting.activatesAt}; sooner: strongroom key activate --instance ${waiting.name}`);
    }
    if (instances.some((i) => i.destroyAt)) lines.push('', 'Cancel a scheduled destruction: strongroom key destroy --cancel --instance INSTANCE');
  }
  return lines.join('\n');
}

/** For a new key whose first instance waits for its activation date: when the server activates it. Empty otherwise. */
export function activationNote(instances: readonly InstanceView[]): string {
  const current = instances.find((i) => i.current);
  return current?.activatesAt ? `; PreActive until ${current.activatesAt}, when the server activates it` : '';
}
