// Regenerate expected.json:  TZ=UTC node tests/mapping/node/gen_expected.js
'use strict';
const fs = require('fs');
const path = require('path');
const { W, C } = require('./cases.js');

// Tagged JSON so undefined, NaN, ±Infinity, -0, dates and key order survive.
function enc(v) {
  if (v === undefined) return { $u: 1 };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $n: 'NaN' };
    if (v === Infinity) return { $n: 'Infinity' };
    if (v === -Infinity) return { $n: '-Infinity' };
    if (Object.is(v, -0)) return { $n: '-0' };
    return v;
  }
  if (v instanceof Date) return { $d: enc(v.getTime()) };
  if (Array.isArray(v)) return { $a: Array.from(v, enc) };
  if (v !== null && typeof v === 'object') return { $o: Object.keys(v).map((k) => [k, enc(v[k])]) };
  return v;
}

if (process.env.TZ !== 'UTC') throw new Error('run with TZ=UTC');
const out = C.map(([name, args]) => {
  const record = { name, args: enc(args) };
  try {
    record.result = enc(W[name](...args));
  } catch (e) {
    record.throws = e.constructor.name;
  }
  return record;
});
const missing = Object.keys(W).filter((n) => !C.some(([c]) => c === n));
if (missing.length) console.error('functions without cases:', missing.join(', '));
fs.writeFileSync(path.join(__dirname, 'expected.json'), JSON.stringify({ node: process.version, cases: out }, null, 0) + '\n');
console.log(`${out.length} cases recorded with Node ${process.version}`);
