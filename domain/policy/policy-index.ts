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
 */
import { DirectoryStore, GrantRecord } from '../../storage/directory-store';
import { ClientIdentity } from './identity';
import { globMatches } from './glob';
import { OFFICER_ROLE_PERMISSIONS, Permission } from './permissions';

interface CompiledGrant {
  readonly pattern: string;
  readonly permissions: ReadonlySet<string>;
}

export class PolicyIndex {
  private byClient = new Map<string, CompiledGrant[]>();
  private byGroup = new Map<string, CompiledGrant[]>();
  private stamp: string | null = null;

  constructor(private readonly directory: DirectoryStore, private readonly changeStamp: () => string) {}

  allows(identity: ClientIdentity, permission: Permission, fullName: string): boolean {
    if (identity.role === 'officer' && OFFICER_ROLE_PERMISSIONS.has(permission)) return true;
    if (identity.role === 'auditor') return false;
    this.refresh();
    const matches = (grants: CompiledGrant[] | undefined): boolean =>
      grants !== undefined && grants.some((g) => g.permissions.has(permission) && globMatches(g.pattern, fullName));
    if (matches(this.byClient.get(identity.name))) return true;
    return identity.groups.some((group) => matches(this.byGroup.get(group)));
  }

  /** Whether the client holds `permission` on anything at all (to decide if a Locate is worth running). */
  holdsAnywhere(identity: ClientIdentity, permission: Permission): boolean {
    if (identity.role === 'officer' && OFFICER_ROLE_PERMISSIONS.has(permission)) return true;
    if (identity.role === 'auditor') return false;
    this.refresh();
    const has = (grants: CompiledGrant[] | undefined): boolean => grants !== undefined && grants.some((g) => g.permissions.has(permission));
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

function add(index: Map<string, CompiledGrant[]>, grant: GrantRecord): void {
  const list = index.get(grant.subject) ?? [];
  list.push({ pattern: grant.pattern, permissions: new Set(grant.permissions) });
  index.set(grant.subject, list);
}
