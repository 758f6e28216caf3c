#!/usr/bin/env node
// Mints a bearer token for curl against a local `npm start`, signed with the dev secret the stack uses.
// Usage: npm run -s token -- --warehouses '*' --roles manager [--sub me] [--expires 12h]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';

const { values } = parseArgs({
  options: {
    warehouses: { type: 'string', default: '*' },
    roles: { type: 'string', default: 'viewer' },
    sub: { type: 'string', default: 'cli-user' },
    expires: { type: 'string', default: '12h' },
  },
});

function secret() {
  if (process.env.JWT_SECRET) return process.env.JWT_SECRET;
  const file = resolve(import.meta.dirname, '../.data/dev-jwt-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    console.error(`no JWT_SECRET and no ${file}: run \`npm start\` once to create it`);
    process.exit(1);
  }
}

const list = (text) =>
  text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
// The services refuse a token without `exp` (and one that lives longer than 24 h).
const jwt = new SignJWT({ warehouses: list(values.warehouses), roles: list(values.roles) })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject(values.sub)
  .setIssuedAt()
  .setExpirationTime(values.expires);
if (process.env.JWT_ISSUER) jwt.setIssuer(process.env.JWT_ISSUER);
if (process.env.JWT_AUDIENCE) jwt.setAudience(process.env.JWT_AUDIENCE);
console.log(await jwt.sign(new TextEncoder().encode(secret())));
