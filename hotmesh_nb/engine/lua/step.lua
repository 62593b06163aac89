-- @include interrupt_job
--
-- Apply one engine step to a job atomically: guards, state writes, the status
-- semaphore, outgoing stream messages, timers and signals and, when the job
-- ends (or emits), its announcement.
--
-- KEYS[1]  job hash   KEYS[2] engine stream   KEYS[3..] other keys the step touches
-- ARGV[1]  mode: 'create' | 'fresh' | 'step' ('fresh' creates a job whose id was just
--          drawn at random: no other job can hold it, so it is not checked)
-- ARGV[2]  create: initial status | step: status delta
-- ARGV[3]  step: expected gid ('' = no check)
-- ARGV[4]  step: guard field ('' = none): its presence means "already applied"
-- ARGV[5]  done channel (every completion of the app)
-- ARGV[6]  publishes channel ('' = none)
-- ARGV[7]  expire seconds when the job ends (<= 0: keep)
-- ARGV[8]  message to acknowledge: KEYS index (0 = none), ARGV[9] group, ARGV[10] id
--          (acknowledged whatever the outcome: the message has been handled)
-- ARGV[11] N field/value pairs, then the pairs
-- then     M messages: (KEYS index, payload) pairs
-- then     'emit' flag: '1' announce the job without ending it, 'persist' announce it as
--          done and start its expiry while it stays open
-- then     K operations, each a name and its arguments (see run_ops)
-- Mode 'ops' runs only the operations, which then start at ARGV[11].
-- last     the token of the process running the step (see announce)
-- Returns  {outcome, status[, completion]}: 1 applied, 2 applied and the job ended, 0
--          duplicate (guard or existing job), -1 job gone, -2 stale generation, -3 job not
--          active; the completion when this process waits for the job (see announce).
-- Mode 'watch' marks a job whose completion a waiter that came late needs published
-- ('W'); it returns {1, status}, or {-1, 0} when the job is gone.
-- Operations (ARGV from index i: count, then each a name and its arguments):
--   timer      key, due_ms, member        a durable timer (sorted set)
--   wait       hook_key, early_key, ttl, waiter, message
--              register a hook waiter; a signal that came early is delivered at once
--   signal     hook_key, early_key, keep, outcome, data
--              deliver a signal to its waiter, or keep it until the waiter registers
--   index      key, member                 add a job to a search facet
--   stat       kind, key, a, b, ttl        a trigger stats write: 'hincr' (field a += b),
--                                          'rpush' (a), 'zadd' (score a, member b); EXPIRE ttl
--                                          ('' = the key's EXPIRE is set by another op)
--   link       key, field, value           set a field of another job (parent → child)
--   hdel       count, fields...            remove fields of this job (pruned iterations)
--   halt       error                       interrupt this job ('' = quietly)
--   interrupt  key, error, publishes, expire, update time
--              interrupt another job of the app
-- Returns the job status after a 'halt' (nil otherwise).
local function run_ops(i)
  local halted = nil
  local ops = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, ops do
    local op = ARGV[i]
    if op == 'timer' then
      redis.call('ZADD', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3])
      i = i + 4
    elseif op == 'wait' then
      local hook_key, early_key = KEYS[tonumber(ARGV[i + 1])], KEYS[tonumber(ARGV[i + 2])]
      local early = redis.call('LPOP', early_key)
      if early then
        redis.call('XADD', KEYS[2], '*', 'm', string.sub(ARGV[i + 5], 1, -2) .. ',' .. early .. '}')
      else
        redis.call('SET', hook_key, ARGV[i + 4], 'EX', ARGV[i + 3])
      end
      i = i + 6
    elseif op == 'signal' then
      local hook_key, early_key = KEYS[tonumber(ARGV[i + 1])], KEYS[tonumber(ARGV[i + 2])]
      local waiter = redis.call('GET', hook_key)
      local outcome = ARGV[i + 4] .. ',"data":' .. ARGV[i + 5]
      if waiter then
        if ARGV[i + 3] ~= '1' then
          redis.call('DEL', hook_key)
        end
        redis.call('XADD', KEYS[2], '*', 'm', string.sub(waiter, 1, -2) .. ',' .. outcome .. '}')
      else
        redis.call('RPUSH', early_key, outcome)
        redis.call('EXPIRE', early_key, 86400)
      end
      i = i + 6
    elseif op == 'index' then
      -- The job remembers its facet sets, so that it leaves them when it ends.
      local facet = KEYS[tonumber(ARGV[i + 1])]
      redis.call('SADD', facet, ARGV[i + 2])
      redis.call('HSET', KEYS[1], 'f:' .. facet, ARGV[i + 2])
      i = i + 3
    elseif op == 'stat' then
      local kind, key = ARGV[i + 1], KEYS[tonumber(ARGV[i + 2])]
      if kind == 'hincr' then
        redis.call('HINCRBYFLOAT', key, ARGV[i + 3], ARGV[i + 4])
      elseif kind == 'rpush' then
        redis.call('RPUSH', key, ARGV[i + 3])
      else
        redis.call('ZADD', key, ARGV[i + 3], ARGV[i + 4])
      end
      if ARGV[i + 5] ~= '' then
        redis.call('EXPIRE', key, ARGV[i + 5])
      end
      i = i + 6
    elseif op == 'link' then
      redis.call('HSET', KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2], ARGV[i + 3])
      i = i + 4
    elseif op == 'hdel' then
      local count = tonumber(ARGV[i + 1])
      if count > 0 then
        redis.call('HDEL', KEYS[1], unpack(ARGV, i + 2, i + 1 + count))
      end
      i = i + 2 + count
    elseif op == 'halt' then
      halted = redis.call('HINCRBY', KEYS[1], ':', -1000000000)
      if ARGV[i + 1] ~= '' then
        redis.call('HSET', KEYS[1], 'err', ARGV[i + 1])
      end
      i = i + 2
    elseif op == 'interrupt' then
      interrupt_job(
        KEYS[tonumber(ARGV[i + 1])], KEYS[2], ARGV[i + 2], ARGV[5], ARGV[i + 3], ARGV[i + 4],
        ARGV[i + 5]
      )
      i = i + 6
    else
      error('unknown step operation ' .. tostring(op))
    end
  end
  return halted
