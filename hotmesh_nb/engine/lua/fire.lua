-- Move due timers to the engine stream. Atomic, so engines may call it at the same
-- time: each timer leaves the set, and reaches the stream, exactly once.
-- KEYS[1] timers (sorted set)   KEYS[2] engine stream
-- ARGV[1] now (ms)   ARGV[2] most timers to move   ARGV[3] together (ms, default 0)
-- Nothing fires before the earliest timer is due; once it is, the timers due within
-- 'together' ms after now fire with it, in due order.
-- Returns {moved, next due ms or -1}.
local now = tonumber(ARGV[1])
local found = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now + tonumber(ARGV[3] or 0),
  'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
if #found > 0 and tonumber(found[2]) > now then
  return {0, tonumber(found[2])}  -- the earliest is not due yet
end
local due = {}
for i = 1, #found, 2 do
  due[#due + 1] = found[i]
  redis.call('XADD', KEYS[2], '*', 'm', found[i])
end
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
end
local upcoming = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #upcoming == 0 then
  return {#due, -1}
end
return {#due, tonumber(upcoming[2])}
