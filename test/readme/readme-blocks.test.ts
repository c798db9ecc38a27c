/**
 * The README convention's parser: which blocks run, how a command's expected
 * exit code is read, and that a command shown outside a ```sh block is refused.
 */
import { fencedBlocks, readmeCommands } from './readme-blocks';

const doc = (...lines: string[]): string => lines.join('\n');

describe('README blocks', () => {
  it('runs ```sh blocks only, joins continued lines, skips comments, and reads `# exits N`', () => {
    const md = doc(
      '```', 'bash scripts/demo.sh', '```',
      '## Using it',
      '```sh', '# a note', 'export A=1', 'npx strongroom a \\', '   --b c   # exits 12', '', '```',
      '```ts', "import x from './client';", '```',
    );
    expect(fencedBlocks(md).map((b) => [b.section, b.language])).toEqual([['', ''], ['Using it', 'sh'], ['Using it', 'ts']]);
    expect(readmeCommands(md)).toEqual([
      { section: 'Using it', text: 'export A=1', expectedExit: 0 },
      { section: 'Using it', text: 'npx strongroom a     --b c   # exits 12', expectedExit: 12 },
    ]);
  });

  it('refuses a strongroom command shown in a block that is not run', () => {
    expect(() => readmeCommands(doc('## Over the wire', '```', 'npx strongroom key list', '```'))).toThrow(/Over the wire.*npx strongroom key list.*not `sh`/);
  });

  it('refuses a block that is never closed', () => {
    expect(() => fencedBlocks(doc('## X', '```sh', 'ls'))).toThrow(/under "X" is never closed/);
  });
});
