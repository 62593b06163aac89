-- Forget a record whose job hash is gone (expired or deleted) in one fallback index.
-- KEYS[1] the record's job hash, KEYS[2] its member list in the index (the structures that
-- hold it), KEYS[3] the index's set of every record, KEYS[4..] the structures the caller read
-- from the member list. ARGV[1] the record id.
-- Returns 1 when forgotten, 0 when the job exists (nothing to do), -1 when the member list
-- names a structure not passed (read it again and retry).
local record = ARGV[1]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local named = {}
for k = 4, #KEYS do
  named[KEYS[k]] = true
end
local members = redis.call('SMEMBERS', KEYS[2])
for _, key in ipairs(members) do
  if not named[key] then
    return -1
  end
end
for _, key in ipairs(members) do
  if redis.call('TYPE', key)['ok'] == 'zset' then
    redis.call('ZREM', key, record)
  else
    redis.call('SREM', key, record)
  end
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], record)
return 1
