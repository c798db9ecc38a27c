/**
 * How many officers `strongroom init` makes, and which: quorum + 1 of the
 * officer-issue class by default, the custodians counting as officers,
 * --officers below quorum + 1 refused unless accepted, and never fewer than
 * admin and the custodians. Pure planning; the CLI suite
 * (test/cli/cli-init-officers.test.ts) checks the files and events.
 */
import { MAX_INIT_OFFICERS, officerIssueQuorum, planInitOfficers } from '../../domain/pki/init-officers';
import { OFFICER_ISSUE_CLASS } from '../../domain/approvals/quorum-settings';
import { StrongroomError } from '../../common/errors';
import { codeOf } from '../support/error-code';

const plan = (quorum: number, custodians = 0, requested: number | null = null, acceptFewer = false) => planInitOfficers({ quorum, custodians, requested, acceptFewer });

function errorOf(fn: () => unknown): StrongroomError {
  try {
    fn();
  } catch (err) {
    return err as StrongroomError;
  }
  throw new Error('expected an error');
}

describe('the officers init makes', () => {
  it('takes the quorum of the class that issuing an officer falls in, from dual_control_quorum', () => {
    expect(OFFICER_ISSUE_CLASS).toBe('grant-material');
    expect(officerIssueQuorum('2')).toBe(2);
    expect(officerIssueQuorum('2, grant-material=4')).toBe(4);
    expect(officerIssueQuorum('3, key-destroy=5')).toBe(3);
    expect(codeOf(() => officerIssueQuorum('grant-material=0'))).toBe('CONFIG_INVALID');
  });

  it('makes quorum + 1 by default: admin, then officer-2, officer-3…', () => {
    expect(plan(2)).toEqual({ total: 3, needed: 3, extra: ['officer-2', 'officer-3'] });
    expect(plan(1)).toEqual({ total: 2, needed: 2, extra: ['officer-2'] });
    expect(plan(4).extra).toEqual(['officer-2', 'officer-3', 'officer-4', 'officer-5']);
  });

  it('counts the custodians as officers and makes no more than the quorum needs', () => {
    expect(plan(2, 2)).toEqual({ total: 3, needed: 3, extra: [] });
    expect(plan(2, 5)).toEqual({ total: 6, needed: 3, extra: [] });
    expect(plan(3, 2)).toEqual({ total: 4, needed: 4, extra: ['officer-2'] });
  });

  it('makes as many as --officers asks, admin and custodians included', () => {
    expect(plan(2, 0, 5).extra).toEqual(['officer-2', 'officer-3', 'officer-4', 'officer-5']);
    expect(plan(2, 2, 5)).toEqual({ total: 5, needed: 3, extra: ['officer-2', 'officer-3'] });
    expect(plan(2, 0, MAX_INIT_OFFICERS).extra).toHaveLength(MAX_INIT_OFFICERS - 1);
  });

  it('refuses --officers below quorum + 1 with INVALID_ARGUMENT, naming what is needed, unless it is accepted', () => {
    const refused = errorOf(() => plan(2, 0, 2));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.details).toEqual({ requested: 2, needed: 3 });
    expect(refused.message).toContain('--accept-fewer-officers');
    expect(codeOf(() => plan(3, 2, 3))).toBe('INVALID_ARGUMENT');
    expect(plan(2, 0, 2, true)).toEqual({ total: 2, needed: 3, extra: ['officer-2'] });
    expect(plan(2, 0, 1, true)).toEqual({ total: 1, needed: 3, extra: [] });
  });

  it('refuses --officers below admin and the custodians, accepted or not', () => {
    const refused = errorOf(() => plan(2, 3, 3));
    expect(refused.code).toBe('INVALID_ARGUMENT');
    expect(refused.details).toEqual({ requested: 3, minimum: 4 });
    expect(codeOf(() => plan(1, 3, 2, true))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a count out of range', () => {
    for (const count of [0, -1, 1.5, MAX_INIT_OFFICERS + 1]) expect([count, codeOf(() => plan(2, 0, count, true))]).toEqual([count, 'INVALID_ARGUMENT']);
  });
});
