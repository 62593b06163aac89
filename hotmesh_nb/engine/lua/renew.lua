-- Extend (or hand back) the claims of one consumer on messages it still holds.
-- KEYS[1] stream; ARGV[1] group, ARGV[2] consumer, ARGV[3] idle ms to set
-- (0 renews a lease; reclaim_after hands the message back to any reclaimer),
-- ARGV[4..] message ids.
-- A message another consumer took over meanwhile is left alone: XCLAIM by
-- itself would steal it back. JUSTID keeps the delivery counter unchanged, so
-- a long but healthy callback never counts as a failed attempt.
local renewed = 0
for i = 4, #ARGV do
  local entry = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #entry == 1 and entry[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'IDLE', ARGV[3], 'JUSTID')
    renewed = renewed + 1
  end
end
return renewed
