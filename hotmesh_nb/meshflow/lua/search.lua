-- One replay-safe search operation on a workflow's job hash.
--
-- The operation runs once: its result is stored under a ledger field, and a
-- replay (or a concurrent duplicate run) gets the stored result back.
--
-- KEYS[1]  the job holding the ledger (the workflow or hook thread)
-- KEYS[2]  the job holding the searchable fields (the workflow)
-- ARGV[1]  ledger field   ARGV[2] operation: set | del | incr | mult
-- ARGV[3..] set: field, value pairs | del: fields | incr, mult: field, amount
-- Returns  the result as a string (set/del: count; incr/mult: the new value).
local done = redis.call('HGET', KEYS[1], ARGV[1])
local job = KEYS[2]
if done then
  return done
end
local op = ARGV[2]
local result
if op == 'set' then
  local created = 0
  for i = 3, #ARGV, 2 do
    created = created + redis.call('HSET', job, ARGV[i], ARGV[i + 1])
  end
  result = tostring(created)
elseif op == 'del' then
  local removed = 0
  for i = 3, #ARGV do
    removed = removed + redis.call('HDEL', job, ARGV[i])
  end
  result = tostring(removed)
elseif op == 'incr' then
  result = redis.call('HINCRBYFLOAT', job, ARGV[3], ARGV[4])
elseif op == 'mult' then
  local current = tonumber(redis.call('HGET', job, ARGV[3]) or '0') or 0
  local value = current * tonumber(ARGV[4])
  result = string.format('%.17g', value)
  redis.call('HSET', job, ARGV[3], result)
else
  return redis.error_reply('unknown search operation ' .. tostring(op))
end
redis.call('HSET', KEYS[1], ARGV[1], result)
return result
