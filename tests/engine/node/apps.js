// Runs YAML apps on the ORIGINAL HotMesh 0.3.32 engine and prints what each job holds.
//   HOTMESH_ORIGINAL=<dir holding node_modules> node apps.js <server url> <namespace> <cases.json>
// cases.json: [{id, yaml, namespace?, workers: [topic], jobs: [{name, topic, data, wait_ms?,
// settle_ms?}]}] (an app's own namespace, when it has one, replaces the command line's)
// (a job entry with `hook: <topic>` sends that signal instead, then waits settle_ms;
// an app's reports: [{topic, query, facets?}] are getStats / getIds after its jobs)
// Every worker topic answers with the echo that test_apps_against_the_original.py gives
// ours: its input, plus {seen: <topic>, n2: 2 * input.n} ({note: 'bare'} when input.bare),
// with code = input.code (default 200) and status = input.status (default: 'pending' for
// 202, else 'success'); without a status, a code of 400 or more answers the error
// {message: 'boom', code}. Prints one JSON line:
// [{app, job, status, data, err}] (data: getState(...).data, null when the job holds none;
// err: its metadata.err, null without one),
// read again, in an app that sends signals, once its signals have run.
'use strict';
const fs = require('fs');
const path = require('path');

const root = process.env.HOTMESH_ORIGINAL;
const { HotMesh } = require(path.join(root, 'node_modules/@hotmeshio/hotmesh'));
const Redis = require(path.join(root, 'node_modules/ioredis'));

const [url, namespace, casesFile] = process.argv.slice(2);
const where = new URL(url);
const options = where.protocol === 'unix:'
  ? { path: decodeURIComponent(where.pathname) }
  : { host: where.hostname, port: Number(where.port || 6379) };
const connection = { class: Redis, options };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function echo(topic) {
  return async (message) => {
    const data = message.data || {};
    const code = data.code ?? 200;
    if (code >= 400 && data.status == null) {
      return { code, status: 'error', metadata: { ...message.metadata }, data: { message: 'boom', code } };
    }
    return {
      code,
      status: data.status ?? (code === 202 ? 'pending' : 'success'),
      metadata: { ...message.metadata },
      data: data.bare ? { note: 'bare' } : { ...data, seen: topic, n2: (data.n ?? 0) * 2 },
    };
  };
}

function read(app, job, status, state) {
  const err = (state.metadata && state.metadata.err) ?? null;
  return { app: app.id, job: job.name, status, data: state.data ?? null, err };
}

async function main() {
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
  const results = [];
  for (const app of cases) {
    const hotMesh = await HotMesh.init({
      appId: app.id,
      namespace: app.namespace ?? namespace,
      logLevel: 'error',
      engine: { connection },
      workers: app.workers.map((topic) => ({ topic, connection, callback: echo(topic) })),
    });
    await hotMesh.deploy(app.yaml);
    await hotMesh.activate('1');
    const started = [];
    for (const job of app.jobs) {
      if (job.hook) { // a signal: {name, hook: <topic>, data, status?, code?}
        await hotMesh.hook(job.hook, job.data, job.status ?? 'success', job.code ?? 200);
        await sleep(job.settle_ms ?? 300);
        continue;
      }
      const jobId = await hotMesh.pub(job.topic, job.data);
      for (let waited = 0; waited < (job.wait_ms ?? 5000); waited += 20) {
        if ((await hotMesh.getStatus(jobId)) <= 0) break;
        await sleep(20);
      }
      await sleep(job.settle_ms ?? 50);
      const status = await hotMesh.getStatus(jobId);
      const state = await hotMesh.getState(job.topic, jobId);
      started.push([job, jobId, results.length]);
      results.push(read(app, job, status, state));
    }
    const names = Object.fromEntries(started.map(([job, jobId]) => [jobId, job.name]));
    for (const [i, q] of (app.reports || []).entries()) { // getStats / getIds, ids as job names
      const report = q.facets
        ? await hotMesh.getIds(q.topic, q.query, q.facets)
        : await hotMesh.getStats(q.topic, q.query);
      for (const segment of report.segments || []) {
        for (const measure of segment.measures) {
          if (measure.ids) measure.ids = measure.ids.map((id) => names[id] ?? id);
        }
      }
      results.push({ app: app.id, job: `report ${i}`, report });
    }
    if (app.jobs.some((job) => job.hook)) { // read again what the signals changed
      for (const [job, jobId, at] of started) {
        const status = await hotMesh.getStatus(jobId);
        const state = await hotMesh.getState(job.topic, jobId);
        results[at] = read(app, job, status, state);
      }
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().then(
  () => process.exit(0), // the original's own stop waits out its loops for many seconds
  (error) => {
    process.stderr.write(String((error && error.stack) || error) + '\n');
    process.exit(1);
  },
);
