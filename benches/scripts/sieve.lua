-- sieve, sequential Lua version: the same chain of filters, each filter a
-- coroutine. Lua 5.4 cannot nest 3000 coroutine resumes (C-stack limit), so
-- instead of each filter pulling from the previous one, the main loop passes
-- each candidate through the filters in order (one resume/yield per filter
-- stage, as many as the channel hand-offs in the Go version). Finds the first
-- 3000 primes; prints the last. (Lua 5.4 and LuaJIT)
local NPRIMES = 3000
local wrap, yield = coroutine.wrap, coroutine.yield

local function makeFilter(prime)
  return wrap(function(i)
    while true do
      i = yield(i % prime ~= 0)
    end
  end)
end

local filters = {}
local count, n, prime = 0, 1, 0
while count < NPRIMES do
  n = n + 1
  local pass = true
  for k = 1, count do
    if not filters[k](n) then
      pass = false
      break
    end
  end
  if pass then
    count = count + 1
    prime = n
    filters[count] = makeFilter(n)
  end
end
io.write(string.format("%d\n", prime))
