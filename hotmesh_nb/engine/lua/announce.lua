-- Shared by the scripts that can end a job (prepended to them when they are loaded).
--
-- announce(job, engine_stream, kind, status, done_channel, publishes_channel[, flat[, token[, step]]])
-- publishes the job as waiters and subscribers see it ('done', 'emit' or
-- 'persist') and, when an awaiting parent exists (field 'p', a result message
-- without its outcome), hands the outcome to the parent's activity. A job that
-- ends ('done') asks the engine to take it out of the facet sets it joined (fields
-- 'f:<set key>'): an 'unindex' message, because a script touches only keys it was given.
-- 'flat' is the job's hash as HGETALL would return it now, when the caller already has
-- it (read for its guard, with its own writes laid over): it saves reading it again.
--
-- 'step' names the step that emits (its guard field): an emit's 'rg', the parent's guard
-- against a redelivered announcement, is the job's update time and that name, so two
-- emits of one job in the same millisecond stay two.
--
-- 'token' names the process that runs the step. A job whose field 'w' holds it was
-- started by that process, which waits for it: the completion is returned (the
-- process settles its waiter from the reply) and, unless a waiter elsewhere marked the
-- job (field 'W'), not published on the done channel. Subscribers of the 'publishes'
-- channel always get it.
--
-- The done channel is the job's partition's shard channel (SPUBLISH): it carries the
-- partition's hash tag, so it is in the slot the script runs in, and on a cluster only
-- that slot's shard relays it. The 'publishes' channel is classic (PUBLISH, every node):
-- 'psub' patterns hear the jobs of every partition.
local function announce(job, engine_stream, kind, status, done_channel, publishes_channel, flat, token, step)
  flat = flat or redis.call('HGETALL', job)
  local data = {}
  local meta, err, detail, ju, parent = 'null', 'null', 'null', 'null', nil
  local updated = ''
  local waited_by, watched = nil, false
  local facets, job_id = {}, nil
  for f = 1, #flat, 2 do
    local name = flat[f]
    if string.sub(name, 1, 2) == 'd:' then
      data[#data + 1] = cjson.encode(string.sub(name, 3)) .. ':' .. flat[f + 1]
    elseif name == 'm' then
      meta = flat[f + 1]
    elseif name == 'err' then
      err = flat[f + 1]
    elseif name == 'ed' then
      detail = flat[f + 1]
    elseif name == 'ju' then
      updated = flat[f + 1]
      ju = cjson.encode(updated)
    elseif name == 'p' then
      parent = flat[f + 1]
    elseif name == 'w' then
      waited_by = flat[f + 1]
    elseif name == 'W' then
      watched = true
    elseif kind == 'done' and string.sub(name, 1, 2) == 'f:' then
      facets[#facets + 1] = cjson.encode(string.sub(name, 3))
      job_id = flat[f + 1]
    end
  end
  local body = '{' .. table.concat(data, ',') .. '}'
  local payload = '{"k":"' .. kind .. '","s":' .. status .. ',"m":' .. meta .. ',"ju":' .. ju
    .. ',"err":' .. err .. ',"ed":' .. detail .. ',"d":' .. body .. '}'
  local mine = kind == 'done' and token ~= nil and waited_by == token
  if not mine or watched then
    redis.call('SPUBLISH', done_channel, payload)
  end
  if publishes_channel ~= '' then
    redis.call('PUBLISH', publishes_channel, payload)
  end
  if parent then
    local outcome
    if kind == 'emit' then
      local rg = updated
      if step and step ~= '' then
        rg = rg .. '/' .. step
      end
      outcome = '"status":"pending","code":202,"rg":' .. cjson.encode(rg) .. ',"data":' .. body
    elseif err ~= 'null' then
      local code = cjson.decode(err)['code'] or 500
      outcome = '"status":"error","code":' .. code .. ',"data":' .. err
    else
      outcome = '"status":"success","code":200,"data":' .. body
    end
    redis.call('XADD', engine_stream, '*', 'm', string.sub(parent, 1, -2) .. ',' .. outcome .. '}')
  end
  if job_id then
    -- An ended job leaves the facet sets it joined (hook_all finds running jobs only).
    redis.call('XADD', engine_stream, '*', 'm', '{"k":"unindex","w":2,"g":"","j":'
      .. cjson.encode(job_id) .. ',"facets":[' .. table.concat(facets, ',') .. ']}')
  end
  if mine then
    return payload
  end
  return nil
end
