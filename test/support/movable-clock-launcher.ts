/**
 * TEST ONLY: appliances of scripts/cluster/appliances.ts whose clocks a test
 * moves (ClusterAppliance.moveClock), served by
 * test/support/movable-clock-serve-child.ts instead of `strongroom serve`.
 *
 *   await startAppliances(cluster, { count: 3, launcher: MOVABLE_CLOCK_SERVE });
 *
 * Runs the compiled child (npx tsc -p tsconfig.json first), as the other
 * child processes of the integration tests do.
 */
import { resolve } from 'node:path';
import type { ServeLauncher } from '../../scripts/cluster/appliances';

const CHILD = resolve(__dirname, '../../dist/test/support/movable-clock-serve-child.js');

export const MOVABLE_CLOCK_SERVE: ServeLauncher = { command: process.execPath, args: (dataDir) => [CHILD, dataDir], movableClock: true };
