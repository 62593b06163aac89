-- Drop stream entries every group has delivered and acknowledged.
-- KEYS[1] stream. Entries below min(first pending id, last delivered id + 1) of
-- every group are safe to remove: the group read read them and nobody holds them.
-- Reading the groups before the pending lists keeps a message delivered in
-- between out of reach (its id is above the last-delivered id seen).
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then
  return 0
end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function less(a_ms, a_seq, b_ms, b_seq)
  return a_ms < b_ms or (a_ms == b_ms and a_seq < b_seq)
end
local min_ms, min_seq
for _, group in ipairs(groups) do
  local name, last
  for f = 1, #group, 2 do
    if group[f] == 'name' then name = group[f + 1] end
    if group[f] == 'last-delivered-id' then last = group[f + 1] end
  end
  local ms, seq = parse(last)
  seq = seq + 1
  local pending = redis.call('XPENDING', KEYS[1], name)
  if pending[1] > 0 then
    local p_ms, p_seq = parse(pending[2])
    if less(p_ms, p_seq, ms, seq) then
      ms, seq = p_ms, p_seq
    end
  end
  if min_ms == nil or less(ms, seq, min_ms, min_seq) then
    min_ms, min_seq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', min_ms .. '-' .. min_seq)