end

-- The hash as HGETALL returns it after this step's writes: 'flat' (read before them)
-- with 'fields' (written) laid over it, in the order the server keeps a small hash.
local function overlay(flat, fields)
  local at = {}
  for f = 1, #flat, 2 do
    at[flat[f]] = f + 1
  end
  for p = 1, #fields, 2 do
    local slot = at[fields[p]]
    if slot then
      flat[slot] = fields[p + 1]
    else
      flat[#flat + 1] = fields[p]
      flat[#flat + 1] = fields[p + 1]
      at[fields[p]] = #flat
    end
  end
  return flat
end

local job = KEYS[1]
local mode = ARGV[1]
if ARGV[8] ~= '0' then
  redis.call('XACK', KEYS[tonumber(ARGV[8])], ARGV[9], ARGV[10])
end
if mode == 'ops' then
  -- Signals and interrupts sent from outside a job: only the operations run.
  run_ops(11)
  return {1, 0}
end
if mode == 'watch' then
  -- A waiter that came after the job started: the completion must be published for it.
  -- Only a job some process waits for ('w') may go unpublished: only it needs the mark.
  local current = redis.call('HMGET', job, ':', 'w')
  if not current[1] then
    return {-1, 0}
  end
  if current[2] then
    redis.call('HSET', job, 'W', '1')
  end
  return {1, tonumber(current[1])}
end
-- The process running this step (the last argument; see announce).
local token = ARGV[#ARGV]
-- Where the sections of ARGV start: writes, messages, the announcement flag, operations.
local writes_at = 11
local messages_at = writes_at + 2 * tonumber(ARGV[writes_at]) + 1
local flag_at = messages_at + 2 * tonumber(ARGV[messages_at]) + 1
local flag = ARGV[flag_at]
-- A step without operations (they may change the hash) whose end may announce the job
-- reads the whole hash for its guard: the announcement then needs no second read.
local whole = ARGV[flag_at + 1] == '0' and (tonumber(ARGV[2]) < 0 or flag ~= '0')
local creating = mode == 'create' or mode == 'fresh'
local status
local flat = nil
if creating then
  status = tonumber(ARGV[2])
  if mode == 'create' and redis.call('HSETNX', job, ':', status) == 0 then
    return {0, 0}
  end
  if whole then
    flat = mode == 'create' and {':', status} or {}
  end
else
  local guard = ARGV[4]
  local current
  if whole then
    flat = redis.call('HGETALL', job)
    current = {}
    for f = 1, #flat, 2 do
      local name = flat[f]
      if name == ':' then
        current[1] = flat[f + 1]
      elseif name == 'gid' then
        current[2] = flat[f + 1]
      elseif guard ~= '' and name == guard then
        current[3] = flat[f + 1]
      end
    end
  elseif guard ~= '' then
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
local pairs_count = tonumber(ARGV[writes_at])
local fields = {}
if mode ~= 'create' then
  fields[1] = ':'
  fields[2] = status
  if ARGV[4] ~= '' then
    fields[3] = ARGV[4]
    fields[4] = '1'
  end
end
for p = writes_at + 1, writes_at + 2 * pairs_count do
  fields[#fields + 1] = ARGV[p]
end
if #fields > 0 then
  redis.call('HSET', job, unpack(fields))
end
local messages = tonumber(ARGV[messages_at])
for m = 1, messages do
  redis.call('XADD', KEYS[tonumber(ARGV[messages_at + 2 * m - 1])], '*', 'm', ARGV[messages_at + 2 * m])
end
local status_after = run_ops(flag_at + 1)
if status_after ~= nil then
  status = status_after
end
if flat then
  flat = overlay(flat, fields)
end
-- A job created with status -1 is pending: it waits unstarted (and is not announced).
local ended = status <= 0 and not (creating and status == -1)
if ended then
  local payload = announce(job, KEYS[2], 'done', status, ARGV[5], ARGV[6], flat, token)
  local expire = tonumber(ARGV[7])
  if expire > 0 then
    redis.call('EXPIRE', job, expire)
  end
  return {2, status, payload}
end
if flag == '1' then
  announce(job, KEYS[2], 'emit', status, ARGV[5], ARGV[6], flat)
elseif flag == 'persist' then
  local payload = announce(job, KEYS[2], 'done', status, ARGV[5], ARGV[6], flat, token)
  local expire = tonumber(ARGV[7])
  if expire > 0 then
    redis.call('EXPIRE', job, expire)
  end
  return {1, status, payload}
end
return {1, status}
