-- Move local work whose lease fell due onto its stream (engine/_local.py): its
-- holder died or hung, so any worker of the topic may now take it.
-- KEYS[1] lease set, KEYS[2] the topic's stream of the same partition
-- ARGV[1] the cutoff (ms): a lease last renewed before it is due; ARGV[2..] members
-- found due. A member renewed or answered since it was found due stays where it is. The entry
-- records the delivery the lease had ('p'), which counts towards the delivery cap.
local moved = 0
for i = 2, #ARGV do
  local due = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if due and tonumber(due) <= tonumber(ARGV[1]) then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('XADD', KEYS[2], '*', 'm', ARGV[i], 'p', '1')
    moved = moved + 1
  end
end
return moved
