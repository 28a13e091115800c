import { html, type Html } from './html';
import { stateBadge, when } from './layout';

/** Runs as a table, each linking to its run page. */
export function runTable(
  runs: { id: string; stackId: string; type: string; commit: string; state: string; createdAt: string }[],
  id: string,
): Html {
  if (runs.length === 0) return html`<p>No run yet.</p>`;
  const enc = encodeURIComponent;
  return html`<table id="${id}">
    <thead>
      <tr>
        <th scope="col">Run</th>
        <th scope="col">Type</th>
        <th scope="col">Commit</th>
        <th scope="col">State</th>
        <th scope="col">Created</th>
      </tr>
    </thead>
    <tbody>
      ${runs.map(
        (r) =>
          html`<tr>
            <td><a href="/stacks/${enc(r.stackId)}/runs/${enc(r.id)}">${r.id.slice(0, 8)}</a></td>
            <td>${r.type}</td>
            <td><code>${r.commit.slice(0, 12)}</code></td>
            <td>${stateBadge(r.state)}</td>
            <td>${when(r.createdAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
