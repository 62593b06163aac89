-- @include announce
--
-- interrupt_job(job, engine_stream, err, done_channel, publishes_channel, expire, now)
-- ends a running job at once: its status drops below -1e8 (every later step finds it
-- inactive), the error is recorded ('' = end quietly), the job is announced and starts
-- to expire. Shared by the interrupt script and the step script's 'interrupt' operation.
-- Returns {1, status} when interrupted, {0, status} when it had ended, {-1, 0} when missing.
local function interrupt_job(job, engine_stream, err, done_channel, publishes, expire, now)
  local current = redis.call('HGET', job, ':')
  if not current then
    return {-1, 0}
  end
  if tonumber(current) <= 0 then
    return {0, tonumber(current)}
  end
  local status = redis.call('HINCRBY', job, ':', -1000000000)
  if err ~= '' then
    redis.call('HSET', job, 'err', err, 'ju', now)
  else
    redis.call('HSET', job, 'ju', now)
  end
  announce(job, engine_stream, 'done', status, done_channel, publishes)
  if tonumber(expire) > 0 then
    redis.call('EXPIRE', job, expire)
  end
  return {1, status}
end
