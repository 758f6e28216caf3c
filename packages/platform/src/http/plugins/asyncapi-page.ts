/**
 * A self-contained HTML rendering of the AsyncAPI document (no scripts, no CDN: the services may run where
 * there is no internet). One section per channel: its address, parameters, and each message's payload schema.
 */
type Json = Record<string, unknown>;

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function resolveRef(doc: Json, ref: string): Json {
  let node: unknown = doc;
  for (const key of ref.replace(/^#\//, '').split('/')) node = (node as Json | undefined)?.[key];
  return (node as Json) ?? {};
}

function renderMessage(doc: Json, ref: Json): string {
  const message = typeof ref.$ref === 'string' ? resolveRef(doc, ref.$ref) : ref;
  const title = String(message.title ?? message.name ?? '');
  const summary = message.summary ? `<p>${escapeHtml(String(message.summary))}</p>` : '';
  const payload = escapeHtml(JSON.stringify(message.payload ?? {}, null, 2));
  return `<details><summary>${escapeHtml(title)}</summary>${summary}<pre>${payload}</pre></details>`;
}

function renderChannel(doc: Json, id: string, channel: Json): string {
  const parameters = Object.entries((channel.parameters as Record<string, Json>) ?? {})
    .map(
      ([name, p]) => `<li><code>${escapeHtml(name)}</code>: ${escapeHtml(String(p.description ?? ''))}</li>`,
    )
    .join('');
  const messages = Object.values((channel.messages as Record<string, Json>) ?? {})
    .map((m) => renderMessage(doc, m))
    .join('');
  const extra = channel['x-channels']
    ? `<pre>${escapeHtml(JSON.stringify(channel['x-channels'], null, 2))}</pre>`
    : '';
  return (
    `<section id="${escapeHtml(id)}"><h3>${escapeHtml(String(channel.title ?? id))}</h3>` +
    `<p><code>${escapeHtml(String(channel.address ?? ''))}</code></p>` +
    `<p>${escapeHtml(String(channel.description ?? ''))}</p>` +
    (parameters ? `<ul>${parameters}</ul>` : '') +
    extra +
    messages +
    '</section>'
  );
}

export function renderAsyncApiPage(doc: Json): string {
  const info = (doc.info as Json) ?? {};
  const channels = Object.entries((doc.channels as Record<string, Json>) ?? {});
  const toc = channels
    .map(([id, c]) => `<li><a href="#${escapeHtml(id)}">${escapeHtml(String(c.title ?? id))}</a></li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(String(info.title ?? 'AsyncAPI'))}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
pre{background:#f4f4f4;padding:.5rem;overflow:auto;font-size:.8rem}section{border-top:1px solid #ddd;margin-top:1rem}</style>
</head><body>
<h1>${escapeHtml(String(info.title ?? ''))} <small>AsyncAPI ${escapeHtml(String(doc.asyncapi ?? ''))}</small></h1>
<p>${escapeHtml(String(info.description ?? ''))}</p>
<p>Machine-readable: <a href="/asyncapi.json">/asyncapi.json</a>. REST: <a href="/docs">/docs</a>.</p>
<h2>Channels</h2><ul>${toc}</ul>
${channels.map(([id, c]) => renderChannel(doc, id, c)).join('\n')}
</body></html>
`;
}
