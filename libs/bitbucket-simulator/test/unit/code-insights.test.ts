import { expect } from 'chai';
import {
  INSIGHT_LIMITS,
  requiredBuildVetoes,
  validAnnotations,
  validReport,
  validReportKey,
  type RecordedStatus,
} from '../../src/index';

const status = (state: string, at: number, extra: Partial<RecordedStatus> = {}): RecordedStatus => ({
  api: 'repository',
  commit: 'c1',
  key: 'stacklink/s1',
  state,
  url: 'http://ui/x',
  user: 'u',
  at,
  ...extra,
});

describe('simulator Code Insights validation', () => {
  let id = 0;
  const nextId = () => ++id;

  it('accepts a report key of letters, digits, dot, dash and underscore, and refuses others naming key', () => {
    expect(validReportKey('stacklink-1a2b.c_d')).to.equal(undefined);
    for (const bad of ['', 'has space', 'slash/key', '-leading', 'k'.repeat(INSIGHT_LIMITS.keyLength + 1)]) {
      expect(validReportKey(bad)?.field, bad).to.equal('key');
    }
  });

  it('refuses a report without a title, with a bad result, or with more than 6 data fields, naming the field', () => {
    expect(validReport({}).ok).to.equal(false);
    const noTitle = validReport({ result: 'PASS' });
    expect(!noTitle.ok && noTitle.error.field).to.equal('title');
    const badResult = validReport({ title: 't', result: 'OK' });
    expect(!badResult.ok && badResult.error.field).to.equal('result');
    const data = Array.from({ length: 7 }, (_, i) => ({ title: `f${i}`, type: 'NUMBER', value: i }));
    const tooMany = validReport({ title: 't', data });
    expect(!tooMany.ok && tooMany.error.field).to.equal('data');
    const badNumber = validReport({ title: 't', data: [{ title: 'n', type: 'NUMBER', value: 'x' }] });
    expect(!badNumber.ok && badNumber.error.field).to.equal('data[0].value');
    const good = validReport({ title: 't', result: 'FAIL', data: data.slice(0, 6), link: 'https://ui/run' });
    expect(good.ok && good.value.data).to.have.length(6);
  });

  it('caps annotations per request and per report, and names the bad annotation field', () => {
    const one = { path: 'a.tf', line: 1, severity: 'HIGH', message: 'm' };
    const full = Array.from({ length: INSIGHT_LIMITS.annotationsPerRequest + 1 }, () => one);
    const tooMany = validAnnotations({ annotations: full }, 0, nextId);
    expect(!tooMany.ok && tooMany.error.field).to.equal('annotations');
    const overReport = validAnnotations(
      { annotations: [one, one] },
      INSIGHT_LIMITS.annotationsPerReport - 1,
      nextId,
    );
    expect(!overReport.ok && overReport.error.message).to.match(/at most 1000/);
    const badSeverity = validAnnotations({ annotations: [one, { ...one, severity: 'CRITICAL' }] }, 0, nextId);
    expect(!badSeverity.ok && badSeverity.error.field).to.equal('annotations[1].severity');
    const ok = validAnnotations({ annotations: [one, { ...one, line: undefined }] }, 0, nextId);
    expect(ok.ok && ok.value.map((a) => a.line)).to.deep.equal([1, 0]);
  });
});

describe('simulator required-builds merge check', () => {
  it('vetoes while the required build has not run, is INPROGRESS or FAILED, and allows it once SUCCESSFUL', () => {
    const required = ['stacklink/s1'];
    expect(requiredBuildVetoes(required, 'c1', [])[0]?.detailedMessage).to.match(/has not run/);
    expect(requiredBuildVetoes(required, 'c1', [status('INPROGRESS', 1)])).to.have.length(1);
    expect(
      requiredBuildVetoes(required, 'c1', [status('INPROGRESS', 1), status('FAILED', 2)])[0]?.detailedMessage,
    ).to.match(/FAILED/);
    expect(requiredBuildVetoes(required, 'c1', [status('FAILED', 2), status('SUCCESSFUL', 3)])).to.deep.equal(
      [],
    );
  });

  it('matches a build by its parent key, and only on the source commit', () => {
    const byParent = status('SUCCESSFUL', 1, { key: 'other-key', parent: 'stacklink/s1' });
    expect(requiredBuildVetoes(['stacklink/s1'], 'c1', [byParent])).to.deep.equal([]);
    expect(requiredBuildVetoes(['stacklink/s1'], 'c2', [byParent])).to.have.length(1);
  });
});
