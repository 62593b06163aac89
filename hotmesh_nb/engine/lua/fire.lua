-- Move due timers to the engine stream. Atomic, so engines may call it at the same
-- time: each timer leaves the set, and reaches the stream, exactly once.
-- KEYS[1] timers (sorted set)   KEYS[2] engine stream
-- ARGV[1] now (ms)   ARGV[2] most timers to move   ARGV[3] together (ms, default 0)
-- Nothing fires before the earliest timer is due; once it is, the timers due within
-- 'together' ms after now fire with it, in due order.
-- Returns {moved, next due ms or -1}.
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then
  return {0, -1}
end
if tonumber(first[2]) > tonumber(ARGV[1]) then
  return {0, tonumber(first[2])}
end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) + tonumber(ARGV[3] or 0),
  'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'm', member)
end
if #due > 0 then
  redis.call('ZREM', KEYS[1], unpack(due))
end
local upcoming = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #upcoming == 0 then
  return {#due, -1}
end
return {#due, tonumber(upcoming[2])}
