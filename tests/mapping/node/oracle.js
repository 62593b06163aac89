// A long-running oracle for the property tests: reads one JSON line per call,
// {"name": "math.add", "args": <tagged args>} or {"rule": <tagged rule>, "context": <tagged>},
// resolves it with the ORIGINAL @hotmeshio/hotmesh 0.3.32 mapper, and writes one
// JSON line back: {"result": <tagged>} or {"throws": "<JS error class>"}.
//   TZ=UTC HOTMESH_ORIGINAL=<dir holding node_modules/@hotmeshio/hotmesh> node oracle.js
'use strict';
const os = require('os');
const path = require('path');
const readline = require('readline');

if (process.env.TZ !== 'UTC') throw new Error('run with TZ=UTC');
const root = process.env.HOTMESH_ORIGINAL || path.join(os.homedir(), '.cache/hotmesh-nb/mapping-original');
const { MapperService } = require(path.join(root, 'node_modules/@hotmeshio/hotmesh/build/services/mapper'));
// V8 refuses the locale '' in toLocale{,Date,Time}String only until that method has
// formatted with the default locale once in the process; a running engine has, so the
// oracle answers as one (ours accepts '' always, see _check_locales in date.py).
for (const method of ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']) {
  new Date(0)[method]();
}

const NUMBERS = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
function dec(v) {
  if (v === null || typeof v !== 'object') return v;
  if ('$u' in v) return undefined;
  if ('$n' in v) return NUMBERS[v.$n];
  if ('$d' in v) return new Date(dec(v.$d));
  if ('$a' in v) return v.$a.map(dec);
  return Object.fromEntries(v.$o.map(([k, x]) => [k, dec(x)]));
}
function enc(v) {
  if (v === undefined) return { $u: 1 };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $n: 'NaN' };
    if (v === Infinity) return { $n: 'Infinity' };
    if (v === -Infinity) return { $n: '-Infinity' };
    if (Object.is(v, -0)) return { $n: '-0' };
    return v;
  }
  if (typeof v === 'function') return { $f: v.name };
  if (v instanceof Date) return { $d: enc(v.getTime()) };
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return enc(v.valueOf());
  if (Array.isArray(v)) return { $a: Array.from(v, enc) };
  if (v !== null && typeof v === 'object') return { $o: Object.keys(v).map((k) => [k, enc(v[k])]) };
  return v;
}
function answer(request) {
  let rule;
  let context;
  if ('rule' in request) {
    rule = dec(request.rule);
    context = dec(request.context);
  } else {
    const args = dec(request.args);
    context = { d: {} };
    args.forEach((a, i) => { context.d[`a${i}`] = a; });
    const row = args.map((_, i) => `{d.a${i}}`);
    rule = args.length ? { '@pipe': [row, [`{@${request.name}}`]] } : { '@pipe': [[`{@${request.name}}`]] };
  }
  try {
    return { result: enc(new MapperService({ r: rule }, context).mapRules().r) };
  } catch (e) {
    return { throws: e.constructor.name };
  }
}
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  process.stdout.write(JSON.stringify(answer(JSON.parse(line))) + '\n');
});
