-- Apply one engine step to a job atomically: guards, state writes, the status
-- semaphore, outgoing stream messages and, when the job ends, its completion.
--
-- KEYS[1]  job hash             KEYS[2..] streams the step adds messages to
-- ARGV[1]  mode: 'create' | 'step'
-- ARGV[2]  create: initial status | step: status delta
-- ARGV[3]  step: expected gid ('' = no check)
-- ARGV[4]  step: guard field ('' = none): its presence means "already applied"
-- ARGV[5]  done channel (every completion of the app)
-- ARGV[6]  publishes channel ('' = none)
-- ARGV[7]  expire seconds when the job ends (<= 0: keep)
-- ARGV[8]  stream message to acknowledge: index into KEYS (0 = none), ARGV[9] group,
--          ARGV[10] message id (acknowledged whatever the outcome: the message is handled)
-- ARGV[11] number of field/value pairs N, then N pairs
-- then     number of messages M, then M (stream index: KEYS[1 + i], payload) pairs
-- then     'emit' flag ('1' publishes the job's state without ending it)
-- Returns  {code, status}: code 1 = applied, 2 = applied and the job ended,
--          0 = duplicate (guard or existing job), -1 = job gone, -2 = stale gid,
--          -3 = job no longer active.
local job = KEYS[1]
local mode = ARGV[1]
if ARGV[8] ~= '0' then
  redis.call('XACK', KEYS[tonumber(ARGV[8])], ARGV[9], ARGV[10])
end
local status
if mode == 'create' then
  status = tonumber(ARGV[2])
  if redis.call('HSETNX', job, ':', status) == 0 then
    return {0, 0}
  end
else
  local guard = ARGV[4]
  local current
  if guard ~= '' then
    current = redis.call('HMGET', job, ':', 'gid', guard)
  else
    current = redis.call('HMGET', job, ':', 'gid')
  end
  if not current[1] then
    return {-1, 0}
  end
  if ARGV[3] ~= '' and current[2] ~= ARGV[3] then
    return {-2, 0}
  end
  if guard ~= '' and current[3] then
    return {0, tonumber(current[1])}
  end
  local before = tonumber(current[1])
  if before <= 0 then
    return {-3, before}
  end
  status = before + tonumber(ARGV[2])
end
-- One HSET for the status, the guard and every state write.
local i = 11
local pairs_count = tonumber(ARGV[i])
local fields = {}
if mode ~= 'create' then
  fields[1] = ':'
  fields[2] = status
  if ARGV[4] ~= '' then
    fields[3] = ARGV[4]
    fields[4] = '1'
  end
end
for p = i + 1, i + 2 * pairs_count do
  fields[#fields + 1] = ARGV[p]
end
if #fields > 0 then
  redis.call('HSET', job, unpack(fields))
end
i = i + 2 * pairs_count + 1
local messages = tonumber(ARGV[i])
for m = 1, messages do
  redis.call('XADD', KEYS[1 + tonumber(ARGV[i + 2 * m - 1])], '*', 'm', ARGV[i + 2 * m])
end
i = i + 2 * messages + 1
local emit = ARGV[i] == '1'
local ended = status <= 0
if ended or emit then
  -- The job's state as the waiters see it: metadata, status, error and data fields.
  local flat = redis.call('HGETALL', job)
  local data = {}
  local meta, err, ju = 'null', 'null', 'null'
  for f = 1, #flat, 2 do
    local name = flat[f]
    local first = string.sub(name, 1, 2)
    if first == 'd:' then
      data[#data + 1] = cjson.encode(string.sub(name, 3)) .. ':' .. flat[f + 1]
    elseif name == 'm' then
      meta = flat[f + 1]
    elseif name == 'err' then
      err = flat[f + 1]
    elseif name == 'ju' then
      ju = cjson.encode(flat[f + 1])
    end
  end
  local kind = ended and 'done' or 'emit'
  local payload = '{"k":"' .. kind .. '","s":' .. status .. ',"m":' .. meta .. ',"ju":' .. ju
    .. ',"err":' .. err .. ',"d":{' .. table.concat(data, ',') .. '}}'
  redis.call('PUBLISH', ARGV[5], payload)
  if ARGV[6] ~= '' then
    redis.call('PUBLISH', ARGV[6], payload)
  end
  if ended then
    local expire = tonumber(ARGV[7])
    if expire > 0 then
      redis.call('EXPIRE', job, expire)
    end
    return {2, status}
  end
end
return {1, status}
