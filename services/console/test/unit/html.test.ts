import { expect } from 'chai';
import { escapeHtml, html } from '../../src/views/html';
import { layout } from '../../src/views/layout';

describe('console html templates', () => {
  it('escapes every interpolated string, so markup in data stays text', () => {
    const name = `<script>alert("x")</script>' onload='x' \`tick\` &amp;`;
    expect(html`<p title="${name}">${name}</p>`.value).to.equal(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x&#39; &#96;tick&#96; &amp;amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x&#39; &#96;tick&#96; &amp;amp;</p>',
    );
  });

  it('keeps nested templates as markup and escapes them only once', () => {
    const inner = html`<b>${'a < b'}</b>`;
    expect(html`<p>${inner}</p>`.value).to.equal('<p><b>a &lt; b</b></p>');
  });

  it('renders arrays item by item and nothing for undefined, null and false', () => {
    // prettier-ignore
    const list = html`<ul>${['<1>', html`<li>2</li>`]}</ul>`;
    expect(list.value).to.equal('<ul>&lt;1&gt;<li>2</li></ul>');
    expect(html`[${undefined}${null}${false}]`.value).to.equal('[]');
    expect(html`${0} ${true}`.value).to.equal('0 true');
  });

  it('escapes objects as their JSON text, never [object Object]', () => {
    expect(html`${{ a: '<b>' }}`.value).to.equal('{&quot;a&quot;:&quot;&lt;b&gt;&quot;}');
  });

  it('escapeHtml leaves plain text alone', () => {
    expect(escapeHtml('plain text 123')).to.equal('plain text 123');
  });

  it('names a viewer by their Bitbucket username, escaped, and leaves the name out for a session without one', () => {
    const viewerSession = (username?: string) => ({
      id: 'x'.repeat(43),
      signedIn: false,
      viewer: {
        integrationId: 'int-1',
        integrationName: 'bitbucket-main',
        ...(username === undefined ? {} : { username }),
        sealedTokens: 'sealed',
      },
      csrfToken: 'csrf',
      createdAt: 0,
      lastSeenAt: 0,
    });
    const who = (page: string) =>
      /<p class="who" id="signed-in-as">([\s\S]*?)<\/p>/.exec(page)![1]!.replace(/\s+/g, ' ').trim();
    const body = html`<p>run</p>`;
    expect(who(layout({ title: 'Run', session: viewerSession('al<i>ce'), body }))).to.equal(
      'Signed in as <span id="viewer-username">al&lt;i&gt;ce</span> with bitbucket-main',
    );
    expect(who(layout({ title: 'Run', session: viewerSession(), body }))).to.equal(
      'Signed in with bitbucket-main',
    );
  });
});
