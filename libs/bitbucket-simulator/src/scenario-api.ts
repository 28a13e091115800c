import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BitbucketSimulator } from './simulator';

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
