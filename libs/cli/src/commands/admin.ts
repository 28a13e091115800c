import { describeConfigError } from '@stacklink/config';
import { reencryptStore } from '@stacklink/integration';
import { print, type CommandGroup } from '../command';
import { CliError, EXIT } from '../exit-codes';
import { details } from '../output';

export const adminCommands: CommandGroup = {
  name: 'admin',
  summary: 'operator tasks run beside the store (reencrypt)',
  commands: [
    {
      name: 'reencrypt',
      summary: 're-seals every stored secret under MASTER_KEY so PREVIOUS_MASTER_KEYS can be removed',
      usage: '',
      help: [
        'reads STORE_URL, MASTER_KEY and PREVIOUS_MASTER_KEYS like the integration service (run it where that',
        'service runs); idempotent; prints counts, never a value. Exit 3 when a value cannot be decrypted.',
      ],
      async run(ctx) {
        let report;
        try {
          report = await reencryptStore(ctx.env);
        } catch (err) {
          if ((err as { code?: string }).code === 'CONFIG.INVALID') {
            throw new CliError(EXIT.USAGE, describeConfigError(err));
          }
          throw new CliError(EXIT.INVALID_INPUT, `reencrypt failed: ${(err as Error).message}`);
        }
        print(ctx, report, (r) => details(Object.entries(r)));
      },
    },
  ],
};
