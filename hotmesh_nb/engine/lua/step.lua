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
-- ARGV[5]  done channel: the shard channel of the job's partition
-- ARGV[6]  publishes channel ('' = none)
-- ARGV[7]  expire seconds when the job ends (<= 0: keep)
-- ARGV[8]  message to acknowledge: KEYS index (0 = none), ARGV[9] group, ARGV[10] id
--          (acknowledged whatever the outcome: the message has been handled); group ''
--          is local work: KEYS index names its lease set, ARGV[10] its member
-- ARGV[11] N field/value pairs, then the pairs
-- then     M messages: (KEYS index, payload) pairs
-- then     L local work leases: (KEYS index of the lease set, ms now, message) triples
-- then     'emit' flag: '1' announce the job without ending it, 'persist' announce it as
--          done and start its expiry while it stays open
-- then     the operations: one JSON array of [name, arguments...] (see run_ops); values
--          are strings (cjson reads big numbers as doubles), a key is its KEYS index
-- last     the token of the process running the step (see announce)
-- The layout is engine/_protocol.py's StepCall; mode 'ops' runs only the operations
-- (KEYS[2] is then the engine stream of the partition they touch): with a guard
-- (ARGV[4]), KEYS[1] is a marker set with them, and an 'ops' call whose marker exists
-- returns {0, 0} and applies nothing (a relayed batch applied exactly once).
-- Returns  {outcome, status[, completion]}: 1 applied, 2 applied and the job ended, 0
--          duplicate (guard or existing job), -1 job gone, -2 stale generation, -3 job not
--          active; the completion when this process waits for the job (see announce).
-- Mode 'watch' marks a job whose completion a waiter that came late needs published
-- ('W'); it returns {1, status}, or {-1, 0} when the job is gone.
-- Operations (each [name, arguments...]; a key argument is a KEYS index):
--   timer      key, due_ms, member, wake  a durable timer (sorted set); the app's earliest
--                                          also adds an entry to the wake stream
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
--   interrupt  key, error, done channel, publishes, expire, update time
--              interrupt another job of the app (announced on its partition's channel)
-- Returns the job status after a 'halt' (nil otherwise).
local function run_ops(ops)
  local halted = nil
  for _, op in ipairs(ops) do
    local name = op[1]
    if name == 'timer' then
      local timers = KEYS[op[2]]
      redis.call('ZADD', timers, op[3], op[4])
      -- The app's new earliest timer wakes every engine's scout (they block on the stream).
      if redis.call('ZRANK', timers, op[4]) == 0 then
        redis.call('XADD', KEYS[op[5]], 'MAXLEN', '~', 16, '*', 'd', op[3])
      end
    elseif name == 'wait' then
      local hook_key, early_key = KEYS[op[2]], KEYS[op[3]]
      local early = redis.call('LPOP', early_key)
      if early then
        redis.call('XADD', KEYS[2], '*', 'm', string.sub(op[6], 1, -2) .. ',' .. early .. '}')
      else
        redis.call('SET', hook_key, op[5], 'EX', op[4])
      end
    elseif name == 'signal' then
      local hook_key, early_key = KEYS[op[2]], KEYS[op[3]]
      local waiter = redis.call('GET', hook_key)
      local outcome = op[5] .. ',"data":' .. op[6]
      if waiter then
        if op[4] ~= '1' then
          redis.call('DEL', hook_key)
        end
        redis.call('XADD', KEYS[2], '*', 'm', string.sub(waiter, 1, -2) .. ',' .. outcome .. '}')
      else
        redis.call('RPUSH', early_key, outcome)
        redis.call('EXPIRE', early_key, 86400)
      end
    elseif name == 'index' then
      -- The job remembers its facet sets, so that it leaves them when it ends.
      local facet = KEYS[op[2]]
      redis.call('SADD', facet, op[3])
      redis.call('HSET', KEYS[1], 'f:' .. facet, op[3])
    elseif name == 'stat' then
      local kind, key = op[2], KEYS[op[3]]
      if kind == 'hincr' then
        redis.call('HINCRBYFLOAT', key, op[4], op[5])
      elseif kind == 'rpush' then
        redis.call('RPUSH', key, op[4])
      else
        redis.call('ZADD', key, op[4], op[5])
      end
      if op[6] ~= '' then
        redis.call('EXPIRE', key, op[6])
      end
    elseif name == 'link' then
      redis.call('HSET', KEYS[op[2]], op[3], op[4])
    elseif name == 'hdel' then
      local count = tonumber(op[2])
      if count > 0 then
        redis.call('HDEL', KEYS[1], unpack(op, 3, 2 + count))
      end
    elseif name == 'halt' then
      halted = redis.call('HINCRBY', KEYS[1], ':', -1000000000)
      if op[2] ~= '' then
        redis.call('HSET', KEYS[1], 'err', op[2])
      end
    elseif name == 'interrupt' then
      interrupt_job(KEYS[op[2]], KEYS[2], op[3], op[4], op[5], op[6], op[7])
    else
      error('unknown step operation ' .. tostring(name))
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
  if ARGV[9] == '' then
    redis.call('ZREM', KEYS[tonumber(ARGV[8])], ARGV[10])
  else
    redis.call('XACK', KEYS[tonumber(ARGV[8])], ARGV[9], ARGV[10])
  end
end
-- Where the sections of ARGV start: writes, messages, leases, the announcement flag,
-- operations (one JSON table), and last the token of the process running the step.
local writes_at = 11
local messages_at = writes_at + 2 * tonumber(ARGV[writes_at]) + 1
local leases_at = messages_at + 2 * tonumber(ARGV[messages_at]) + 1
local flag_at = leases_at + 3 * tonumber(ARGV[leases_at]) + 1
local ops = cjson.decode(ARGV[flag_at + 1])
if mode == 'ops' then
  -- Signals and interrupts sent from outside a job, and operations relayed from a step
  -- in another partition: only the operations run (the latter once, by their marker).
  if ARGV[4] ~= '' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
    return {0, 0}
  end
  run_ops(ops)
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
local flag = ARGV[flag_at]
-- A step without operations (they may change the hash) whose end may announce the job
-- reads the whole hash for its guard: the announcement then needs no second read.
local whole = #ops == 0 and (tonumber(ARGV[2]) < 0 or flag ~= '0')
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
for l = 1, tonumber(ARGV[leases_at]) do
  local at = leases_at + 3 * l - 2
  redis.call('ZADD', KEYS[tonumber(ARGV[at])], ARGV[at + 1], ARGV[at + 2])
end
local status_after = run_ops(ops)
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
  announce(job, KEYS[2], 'emit', status, ARGV[5], ARGV[6], flat, nil, ARGV[4])
elseif flag == 'persist' then
  local payload = announce(job, KEYS[2], 'done', status, ARGV[5], ARGV[6], flat, token)
  local expire = tonumber(ARGV[7])
  if expire > 0 then
    redis.call('EXPIRE', job, expire)
  end
  return {1, status, payload}
end
return {1, status}
