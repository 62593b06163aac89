-- Move due timers to the engine stream. Atomic, so engines may call it at the same
-- time: each timer leaves the set, and reaches the stream, exactly once.
-- KEYS[1] timers (sorted set)   KEYS[2] engine stream
-- ARGV[1] now (ms)   ARGV[2] most timers to move
-- Returns {moved, next due ms or -1}.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
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
