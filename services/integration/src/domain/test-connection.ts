import { explainBitbucketError, type CheckName, type Explanation } from './explain-bitbucket-error';
import { integrationNotFound } from './integration-errors';
import { openSecret } from './open-secret';
import type { BitbucketPort, IntegrationDeps, IntegrationRecord } from './ports';

export interface ConnectionCheck {
  name: CheckName;
  ok: boolean;
  /** What was found, and when something fails, what to change. */
  message: string;
  /** True when the check was not run because an earlier one failed. */
  skipped?: boolean;
}

/**
 * The answer of `POST /integrations/{id}/test`: always this structure, never an error status for a
 * failing Bitbucket (the test itself worked). `checks` always lists the five checks in order.
 */
export interface ConnectionTestReport {
  ok: boolean;
  serverVersion?: string;
  checks: ConnectionCheck[];
}

const ORDER: readonly CheckName[] = [
  'reachability',
  'bitbucket',
  'credentials',
  'permissions',
  'build_status_api',
];

export function createTestConnection(deps: IntegrationDeps): (id: string) => Promise<ConnectionTestReport> {
  return async (id) => {
    const record = await deps.repository.findById(id);
    if (record === undefined) throw integrationNotFound(id);
    const client = deps.bitbucket({
      apiHost: record.apiHost,
      username: record.username,
      accessToken: openSecret(deps, record, 'accessToken'),
      ...(record.tls.caCertificate === undefined ? {} : { caCertificate: record.tls.caCertificate }),
    });
    const { report, outcome } = await runChecks(client, record);
    deps.metrics.connectionTested(outcome);
    deps.logger.info('connection tested', {
      integrationId: id,
      outcome,
      ok: report.ok,
      serverVersion: report.serverVersion,
    });
    return report;
  };
}

async function runChecks(
  client: BitbucketPort,
  record: IntegrationRecord,
): Promise<{ report: ConnectionTestReport; outcome: string }> {
  const passed: ConnectionCheck[] = [];
  const ctx = { apiHost: record.apiHost, username: record.username };
  const fail = (during: CheckName, err: unknown, serverVersion?: string) =>
    failedReport(passed, explainBitbucketError(err, { ...ctx, during }), serverVersion);

  let serverVersion: string;
  try {
    serverVersion = await client.getServerVersion();
  } catch (err) {
    return fail('bitbucket', err);
  }
  passed.push({ name: 'reachability', ok: true, message: `${record.apiHost} answers.` });
  passed.push({
    name: 'bitbucket',
    ok: true,
    message: `Bitbucket Data Center ${serverVersion} answers at ${record.apiHost}.`,
  });

  try {
    const { username } = await client.checkCredentials();
    // Bitbucket user names are case-insensitive.
    if (username.toLowerCase() !== record.username.toLowerCase()) {
      return failedReport(
        passed,
        {
          check: 'credentials',
          outcome: 'wrong_user',
          message: `The access token belongs to the Bitbucket user ${username}, not to ${record.username}. Enter ${username} as the username, or use an access token of ${record.username}.`,
        },
        serverVersion,
      );
    }
  } catch (err) {
    return fail('credentials', err, serverVersion);
  }
  passed.push({
    name: 'credentials',
    ok: true,
    message: `Bitbucket accepts the access token of ${record.username}.`,
  });

  try {
    const projects = await client.listProjects(1);
    const first = projects[0];
    if (first === undefined) {
      return failedReport(
        passed,
        {
          check: 'permissions',
          outcome: 'no_projects',
          message: `The access token of ${record.username} works but sees no project. Give ${record.username} read permission on the projects that hold your stacks' repositories (and the token at least Repository read permission), then test again.`,
        },
        serverVersion,
      );
    }
    passed.push({
      name: 'permissions',
      ok: true,
      message: `The token can see projects (for example ${first.key}).`,
    });
  } catch (err) {
    return fail('permissions', err, serverVersion);
  }

  let outcome = 'ok';
  try {
    if ((await client.buildStatusApi()) === 'repository') {
      passed.push({
        name: 'build_status_api',
        ok: true,
        message: 'Commit statuses will be posted through the repository-scoped build status API.',
      });
    } else {
      outcome = 'ok_legacy_build_status';
      passed.push({
        name: 'build_status_api',
        ok: true,
        message: `Bitbucket ${serverVersion} is too old for the repository-scoped build status API (Bitbucket 7.4 and later); Stacklink posts commit statuses through the legacy build status API instead, which works. Upgrade Bitbucket to get statuses tied to the repository.`,
      });
    }
  } catch (err) {
    return fail('build_status_api', err, serverVersion);
  }
  return { report: { ok: true, serverVersion, checks: passed }, outcome };
}

function failedReport(
  passed: ConnectionCheck[],
  explanation: Explanation,
  serverVersion: string | undefined,
): { report: ConnectionTestReport; outcome: string } {
  // A failure can only land on a check that has not passed yet; earlier ones stay as they were.
  const done = new Set(passed.map((c) => c.name));
  const failedAt = done.has(explanation.check)
    ? (ORDER.find((name) => !done.has(name)) ?? explanation.check)
    : explanation.check;
  const checks: ConnectionCheck[] = [...passed];
  let reached = false;
  for (const name of ORDER) {
    if (done.has(name)) continue;
    if (name === failedAt) {
      checks.push({ name, ok: false, message: explanation.message });
      reached = true;
    } else if (!reached) {
      // The failure proves this earlier check worked (e.g. a 401 means the host answered).
      checks.push({ name, ok: true, message: passedImplicitly(name) });
    } else {
      checks.push({
        name,
        ok: false,
        skipped: true,
        message: `Not checked: ${labelOf(failedAt)} failed first.`,
      });
    }
  }
  const report: ConnectionTestReport = { ok: false, checks };
  if (serverVersion !== undefined) report.serverVersion = serverVersion;
  return { report, outcome: explanation.outcome };
}

function passedImplicitly(name: CheckName): string {
  return name === 'reachability' ? 'The host answers.' : `The ${labelOf(name)} check passed.`;
}

function labelOf(name: CheckName): string {
  return name === 'build_status_api' ? 'build status API' : name;
}
