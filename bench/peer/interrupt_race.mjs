// The interrupt race of tests/engine/test_interrupt_timing.py, run on the original.
//
// A job (boss) starts a child (crew) and sleeps 1 s; the child sleeps 1 s too; the boss's
// wake-up interrupts the child. Prints one JSON line: per run, the boss's answer (or its
// rejection), its stored data and err, and the child's data and status.
// Run: python bench/peer/run.py interrupt_race.mjs   (RUNS, THROW=1 select the case)
import './env.mjs';
import { HotMesh } from '@hotmeshio/hotmesh';
import { connection, adminClient } from './common.mjs';

const YAML = `
app:
  id: orch
  version: '1'
  graphs:
    - subscribes: boss.go
      activities:
        b0:
          type: trigger
        nap:
          type: hook
          sleep: 1
          job: { maps: { napped: true } }
        halt:
          type: interrupt
          throw: '{b0.output.data.throw}'
          topic: crew.go
          target: '{b0.output.data.wid}'
          job: { maps: { halted: true } }
        call:
          type: await
          topic: crew.go
          input: { maps: { wid: '{b0.output.data.wid}' } }
          job:
            maps:
              first: '{$self.output.data.first}'
              rest: '{$self.output.data.rest}'
              later: '{$self.output.data.later}'
              halted_in_child: '{$self.output.data.halted}'
      transitions:
        b0:
          - to: nap
          - to: call
        nap:
          - to: halt
    - subscribes: crew.go
      activities:
        c0:
          type: trigger
          stats:
            id: '{$self.input.data.wid}'
        first:
          type: hook
          job: { maps: { first: done } }
        rest:
          type: hook
          sleep: 1
          job: { maps: { rest: done } }
        later:
          type: hook
          job: { maps: { later: done } }
      transitions:
        c0:
          - to: first
          - to: rest
        rest:
          - to: later
`;
const runs = parseInt(process.env.RUNS || '5', 10);
const thrown = process.env.THROW === '1';
const admin = adminClient();
await admin.flushdb();
const hm = await HotMesh.init({ appId: 'orch', logLevel: 'error', engine: { connection } });
await hm.deploy(YAML);
await hm.activate('1');
const out = [];
for (let i = 0; i < runs; i++) {
  const wid = `crew-${i}`;
  const rec = {};
  try {
    rec.result = (await hm.pubsub('boss.go', { throw: thrown, wid }, null, 15000)).data;
  } catch (e) {
    rec.rejected = e;
    const boss = await hm.getState('boss.go', e.job_id);
    rec.boss = { data: boss.data, err: boss.metadata.err };
  }
  const child = await hm.getState('crew.go', wid);
  rec.child = { data: child.data, js: child.metadata.js };
  out.push(rec);
}
console.log(JSON.stringify(out));
await HotMesh.stop();
process.exit(0);
