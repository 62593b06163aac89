-- Delete a call job once it has ended (a flush must never cut a running call short).
-- KEYS[1] the job hash   ARGV[1] its status field
-- Returns 1 deleted, 0 still running, -1 no such job.
local status = redis.call('HGET', KEYS[1], ARGV[1])
if not status then
  return -1
end
if tonumber(status) > 0 then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
