// MeshCall baseline: exec round trips, uncached and cached, over Redis.
//
//   node meshcall.mjs         (defaults below; see env vars)
//
// Env: REDIS_PORT (6399), WARMUP (50), SEQ (500), TOTAL (2000), CONC (50),
//      KEYS_CACHED (100), COUNT_K (200), FLUSH (1: FLUSHDB before start)
// Prints progress to stderr and one JSON result line to stdout.
import './env.mjs';
import os from 'node:os';
import { MeshCall } from '@hotmeshio/hotmesh';
import {
  connection, intEnv, summarize, nowMs, runPool, adminClient,
  countCommands, log, hotmeshVersion, cpuSnapshot, cpuDelta,
} from './common.mjs';

const WARMUP = intEnv('WARMUP', 50);
const SEQ = intEnv('SEQ', 500);
const TOTAL = intEnv('TOTAL', 2000);
const CONC = intEnv('CONC', 50);
const KEYS_CACHED = intEnv('KEYS_CACHED', 100);
const COUNT_K = intEnv('COUNT_K', 200);
const FLUSH = intEnv('FLUSH', 1);
const IDLE_MS = intEnv('IDLE_MS', 3000);
const TOPIC = 'bench.echo';

const call = (n) => MeshCall.exec({ topic: TOPIC, args: [n], connection });
const cached = (n) => MeshCall.exec({
  topic: TOPIC, args: [n % KEYS_CACHED], connection,
  options: { id: `c-${n % KEYS_CACHED}`, ttl: '1 hour' },
});

function check(out, n) {
  if (out?.echo !== n) throw new Error(`unexpected response ${JSON.stringify(out)} for ${n}`);
}

async function sequential(fn, expect) {
  const lat = [];
  for (let i = 0; i < SEQ; i++) {
    const t0 = nowMs();
    const out = await fn(i);
    lat.push(nowMs() - t0);
    check(out, expect(i));
  }
  return summarize(lat);
}

async function throughput(admin, fn, expect) {
  const cpu0 = await cpuSnapshot(admin);
  const t0 = nowMs();
  const { done, errors } = await runPool(TOTAL, CONC, async (i) => check(await fn(i), expect(i)));
  const elapsed = (nowMs() - t0) / 1000;
  const cpu = cpuDelta(cpu0, await cpuSnapshot(admin), TOTAL);
  if (errors.length) log('first error:', errors[0]);
  return { total: TOTAL, concurrency: CONC, done, errors: errors.length, seconds: +elapsed.toFixed(3), ...cpu, callsPerSec: +(done / elapsed).toFixed(1) };
}

async function commandsPerCall(admin, fn, idlePerSec) {
  const cmd = await countCommands(admin, async () => {
    const s = nowMs();
    for (let i = 0; i < COUNT_K; i++) await fn(i);
    return (nowMs() - s) / 1000;
  });
  return +((cmd.total - idlePerSec * cmd.result) / COUNT_K).toFixed(2);
}

async function main() {
  const admin = adminClient();
  if (FLUSH) await admin.flushdb();

  const t0 = nowMs();
  await MeshCall.connect({ topic: TOPIC, connection, callback: async (n) => ({ echo: n }) });
  log(`connect ${(nowMs() - t0).toFixed(0)} ms`);
  for (let i = 0; i < WARMUP; i++) check(await call(i), i);

  const uncachedSeq = await sequential(call, (i) => i);
  log(`uncached sequential x${SEQ}: p50 ${uncachedSeq.p50} ms, p95 ${uncachedSeq.p95} ms`);
  const uncachedThr = await throughput(admin, call, (i) => i);
  log(`uncached throughput: ${uncachedThr.callsPerSec} calls/s (conc ${CONC})`);

  for (let i = 0; i < KEYS_CACHED; i++) check(await cached(i), i);  // fill the cache
  const cachedSeq = await sequential(cached, (i) => i % KEYS_CACHED);
  log(`cached sequential x${SEQ}: p50 ${cachedSeq.p50} ms, p95 ${cachedSeq.p95} ms`);
  const cachedThr = await throughput(admin, cached, (i) => i % KEYS_CACHED);
  log(`cached throughput: ${cachedThr.callsPerSec} calls/s (conc ${CONC})`);

  const idle = await countCommands(admin, () => new Promise((r) => setTimeout(r, IDLE_MS)));
  const idlePerSec = idle.total / (IDLE_MS / 1000);
  const uncachedCmds = await commandsPerCall(admin, call, idlePerSec);
  const cachedCmds = await commandsPerCall(admin, cached, idlePerSec);
  log(`commands per call: uncached ${uncachedCmds}, cached ${cachedCmds}`);

  await MeshCall.shutdown();
  await admin.quit();
  console.log(JSON.stringify({
    script: 'meshcall',
    hotmesh: hotmeshVersion(),
    node: process.version,
    machine: { cpus: os.cpus().length },
    uncached: { sequential: uncachedSeq, throughput: uncachedThr, commands_per_call: uncachedCmds },
    cached: { sequential: cachedSeq, throughput: cachedThr, commands_per_call: cachedCmds },
  }));
}

main().then(
  () => process.exit(0),
  (e) => { console.error(e); process.exit(1); },
);
