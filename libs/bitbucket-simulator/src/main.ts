import { startSimulator } from './simulator';

/**
 * Standalone simulator for demos: `node libs/bitbucket-simulator/dist/src/main.js`.
 * PORT (7990), SIM_USER (admin), SIM_TOKEN (a demo token), SIM_PROJECT (DEMO), SIM_REPO (infra),
 * SIM_WEBHOOK_URL and SIM_WEBHOOK_SECRET (optional: where every event is delivered), SIM_PAGE_SIZE (25),
 * SIM_VIEWER and SIM_VIEWER_PASSWORD (a licensed user who may read SIM_REPO only: "sign in with Bitbucket").
 */
async function main(): Promise<void> {
  const env = process.env;
  const user = env.SIM_USER ?? 'admin';
  const token = env.SIM_TOKEN ?? 'demo-token-not-secret';
  const project = env.SIM_PROJECT ?? 'DEMO';
  const repo = env.SIM_REPO ?? 'infra';
  const sim = await startSimulator({
    port: Number(env.PORT ?? 7990),
    host: env.HOST ?? '127.0.0.1',
    pageSize: Number(env.SIM_PAGE_SIZE ?? 25),
    ...(env.SIM_WEBHOOK_URL
      ? {
          webhookTarget: {
            url: env.SIM_WEBHOOK_URL,
            ...(env.SIM_WEBHOOK_SECRET ? { secret: env.SIM_WEBHOOK_SECRET } : {}),
          },
        }
      : {}),
  });
  sim.addUser({ name: user, token, permission: 'admin', displayName: 'Demo Admin' });
  sim.addProject({ key: project, name: 'Demo project' });
  sim.addRepository({
    project,
    slug: repo,
    files: ['README.md', 'stacks/network/main.tf', 'stacks/app/main.tf'],
  });
  const viewer = env.SIM_VIEWER ?? 'viewer';
  const viewerPassword = env.SIM_VIEWER_PASSWORD ?? 'viewer-password-not-secret';
  sim.addUser({ name: viewer, token: viewerPassword, permission: 'licensed', displayName: 'Demo Viewer' });
  sim.setRepositoryPermission({ project, repo, user: viewer, permission: 'REPO_READ' });
  process.stdout.write(
    `Bitbucket simulator listening on ${sim.url}\n` +
      `  user ${user}, token ${token} (demo only)\n` +
      `  repository ${project}/${repo}, default branch main\n` +
      `  viewer ${viewer}, password ${viewerPassword} (reads ${project}/${repo} only; sign in with Bitbucket)\n` +
      `  scenario API: ${sim.url}/_sim/push, /_sim/pull-requests, /_sim/statuses\n`,
  );
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
