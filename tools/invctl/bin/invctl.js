#!/usr/bin/env node
// The CLI runs from its build: `npm run build` (tsc -b) first.
import '../dist/main.js';
