-- Write searchable fields of a record and keep the fallback indexes in step, atomically.
-- KEYS[1] the record's job hash; KEYS[2..] index structures, the record's member lists
--         (one per index: the structures holding the record) and a ledger hash.
-- ARGV[1] 0, or 1 then (KEYS index of a ledger hash, ledger field, value): a write made once —
--         when the ledger field exists nothing is written and {2, stored value} returns,
--         otherwise the value is stored there with the write (replay-safe workflow writes)
-- then    a clear mode: 0 none; 1 only while the job hash is absent (entries a record left
--         behind before it expired); 2 always (re-index from scratch)
-- then    L member lists (one per index): (KEYS index of the list, count, KEYS indexes of
--         the structures the caller read from it). When clearing, a list naming anything
--         else makes the script write nothing and return 3: read the lists, call again
-- then    N checks: (field, expected value or '' for absent) — the index changes below were
--         computed from these values; if any changed meanwhile nothing is written (returns 0)
-- then    M fields to set: (field, value)
-- then    D fields to delete
-- then    K index changes: (op, KEYS index, KEYS index of the member list[, score]) with
--         op sadd | srem | zadd | zrem (the member is the record id, last of ARGV); the
--         member list follows each change
-- then    I indexes: (KEYS index of its set of records, count, its fields): the record is
--         in that set while it holds one of the fields
-- Returns 1 when written, 0 when a check failed, 3 when the member lists must be read.
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
local member = ARGV[#ARGV]
local clear_mode = ARGV[i]
local clear = clear_mode == '2' or (clear_mode == '1' and redis.call('EXISTS', job) == 0)
local lists = tonumber(ARGV[i + 1])
i = i + 2
local clearing = {}
for _ = 1, lists do
  local list = KEYS[tonumber(ARGV[i])]
  local count = tonumber(ARGV[i + 1])
  if clear then
    local named = {}
    for c = 1, count do
      named[KEYS[tonumber(ARGV[i + 1 + c])]] = true
    end
    for _, key in ipairs(redis.call('SMEMBERS', list)) do
      if not named[key] then
        return 3
      end
    end
    clearing[#clearing + 1] = {list, named}
  end
  i = i + 2 + count
end
local checks = tonumber(ARGV[i])
for c = 1, checks do
  local current = redis.call('HGET', job, ARGV[i + 2 * c - 1]) or ''
  if current ~= ARGV[i + 2 * c] then
    return 0
  end
end
for _, entry in ipairs(clearing) do
  for key in pairs(entry[2]) do
    if redis.call('TYPE', key)['ok'] == 'zset' then
      redis.call('ZREM', key, member)
    else
      redis.call('SREM', key, member)
    end
  end
  redis.call('DEL', entry[1])
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
i = i + 1
for _ = 1, changes do
  local op = ARGV[i]
  local key = KEYS[tonumber(ARGV[i + 1])]
  local list = KEYS[tonumber(ARGV[i + 2])]
  if op == 'sadd' then
    redis.call('SADD', key, member)
    redis.call('SADD', list, key)
    i = i + 3
  elseif op == 'srem' then
    redis.call('SREM', key, member)
    redis.call('SREM', list, key)
    i = i + 3
  elseif op == 'zadd' then
    redis.call('ZADD', key, ARGV[i + 3], member)
    redis.call('SADD', list, key)
    i = i + 4
  elseif op == 'zrem' then
    redis.call('ZREM', key, member)
    redis.call('SREM', list, key)
    i = i + 3
  else
    return redis.error_reply('unknown index change ' .. tostring(op))
  end
end
local indexes = tonumber(ARGV[i])
i = i + 1
for _ = 1, indexes do
  local all = KEYS[tonumber(ARGV[i])]
  local count = tonumber(ARGV[i + 1])
  local held = false
  for c = 1, count do
    if redis.call('HEXISTS', job, ARGV[i + 1 + c]) == 1 then
      held = true
      break
    end
  end
  if held then
    redis.call('SADD', all, member)
  else
    redis.call('SREM', all, member)
  end
  i = i + 2 + count
end
if ledger_key then
  redis.call('HSET', ledger_key, ledger_field, ledger_value)
end
return 1
