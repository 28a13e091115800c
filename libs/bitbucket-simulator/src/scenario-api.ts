import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BitbucketSimulator } from './simulator';
import { REPOSITORY_PERMISSIONS, type Permission, type RepositoryPermission } from './state';

/**
 * A small HTTP API over the scenario functions, for demos driven with curl (see README). It is not
 * part of Bitbucket and needs no authentication: the simulator is a test and demo tool only.
 */
export function createScenarioRouter(sim: BitbucketSimulator): Router {
  const router = express.Router();
  router.use(express.json());

  const run =
    (action: (body: Record<string, unknown>, req: Request) => unknown) =>
    async (req: Request, res: Response, next: NextFunction) => {
      try {
        res.json(await action((req.body ?? {}) as Record<string, unknown>, req));
      } catch (err) {
        if (err instanceof Error && !('status' in err)) {
          res.status(400).json({ error: { code: 'SIMULATOR.BAD_SCENARIO', message: err.message } });
          return;
        }
        next(err);
      }
    };

  const str = (body: Record<string, unknown>, key: string): string => {
    const value = body[key];
    if (typeof value !== 'string' || value === '') throw new Error(`"${key}" is required`);
    return value;
  };
  const opt = (body: Record<string, unknown>, key: string): string | undefined =>
    typeof body[key] === 'string' ? body[key] : undefined;
  const files = (body: Record<string, unknown>): string[] => {
    const value = body.files;
    if (!Array.isArray(value) || value.some((f) => typeof f !== 'string'))
      throw new Error('"files" must be a list of paths');
    return value as string[];
  };
  const prRef = (body: Record<string, unknown>, req: Request) => ({
    project: str(body, 'project'),
    repo: str(body, 'repo'),
    id: Number(req.params.id),
    ...(opt(body, 'actor') ? { actor: opt(body, 'actor')! } : {}),
  });

  router.post(
    '/push',
    run((body) => {
      const message = opt(body, 'message');
      return sim.push({
        project: str(body, 'project'),
        repo: str(body, 'repo'),
        branch: str(body, 'branch'),
        files: files(body),
        ...(message !== undefined ? { message } : {}),
      });
    }),
  );

  router.post(
    '/pull-requests',
    run((body) => {
      const title = opt(body, 'title');
      return sim.openPullRequest({
        project: str(body, 'project'),
        repo: str(body, 'repo'),
        from: str(body, 'from'),
        to: str(body, 'to'),
        ...(title !== undefined ? { title } : {}),
      });
    }),
  );

  router.post(
    '/pull-requests/:id/merge',
    run((body, req) => sim.mergePullRequest(prRef(body, req))),
  );
  router.post(
    '/pull-requests/:id/decline',
    run((body, req) => sim.declinePullRequest(prRef(body, req))),
  );
  router.post(
    '/pull-requests/:id/comments',
    run((body, req) => sim.addComment({ ...prRef(body, req), text: str(body, 'text') })),
  );

  router.put(
    '/webhook-target',
    run((body) => {
      const secret = opt(body, 'secret');
      sim.setWebhookDelivery({ url: str(body, 'url'), ...(secret !== undefined ? { secret } : {}) });
      return { url: body.url };
    }),
  );

  // Managed-webhook scenarios (docs/architecture.md §14): an administrator deletes, edits or disables
  // a hook; deliveries are held back so events go missing.
  router.delete(
    '/webhooks/:id',
    run((_body, req) => ({ deleted: sim.deleteWebhook(Number(req.params.id)) })),
  );
  router.patch(
    '/webhooks/:id',
    run((body, req) => {
      const events = body.events;
      if (events !== undefined && (!Array.isArray(events) || events.some((e) => typeof e !== 'string')))
        throw new Error('"events" must be a list of event keys');
      if (body.active !== undefined && typeof body.active !== 'boolean')
        throw new Error('"active" must be true or false');
      const url = opt(body, 'url');
      return sim.editWebhook(Number(req.params.id), {
        ...(url !== undefined ? { url } : {}),
        ...(events !== undefined ? { events: events as string[] } : {}),
        ...(typeof body.active === 'boolean' ? { active: body.active } : {}),
      });
    }),
  );
  router.put(
    '/webhook-deliveries',
    run((body) => {
      if (typeof body.held !== 'boolean') throw new Error('"held" must be true or false');
      sim.holdWebhookDeliveries(body.held);
      return { held: body.held };
    }),
  );
  router.post(
    '/webhook-deliveries/late',
    run(() => sim.deliverHeldWebhooks()),
  );
  router.get(
    '/webhooks',
    run(() => sim.recorded.webhooks),
  );
  // Sign in with Bitbucket (oauth.ts): an application link, users and what they may read.
  router.post(
    '/oauth-clients',
    run((body) => sim.addOAuthClient({ name: str(body, 'name'), redirectUri: str(body, 'redirectUri') })),
  );
  router.post(
    '/users',
    run((body) => {
      const permission = opt(body, 'permission') ?? 'licensed';
      if (!['read', 'admin', 'licensed'].includes(permission))
        throw new Error('"permission" must be read, admin or licensed');
      const user = sim.addUser({
        name: str(body, 'name'),
        token: str(body, 'password'),
        permission: permission as Permission,
      });
      return { name: user.name, permission: user.permission };
    }),
  );
  router.put(
    '/repository-permissions',
    run((body) => {
      const permission = body.permission ?? undefined;
      if (permission !== undefined && !(REPOSITORY_PERMISSIONS as readonly unknown[]).includes(permission))
        throw new Error('"permission" must be REPO_READ, REPO_WRITE, REPO_ADMIN or null');
      sim.setRepositoryPermission({
        project: str(body, 'project'),
        repo: str(body, 'repo'),
        user: str(body, 'user'),
        permission: permission as RepositoryPermission | undefined,
      });
      return { project: body.project, repo: body.repo, user: body.user, permission: permission ?? null };
    }),
  );

  router.post(
    '/ping',
    run((body) => sim.ping(opt(body, 'url'))),
  );
  router.get(
    '/statuses',
    run(() => sim.recorded.statuses),
  );
  router.get(
    '/comments',
    run(() => sim.recorded.comments),
  );
  router.get(
    '/deliveries',
    run(() => sim.recorded.deliveries),
  );
  router.get(
    '/requests',
    run(() => sim.recorded.requests),
  );

  return router;
}
