/**
 * Glob matching for grant patterns: `*` matches any run of characters
 * (slashes included), everything else is literal. Linear-time two-pointer
 * matching with backtracking only to the last `*`, so a hostile pattern or
 * key name cannot make a check slow (a regex built from five slash-separated stars took a
 * second per check on a crafted 200-character name). Patterns hold at most
 * MAX_GLOB_STARS stars.
 */
import { ValidationError } from '../../common/errors';

/** Stars per grant pattern: plenty for `team/*`, `*-prod/*`; bounds the matcher's work. */
export const MAX_GLOB_STARS = 8;

export function checkGlob(pattern: string): void {
  if (!/^[A-Za-z0-9*._/-]{1,200}$/.test(pattern)) throw new ValidationError('a grant pattern holds 1-200 of letters, digits, ".", "_", "-", "/" and "*"');
  if ((pattern.match(/\*/g) ?? []).length > MAX_GLOB_STARS) throw new ValidationError(`a grant pattern holds at most ${MAX_GLOB_STARS} "*"`);
}

export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
