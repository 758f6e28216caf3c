import { readFileSync } from 'node:fs';
import { ErrorCode, WS_CLOSE, WsErrorCode } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { HTTP_STATUS } from '../src/http/status.js';

// Like Fastify's errors test: the catalogue in docs/errors.md must name every code the code can send, and only those.
const catalogue = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

/** The first two cells of each table row under a `## heading`, with backticks removed. */
function rowsUnder(heading: string): Map<string, string> {
  const start = catalogue.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const end = catalogue.indexOf('\n## ', start + 1);
  const rows = new Map<string, string>();
  for (const line of catalogue.slice(start, end < 0 ? undefined : end).split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim().replaceAll('`', ''));
    const [, first, second] = cells;
    if (!line.startsWith('|') || !first || /^-+$/.test(first) || first === 'code' || first === 'close code') {
      continue;
    }
    rows.set(first, second ?? '');
  }
  return rows;
}

describe('docs/errors.md', () => {
  it('lists every REST error code with the HTTP status the services send, and no code that does not exist', () => {
    const rows = rowsUnder('REST error codes');
    const documented = Object.fromEntries([...rows].map(([code, status]) => [code, Number(status)]));
    expect(documented).toEqual(HTTP_STATUS);
    expect(Object.keys(HTTP_STATUS).sort()).toEqual([...ErrorCode.options].sort());
  });

  it('lists every WebSocket error code, and no code that does not exist', () => {
    const rows = rowsUnder('WebSocket error codes');
    expect([...rows.keys()].sort()).toEqual([...WsErrorCode.options].sort());
    for (const [code, when] of rows) expect(when, code).not.toBe('');
  });

  it('lists every WebSocket close code, and no code that does not exist', () => {
    const rows = rowsUnder('WebSocket close codes');
    expect([...rows.keys()].map(Number).sort()).toEqual(Object.values(WS_CLOSE).sort());
    for (const [code, meaning] of rows) expect(meaning, code).not.toBe('');
  });
});
