/**
 * The in-memory index of grants the dispatcher checks on every request: no
 * query per rule. Default deny. Officers administer and do not use keys: by
 * role they hold only the administrative permissions (OFFICER_ROLE_PERMISSIONS
 * in permissions.ts); every use of a key (encrypt, decrypt, mac,
 * generate-data-key, decrypt-data-key, get) they, like apps, hold only through
 * a grant; auditors get no key permission; apps get
 * exactly what grants on matching name patterns give them, directly or
 * through a group.
 *
 * Built from the directory store and rebuilt when the store's change stamp
 * moves (a grant made by the CLI in another process is seen on the next
 * request).
 *
 * The answer and its reasons are one computation: `roleGives` and
 * `visitGrants` find what gives a permission (the officer role, or each grant
 * to the client or to one of its groups whose pattern matches); `allows`
 * stops at the first, and `explain` (PolicyCheck, `strongroom policy check`)
 * lists them all; so what the check shows cannot drift from what the
 * dispatcher decides.
 */
import { DirectoryStore, GrantRecord } from '../../storage/directory-store';
import { ClientIdentity } from './identity';
import { globMatches } from './glob';
import { OFFICER_ROLE_PERMISSIONS, Permission, PERMISSIONS } from './permissions';

interface CompiledGrant {
  readonly id: string;
  readonly subjectKind: GrantRecord['subjectKind'];
  readonly subject: string;
  readonly pattern: string;
  readonly permissions: ReadonlySet<string>;
}

/** What gives a client a permission on a key: its role, or one grant (to the client, or to one of its groups). */
export type PermissionSource =
  | { readonly kind: 'role'; readonly role: 'officer' }
  | { readonly kind: 'grant'; readonly grant: string; readonly subjectKind: GrantRecord['subjectKind']; readonly subject: string; readonly pattern: string };

/** One permission of a client on a key, and every source that gives it (none: denied). */
export interface PermissionExplanation {
  readonly permission: Permission;
  readonly allowed: boolean;
  readonly sources: readonly PermissionSource[];
}

export class PolicyIndex {
  private byClient = new Map<string, CompiledGrant[]>();
  private byGroup = new Map<string, CompiledGrant[]>();
  private stamp: string | null = null;

  constructor(private readonly directory: DirectoryStore, private readonly changeStamp: () => string) {}

  allows(identity: ClientIdentity, permission: Permission, fullName: string): boolean {
    // Every request asks this: stop at the first source, and build no list or source object on the way.
    return roleGives(identity, permission) || this.visitGrants(identity, permission, fullName, STOP);
  }

  /** Each permission of PERMISSIONS, whether `identity` holds it on `fullName`, and every role or grant that gives it. */
  explain(identity: ClientIdentity, fullName: string): PermissionExplanation[] {
    return PERMISSIONS.map((permission) => {
      const sources: PermissionSource[] = roleGives(identity, permission) ? [{ kind: 'role', role: 'officer' }] : [];
      this.visitGrants(identity, permission, fullName, (g) => {
        sources.push({ kind: 'grant', grant: g.id, subjectKind: g.subjectKind, subject: g.subject, pattern: g.pattern });
        return false;
      });
      return { permission, allowed: sources.length > 0, sources };
    });
  }

  /**
   * Calls `visit` with each grant giving `identity` `permission` on
   * `fullName` (its own grants, then its groups'), until `visit` returns
   * true; whether it did. Auditors hold nothing through grants.
   */
  private visitGrants(identity: ClientIdentity, permission: Permission, fullName: string, visit: (grant: CompiledGrant) => boolean): boolean {
    if (identity.role === 'auditor') return false;
    this.refresh();
    const visitList = (grants: CompiledGrant[] | undefined): boolean => {
      if (grants === undefined) return false;
      for (const g of grants) if (g.permissions.has(permission) && globMatches(g.pattern, fullName) && visit(g)) return true;
      return false;
    };
    if (visitList(this.byClient.get(identity.name))) return true;
    for (const group of identity.groups) if (visitList(this.byGroup.get(group))) return true;
    return false;
  }

  /** Whether the client holds `permission` on anything at all (to decide if a Locate is worth running). */
  holdsAnywhere(identity: ClientIdentity, permission: Permission): boolean {
    if (identity.role === 'officer' && OFFICER_ROLE_PERMISSIONS.has(permission)) return true;
    if (identity.role === 'auditor') return false;
    this.refresh();
    const has = (grants: CompiledGrant[] | undefined): boolean => grants !== undefined && grants.some((g) => g.permissions.has(permission));
    return has(this.byClient.get(identity.name)) || identity.groups.some((group) => has(this.byGroup.get(group)));
  }

  /**
   * Whether the client holds `permission` on every key name (a grant whose
   * pattern is `*`, to it or to one of its groups): such a client may be told
   * that an instance does not exist, since whatever exists it could reach.
   */
  holdsEverywhere(identity: ClientIdentity, permission: Permission): boolean {
    if (roleGives(identity, permission)) return true;
    if (identity.role === 'auditor') return false;
    this.refresh();
    const has = (grants: CompiledGrant[] | undefined): boolean => grants !== undefined && grants.some((g) => g.pattern === '*' && g.permissions.has(permission));
    return has(this.byClient.get(identity.name)) || identity.groups.some((group) => has(this.byGroup.get(group)));
  }

  private refresh(): void {
    const stamp = this.changeStamp();
    if (stamp === this.stamp) return;
    const byClient = new Map<string, CompiledGrant[]>();
    const byGroup = new Map<string, CompiledGrant[]>();
    for (const grant of this.directory.listGrants()) add(grant.subjectKind === 'client' ? byClient : byGroup, grant);
    this.byClient = byClient;
    this.byGroup = byGroup;
    this.stamp = stamp;
  }
}

/** The officer role's own permissions (administering keys, never using them). */
function roleGives(identity: ClientIdentity, permission: Permission): boolean {
  return identity.role === 'officer' && OFFICER_ROLE_PERMISSIONS.has(permission);
}

/** A visit that stops at the first grant found (allows). */
const STOP = (): boolean => true;

function add(index: Map<string, CompiledGrant[]>, grant: GrantRecord): void {
  const list = index.get(grant.subject) ?? [];
  list.push({ id: grant.id, subjectKind: grant.subjectKind, subject: grant.subject, pattern: grant.pattern, permissions: new Set(grant.permissions) });
  index.set(grant.subject, list);
}
