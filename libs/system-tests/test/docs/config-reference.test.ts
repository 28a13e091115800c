import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { renderConfigurationReference, ROLES, variablesOf } from '../../src';

describe('configuration reference', () => {
  it('docs/configuration.md is exactly what the joi schemas generate (regenerate it when a variable changes)', () => {
    const committed = readFileSync(path.resolve(__dirname, '../../../../../docs/configuration.md'), 'utf8');
    expect(committed).to.equal(renderConfigurationReference());
  });

  it('lists every variable of every role, with its required flag and default', () => {
    const text = renderConfigurationReference();
    for (const role of ROLES) {
      for (const v of variablesOf(role.schema))
        expect(text, `${role.role} ${v.name}`).to.contain(`| \`${v.name}\` |`);
    }
    const gateway = variablesOf(ROLES.find((r) => r.role === 'gateway')!.schema);
    expect(gateway.find((v) => v.name === 'GATEWAY_TOKEN')?.required).to.equal(true);
    expect(gateway.find((v) => v.name === 'PORT')?.default).to.equal(8080);
  });
});
