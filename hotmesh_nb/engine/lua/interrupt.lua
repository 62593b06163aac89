-- @include interrupt_job
--
-- Interrupt a job: end it at once with (optionally) an error, announce it, let it expire.
-- KEYS[1] job hash   KEYS[2] engine stream
-- ARGV[1] error JSON ('' = end quietly)   ARGV[2] done channel (the job's partition's)   ARGV[3] publishes channel
-- ARGV[4] expire seconds (<= 0: keep)      ARGV[5] update time
-- Returns {1, status} when interrupted, {0, status} when it had ended, {-1, 0} when missing.
return interrupt_job(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
