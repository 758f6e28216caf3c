import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatAsyncApiDocument } from './asyncapi.js';

// `npm run asyncapi`: regenerates docs/asyncapi.json from the contracts (run from the built dist).
const target = resolve(import.meta.dirname, '../../../docs/asyncapi.json');
writeFileSync(target, formatAsyncApiDocument());
console.log(`wrote ${target}`);
