-- Claim durable items for one run of a workflow function, and record the
-- results of the local activities the run completed since its last write.
--
-- Several replays of one workflow may run at once (a retried message, a
-- redelivery after a crash): each item is dispatched (or run locally) by the
-- run that claims its ledger index first. A redelivered run (same message
-- guid) owns its earlier claims again.
--
-- KEYS[1]  workflow job hash
-- ARGV[1]  owner (the worker message guid)
-- ARGV[2]  R: number of result records that follow
-- ARGV[3..] R field, record pairs: results written once (the first record stays)
-- then     field, record pairs to claim (records are JSON objects carrying "g": owner)
-- Returns  one 1 (ours) or 0 (another run's) per claimed pair; {} when the job has ended
--          (nothing is written then).
local status = redis.call('HGET', KEYS[1], ':')
if not status or tonumber(status) <= 0 then
  return {}
end
local records = tonumber(ARGV[2])
for i = 3, 2 + 2 * records, 2 do
  redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
end
local won = {}
for i = 3 + 2 * records, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    won[#won + 1] = 1
  else
    local ok, record = pcall(cjson.decode, redis.call('HGET', KEYS[1], ARGV[i]))
    if ok and type(record) == 'table' and record['g'] == ARGV[1] then
      won[#won + 1] = 1
    else
      won[#won + 1] = 0
    end
  end
end
return won
