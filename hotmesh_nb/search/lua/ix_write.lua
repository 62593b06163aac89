-- Write searchable fields of a record and keep the fallback indexes in step, atomically.
-- KEYS[1] the record's job hash; KEYS[2..] index structures (and a ledger hash).
-- ARGV[1] 0, or 1 then (KEYS index of a ledger hash, ledger field, value): a write made once —
--         when the ledger field exists nothing is written and {2, stored value} returns,
--         otherwise the value is stored there with the write (replay-safe workflow writes)
-- then    N checks: (field, expected value or '' for absent) — the index changes below were
--         computed from these values; if any changed meanwhile nothing is written (returns 0)
-- then    M fields to set: (field, value)
-- then    D fields to delete
-- then    K index changes: (op, KEYS index[, score]) with op sadd | srem | zadd | zrem
--         (the member is the record id, ARGV after the changes)
-- Returns 1 when written.
local job = KEYS[1]
local i = 2
local ledger_key, ledger_field, ledger_value
if ARGV[1] == '1' then
  ledger_key, ledger_field, ledger_value = KEYS[tonumber(ARGV[2])], ARGV[3], ARGV[4]
  local stored = redis.call('HGET', ledger_key, ledger_field)
  if stored then
    return {2, stored}
  end
  i = 5
end
local checks = tonumber(ARGV[i])
for c = 1, checks do
  local current = redis.call('HGET', job, ARGV[i + 2 * c - 1]) or ''
  if current ~= ARGV[i + 2 * c] then
    return 0
  end
end
i = i + 2 * checks + 1
local sets = tonumber(ARGV[i])
if sets > 0 then
  redis.call('HSET', job, unpack(ARGV, i + 1, i + 2 * sets))
end
i = i + 2 * sets + 1
local dels = tonumber(ARGV[i])
if dels > 0 then
  redis.call('HDEL', job, unpack(ARGV, i + 1, i + dels))
end
i = i + dels + 1
local changes = tonumber(ARGV[i])
local member = ARGV[#ARGV]
i = i + 1
for _ = 1, changes do
  local op = ARGV[i]
  local key = KEYS[tonumber(ARGV[i + 1])]
  if op == 'sadd' then
    redis.call('SADD', key, member)
    i = i + 2
  elseif op == 'srem' then
    redis.call('SREM', key, member)
    i = i + 2
  elseif op == 'zadd' then
    redis.call('ZADD', key, ARGV[i + 2], member)
    i = i + 3
  elseif op == 'zrem' then
    redis.call('ZREM', key, member)
    i = i + 2
  else
    return redis.error_reply('unknown index change ' .. tostring(op))
  end
end
if ledger_key then
  redis.call('HSET', ledger_key, ledger_field, ledger_value)
end
return 1
