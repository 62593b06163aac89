// Regenerate expected.json by running the ORIGINAL @hotmeshio/hotmesh 0.3.32 mapper:
//
//   TZ=UTC HOTMESH_ORIGINAL=<dir holding node_modules/@hotmeshio/hotmesh> node gen_expected.js
//
// (tests/mapping/test_functions_table.py installs the original with `npm ci` from
// this folder's package.json into ~/.cache/hotmesh-nb/mapping-original and runs this.)
//
// * function cases: the original's MapperService resolves
//   {'@pipe': [['{d.a0}', '{d.a1}', ...], ['{@family.fn}']]} against {d: {a0, a1, ...}}
//   (a call with no arguments is {'@pipe': [['{@family.fn}']]}), exactly as a YAML
//   map calls a function with values read from the job;
// * rule cases: the same rule through MapperService (maps) and Pipe.resolve (fields);
// * helper cases: the JavaScript built-ins our public helpers mirror.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { HELPERS, C, EDGES, EDGES3, TYPICAL, R } = require('./cases.js');

if (process.env.TZ !== 'UTC') throw new Error('run with TZ=UTC');
const root = process.env.HOTMESH_ORIGINAL || path.join(os.homedir(), '.cache/hotmesh-nb/mapping-original');
const pkg = path.join(root, 'node_modules/@hotmeshio/hotmesh');
const version = require(path.join(pkg, 'package.json')).version;
if (version !== '0.3.32') throw new Error(`expected @hotmeshio/hotmesh 0.3.32, found ${version}`);
const { MapperService } = require(path.join(pkg, 'build/services/mapper'));
const { Pipe } = require(path.join(pkg, 'build/services/pipe'));
const FAMILIES = require(path.join(pkg, 'build/services/pipe/functions')).default;

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
  if (typeof v === 'function') return { $f: v.name };
  if (v instanceof Date) return { $d: enc(v.getTime()) };
  // A primitive wrapper (Object.assign(5, {...})) is stored as its primitive, as JSON does.
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return enc(v.valueOf());
  if (Array.isArray(v)) return { $a: Array.from(v, enc) };
  if (v !== null && typeof v === 'object') return { $o: Object.keys(v).map((k) => [k, enc(v[k])]) };
  return v;
}

function attempt(fn) {
  try {
    return { result: enc(fn()) };
  } catch (e) {
    return { throws: e.constructor.name };
  }
}

// Arguments are deep-copied per call: the original's functions may mutate them.
function copy(v) {
  if (v instanceof Date) return new Date(v.getTime());
  if (Array.isArray(v)) return v.map(copy);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copy(x)]));
  return v;
}

function callOriginal(name, args) {
  if (!args.length) return attempt(() => new MapperService({ r: { '@pipe': [[`{@${name}}`]] } }, {}).mapRules().r);
  const d = {};
  args.forEach((a, i) => { d[`a${i}`] = copy(a); });
  const row = args.map((_, i) => `{d.a${i}}`);
  return attempt(() => new MapperService({ r: { '@pipe': [row, [`{@${name}}`]] } }, { d }).mapRules().r);
}

// Every function of the original, with its declared parameter count.
const functions = [];
for (const family of Object.keys(FAMILIES)) {
  const obj = FAMILIES[family];
  for (const fn of Object.getOwnPropertyNames(Object.getPrototypeOf(obj))) {
    if (fn !== 'constructor') functions.push([`${family}.${fn}`, obj[fn].length]);
  }
}

const sweeps = [];
for (const [name, arity] of functions) {
  const typical = TYPICAL[name.split('.')[0]];
  const positions = arity === 0 ? 2 : Math.min(arity, 3);
  for (let p = 0; p < positions; p += 1) {
    for (const e of p < 2 ? EDGES : EDGES3) sweeps.push([name, [...typical.slice(0, p), e]]);
  }
}

// A case whose answer depends on the clock or on Math.random is not a table case:
// every sweep runs again under a clock shifted by 400 days and 7 ms and another
// random source, and must give the same answer.
function shifted(run) {
  const RealDate = Date;
  const realRandom = Math.random;
  const offset = 400 * 86400000 + 3 * 3600000 + 7;
  class ShiftedDate extends RealDate {
    constructor(...a) {
      if (a.length) super(...a);
      else super(RealDate.now() + offset);
    }
    static now() { return RealDate.now() + offset; }
  }
  globalThis.Date = ShiftedDate;
  Math.random = () => 0.123456789;
  try {
    return run();
  } finally {
    globalThis.Date = RealDate;
    Math.random = realRandom;
  }
}
const firstPass = sweeps.map(([name, args]) => JSON.stringify(callOriginal(name, args)));
const stable = shifted(() => sweeps.map(([name, args], i) => JSON.stringify(callOriginal(name, args)) === firstPass[i]));

const cases = [];
for (const [name, args] of C) {
  const record = { name, args: enc(args) };
  if (name.startsWith('helper.')) Object.assign(record, attempt(() => HELPERS[name](...args)));
  else Object.assign(record, callOriginal(name, args));
  cases.push(record);
}
const seen = new Set(cases.map((c) => JSON.stringify([c.name, c.args])));
let dropped = 0;
sweeps.forEach(([name, args], i) => {
  const key = JSON.stringify([name, enc(args)]);
  if (seen.has(key)) return;
  seen.add(key);
  if (!stable[i]) { dropped += 1; return; }
  cases.push({ name, args: enc(args), sweep: true, ...callOriginal(name, args) });
});

const rules = R.map(([rule, context]) => ({
  rule: enc(rule),
  context: enc(context),
  map: attempt(() => new MapperService({ r: copy(rule) }, copy(context)).mapRules().r),
  field: attempt(() => Pipe.resolve(copy(rule), copy(context))),
}));

const missing = functions.map(([n]) => n).filter((n) => !C.some(([c]) => c === n));
if (missing.length) console.error('functions without hand-written cases:', missing.join(', '));
fs.writeFileSync(
  path.join(__dirname, 'expected.json'),
  JSON.stringify({ original: `@hotmeshio/hotmesh ${version}`, node: process.version, cases, rules }, null, 0) + '\n',
);
console.log(`${cases.length} function cases (${dropped} clock-dependent sweeps dropped) and ${rules.length} rule cases recorded with Node ${process.version}`);
