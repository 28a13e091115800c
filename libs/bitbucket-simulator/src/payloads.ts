import type {
  SimulatorState,
  SimComment,
  SimCommit,
  SimFileChange,
  SimPullRequest,
  SimRepository,
  SimUser,
} from './state';

/**
 * Renders simulator state in Bitbucket's JSON shapes (the fixtures in fixtures/bitbucket-dc are the
 * reference). `base` is the server's URL with its context path, used for links.
 */
export class Renderer {
  constructor(
    private readonly state: SimulatorState,
    private readonly base: () => string,
  ) {}

  baseUrl(): string {
    return this.base();
  }

  user(user: SimUser | string): Record<string, unknown> {
    const u = typeof user === 'string' ? this.state.users.get(user) : user;
    const name = typeof user === 'string' ? user : user.name;
    if (!u)
      return {
        name,
        slug: name,
        displayName: name,
        active: true,
        type: 'NORMAL',
      };
    return {
      name: u.name,
      emailAddress: u.emailAddress,
      id: u.id,
      displayName: u.displayName,
      active: true,
      slug: u.slug,
      type: 'NORMAL',
      links: { self: [{ href: `${this.base()}/users/${u.slug}` }] },
    };
  }

  /**
   * A project; a key starting with `~` is a user's personal project, which Bitbucket renders as type
   * PERSONAL with its owner, and whose pages live under /users/{slug}.
   */
  project(key: string): Record<string, unknown> {
    const p = this.state.project(key)!;
    const owner = personalOwner(p.key);
    if (owner !== undefined) {
      const user = [...this.state.users.values()].find((u) => u.slug === owner);
      return {
        key: p.key,
        id: p.id,
        name: p.name,
        type: 'PERSONAL',
        ...(user ? { owner: this.user(user) } : {}),
        links: { self: [{ href: `${this.base()}/users/${owner}` }] },
      };
    }
    return {
      key: p.key,
      id: p.id,
      name: p.name,
      public: false,
      type: 'NORMAL',
      links: { self: [{ href: `${this.base()}/projects/${p.key}` }] },
    };
  }

  /** The repository's web path: /projects/{key}/repos/{slug}, or /users/{owner}/repos/{slug}. */
  repositoryPath(repo: SimRepository): string {
    const owner = personalOwner(repo.projectKey);
    return owner !== undefined
      ? `${this.base()}/users/${owner}/repos/${repo.slug}`
      : `${this.base()}/projects/${repo.projectKey}/repos/${repo.slug}`;
  }

  repository(repo: SimRepository, withOrigin = true): Record<string, unknown> {
    const host = new URL(this.base());
    const json: Record<string, unknown> = {
      slug: repo.slug,
      id: repo.id,
      name: repo.name,
      hierarchyId: repo.hierarchyId,
      scmId: 'git',
      state: 'AVAILABLE',
      statusMessage: 'Available',
      forkable: true,
      project: this.project(repo.projectKey),
      public: false,
      archived: false,
      links: {
        clone: [
          { href: `${this.base()}/scm/${repo.projectKey.toLowerCase()}/${repo.slug}.git`, name: 'http' },
          {
            href: `ssh://git@${host.hostname}:7999/${repo.projectKey.toLowerCase()}/${repo.slug}.git`,
            name: 'ssh',
          },
        ],
        self: [{ href: `${this.repositoryPath(repo)}/browse` }],
      },
    };
    if (withOrigin && repo.originId !== undefined) {
      json.origin = this.repository(this.state.repositories.get(repo.originId)!, false);
    }
    return json;
  }

  /**
   * A branch or tag as the refs resources render it. `sha` is the commit; for an annotated tag `hash` is
   * the tag object (Bitbucket: `hash` null for a lightweight tag, latestCommit always the commit).
   */
  ref(name: string, sha: string, isDefault = false, tagObject?: string): Record<string, unknown> {
    const tag = name.startsWith('refs/tags/');
    return {
      id: name,
      displayId: displayId(name),
      type: tag ? 'TAG' : 'BRANCH',
      latestCommit: sha,
      latestChangeset: sha,
      ...(tag ? { hash: tagObject ?? null } : { isDefault }),
    };
  }

  commit(commit: SimCommit): Record<string, unknown> {
    const person = this.personOf(commit.author);
    return {
      id: commit.id,
      displayId: commit.id.slice(0, 11),
      author: person,
      authorTimestamp: commit.timestamp,
      committer: person,
      committerTimestamp: commit.timestamp,
      message: commit.message,
      parents: commit.parents.map((id) => ({ id, displayId: id.slice(0, 11) })),
    };
  }

