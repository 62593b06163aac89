-- Claim durable items for one run of a workflow function, and record the
-- results of the local activities the run completed since its last write.
--
-- Several replays of one workflow may run at once (a retried message, a
-- redelivery after a crash): each item is dispatched (or its local result
-- recorded) by the run that claims its ledger index first. A redelivered run
-- (same message guid) owns its earlier claims again, and rewrites them.
--
-- KEYS[1]  workflow job hash
-- ARGV[1]  owner (the worker message guid)
-- ARGV[2]  R: number of local results that follow
-- ARGV[3..] R quadruples: claim field, claim record, result field, result record.
--          Each index is claimed and its result written (the first result stays).
--          If any of them is another run's, this run is stale: nothing else is
--          claimed, and the run must replay again.
-- then     field, record pairs to claim (records are JSON objects carrying "g": owner)
-- Returns  {lost, then one 1 (ours) or 0 (another run's) per pair}: lost is the number of
--          results claimed by another run (pairs are then all 0); {} when the job has
--          ended (nothing is written then).
local job = KEYS[1]
local status = redis.call('HGET', job, ':')
if not status or tonumber(status) <= 0 then
  return {}
end
local owner = ARGV[1]

local function claim(field, record)
  if redis.call('HSETNX', job, field, record) == 1 then
    return 1
  end
  local ok, held = pcall(cjson.decode, redis.call('HGET', job, field))
  if ok and type(held) == 'table' and held['g'] == owner then
    redis.call('HSET', job, field, record)
    return 1
  end
  return 0
end

local records = tonumber(ARGV[2])
local lost = 0
local first = 3 + 4 * records
for i = 3, first - 1, 4 do
  if claim(ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSETNX', job, ARGV[i + 2], ARGV[i + 3])
  else
    lost = lost + 1
  end
end
local reply = {lost}
for i = first, #ARGV, 2 do
  if lost > 0 then
    reply[#reply + 1] = 0
  else
    reply[#reply + 1] = claim(ARGV[i], ARGV[i + 1])
  end
end
return reply
