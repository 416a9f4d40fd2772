// The policy model: one grant per (member, role, resource), wherever it was read from (a Cloud
// Asset Inventory search result, a project's get-iam-policy, a dataset's access list).

/** Where a grant or a problem was read: file, line and the JSON path within it. */
export interface IamSource {
  readonly file: string;
  readonly line: number;
  readonly path: string;
}

/** A binding the audit could not judge, kept with where it is and what was expected. */
export interface IamProblem {
  readonly reason: "unknown_member" | "unknown_role" | "bad_entry";
  /** What was found and what was expected. */
  readonly detail: string;
  readonly source: IamSource;
}

export type ResourceLevel = "organization" | "folder" | "project" | "dataset" | "table";

export interface IamResource {
  readonly level: ResourceLevel;
  /** organizations/N, folders/N, the project id (or projects/NUMBER when unmapped), P:D, P:D.T */
  readonly name: string;
  /** The project id for project, dataset and table level; "" above. */
  readonly project: string;
  /** Set when the resource named its project by a number that maps to no project id. */
  readonly unmappedNumber?: string;
  /** For folder and organization level: the projects below it that the export shows. */
  readonly projectsBelow?: readonly string[];
}

export interface IamCondition {
  readonly title: string;
  readonly expression: string;
}

export type MemberKind =
  | "user"
  | "serviceAccount"
  | "group"
  | "domain"
  | "allUsers"
  | "allAuthenticatedUsers"
  | "principal"
  | "principalSet"
  | "projectRole";

/** An IAM member string, read. */
export interface Member {
  /** As written in the policy: `user:pat@partner-x.example`, `deleted:user:x@y?uid=1`. */
  readonly written: string;
  readonly kind: MemberKind;
  /** For user, serviceAccount, group: the lower-case email. For domain: the domain. */
  readonly email: string;
  /** A principal deleted since the grant: the binding stays in the policy but serves no one. */
  readonly deleted: boolean;
}

export interface Grant {
  readonly member: Member;
  readonly role: string;
  readonly resource: IamResource;
  readonly condition?: IamCondition;
  readonly source: IamSource;
}

const EMAIL = /^[^\s@:?]+@[a-z0-9.-]+\.[a-z0-9-]+$/;
const DOMAIN = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const PREFIXED: Record<string, MemberKind> = {
  user: "user",
  serviceAccount: "serviceAccount",
  group: "group",
  domain: "domain",
  projectOwner: "projectRole",
  projectEditor: "projectRole",
  projectViewer: "projectRole",
};

export const MEMBER_EXPECTED =
  "an IAM member: user:EMAIL, serviceAccount:EMAIL, group:EMAIL, domain:DOMAIN, allUsers, allAuthenticatedUsers, principal://..., principalSet://..., or deleted:user|serviceAccount|group:EMAIL?uid=N";

/** Reads an IAM member string (https://cloud.google.com/iam/docs/principal-identifiers); undefined when it is none. */
export function parseMember(written: string): Member | undefined {
  if (written === "allUsers" || written === "allAuthenticatedUsers")
    return { written, kind: written, email: "", deleted: false };
  if (written.startsWith("principal://") || written.startsWith("principalSet://")) {
    const kind = written.startsWith("principal://") ? "principal" : "principalSet";
    return written.length > kind.length + 3 ? { written, kind, email: "", deleted: false } : undefined;
  }
  let rest = written;
  let deleted = false;
  if (rest.startsWith("deleted:")) {
    deleted = true;
    rest = rest.slice("deleted:".length);
    // A deleted principal carries its unique id: `deleted:user:x@y?uid=123`.
    const query = rest.indexOf("?uid=");
    if (query < 0 || !/^\d+$/.test(rest.slice(query + 5))) return undefined;
    rest = rest.slice(0, query);
  }
  const colon = rest.indexOf(":");
  if (colon <= 0) return undefined;
  const kind = PREFIXED[rest.slice(0, colon)];
  const value = rest.slice(colon + 1).toLowerCase();
  if (kind === undefined) return undefined;
  if (deleted && kind !== "user" && kind !== "serviceAccount" && kind !== "group") return undefined;
  if (kind === "domain") return DOMAIN.test(value) ? { written, kind, email: value, deleted } : undefined;
  if (kind === "projectRole") return value !== "" ? { written, kind, email: "", deleted } : undefined;
  return EMAIL.test(value) ? { written, kind, email: value, deleted } : undefined;
}

/** The member string for an email of a dataset access entry's userByEmail. */
export function memberOfEmail(email: string): string {
  return email.toLowerCase().endsWith(".gserviceaccount.com") ? `serviceAccount:${email}` : `user:${email}`;
}