  private personOf(name: string): Record<string, unknown> {
    const user = this.state.users.get(name);
    return user ? this.user(user) : { name, emailAddress: `${name}@example.com` };
  }

  change(change: SimFileChange, commit: string, repo: SimRepository): Record<string, unknown> {
    const json: Record<string, unknown> = {
      contentId: change.type === 'DELETE' ? '0'.repeat(40) : hashOf(`${commit}:${change.path}`),
      fromContentId: change.type === 'ADD' ? '0'.repeat(40) : hashOf(`from:${commit}:${change.path}`),
      path: pathJson(change.path),
      executable: false,
      percentUnchanged: -1,
      type: change.type,
      nodeType: 'FILE',
      srcExecutable: false,
      links: {
        self: [
          {
            href: `${this.repositoryPath(repo)}/commits/${commit}#${change.path}`,
          },
        ],
      },
      properties: { gitChangeType: change.type },
    };
    if (change.srcPath) json.srcPath = pathJson(change.srcPath);
    return json;
  }

  participant(
    name: string,
    role: string,
    status = 'UNAPPROVED',
    lastReviewedCommit?: string,
  ): Record<string, unknown> {
    const json: Record<string, unknown> = {
      user: this.user(name),
      role,
      approved: status === 'APPROVED',
      status,
    };
    if (lastReviewedCommit) json.lastReviewedCommit = lastReviewedCommit;
    return json;
  }

  pullRequest(pr: SimPullRequest): Record<string, unknown> {
    const target = this.state.repositories.get(pr.repoId)!;
    const source = this.state.repositories.get(pr.fromRepoId)!;
    const json: Record<string, unknown> = {
      id: pr.id,
      version: pr.version,
      title: pr.title,
      description: pr.description,
      state: pr.state,
      open: pr.state === 'OPEN',
      closed: pr.state !== 'OPEN',
      draft: pr.draft,
      createdDate: pr.createdDate,
      updatedDate: pr.updatedDate,
      fromRef: this.prRef(pr.fromRef, source),
      toRef: this.prRef(pr.toRef, target),
      locked: false,
      author: this.participant(pr.author, 'AUTHOR'),
      reviewers: pr.reviewers.map((r) =>
        this.participant(r.user, 'REVIEWER', r.status, r.lastReviewedCommit),
      ),
      participants: [],
      links: {
        self: [
          {
            href: `${this.repositoryPath(target)}/pull-requests/${pr.id}`,
          },
        ],
      },
    };
    if (pr.closedDate !== undefined) json.closedDate = pr.closedDate;
    return json;
  }

  prRef(ref: string, repo: SimRepository): Record<string, unknown> {
    return {
      id: ref,
      displayId: displayId(ref),
      latestCommit: repo.refs.get(ref) ?? '0'.repeat(40),
      type: ref.startsWith('refs/tags/') ? 'TAG' : 'BRANCH',
      repository: this.repository(repo),
    };
  }

  comment(comment: SimComment): Record<string, unknown> {
    const replies = this.state.comments.filter((c) => c.parentId === comment.id);
    const json: Record<string, unknown> = {
      properties: { repositoryId: comment.repoId },
      id: comment.id,
      version: comment.version,
      text: comment.text,
      author: this.user(comment.author),
      createdDate: comment.createdDate,
      updatedDate: comment.updatedDate,
      comments: replies.map((c) => this.comment(c)),
      tasks: [],
      permittedOperations: { editable: true, deletable: true },
    };
    if (comment.parentId !== undefined) json.parent = { id: comment.parentId };
    return json;
  }
}

/** The owner's slug of a personal project (key `~alice`), or undefined for a normal project. */
function personalOwner(projectKey: string): string | undefined {
  return projectKey.startsWith('~') ? projectKey.slice(1).toLowerCase() : undefined;
}

export function displayId(ref: string): string {
  return ref.replace(/^refs\/(heads|tags)\//, '');
}

function pathJson(path: string): Record<string, unknown> {
  const components = path.split('/');
  const name = components.at(-1) ?? path;
  const dot = name.lastIndexOf('.');
  const json: Record<string, unknown> = {
    components,
    parent: components.slice(0, -1).join('/'),
    name,
    toString: path,
  };
  if (dot > 0) json.extension = name.slice(dot + 1);
  return json;
}

function hashOf(text: string): string {
  let h = 0n;
  for (const ch of text) h = (h * 131n + BigInt(ch.codePointAt(0)!)) % (1n << 160n);
  return h.toString(16).padStart(40, '0');
}

/** Webhook `date`: Bitbucket writes ISO-8601 with a `+0000` style offset. */
export function webhookDate(at = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, '+0000');
}
