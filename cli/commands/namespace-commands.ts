/**
 * `strongroom namespace list|remove`: key stores. A namespace can be removed
 * only when every key in it is destroyed; their metadata goes with it.
 */
import { Command } from 'commander';
import { runCommand } from '../context';
import { table } from '../output';

export function namespaceCommand(): Command {
  const list = new Command('list').description('namespaces with their key counts').action(
    runCommand(async (ctx) => {
      const namespaces = await ctx.backend().listNamespaces();
      ctx.out.result(namespaces, () =>
        namespaces.length === 0 ? 'No namespaces.' : table(['NAMESPACE', 'KEYS', 'NOT DESTROYED'], namespaces.map((n) => [n.namespace, String(n.keys), String(n.liveKeys)])),
      );
    }),
  );
  const remove = new Command('remove')
    .description('remove a namespace whose keys are all destroyed (their metadata and aliases go too)')
    .argument('<namespace>', 'e.g. lab')
    .addHelpText('after', '\nExample:\n  $ strongroom namespace remove lab')
    .action(
      runCommand(async (ctx, namespace: string) => {
        const result = await ctx.backend().removeNamespace(namespace);
        ctx.out.result(result, () => `Removed namespace ${result.namespace} (${result.keysRemoved} destroyed key(s))`);
      }),
    );
  return new Command('namespace').description('key stores (namespaces)').addCommand(list).addCommand(remove);
}
