import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderConfigurationReference } from './config-reference';

// Writes docs/configuration.md at the repository root.
const target = path.resolve(__dirname, '../../../../docs/configuration.md');
writeFileSync(target, renderConfigurationReference());
process.stdout.write(`wrote ${target}\n`);
