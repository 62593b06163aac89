-- Interrupt a job: end it at once with (optionally) an error, announce it, let it expire.
-- KEYS[1] job hash   KEYS[2] engine stream
-- ARGV[1] error JSON ('' = end quietly)   ARGV[2] done channel   ARGV[3] publishes channel
-- ARGV[4] expire seconds (<= 0: keep)      ARGV[5] update time
-- Returns {1, status} when interrupted, {0, status} when it had ended, {-1, 0} when missing.
local job = KEYS[1]
local current = redis.call('HGET', job, ':')
if not current then
  return {-1, 0}
end
if tonumber(current) <= 0 then
  return {0, tonumber(current)}
end
local status = redis.call('HINCRBY', job, ':', -1000000000)
if ARGV[1] ~= '' then
  redis.call('HSET', job, 'err', ARGV[1], 'ju', ARGV[5])
else
  redis.call('HSET', job, 'ju', ARGV[5])
end
announce(job, KEYS[2], 'done', status, ARGV[2], ARGV[3])
local expire = tonumber(ARGV[4])
if expire > 0 then
  redis.call('EXPIRE', job, expire)
end
return {1, status}
