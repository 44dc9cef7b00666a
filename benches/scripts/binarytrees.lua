-- binarytrees: the Benchmarks Game binary-trees, depth 16 — allocation and GC.
-- Nodes are {left, right} tables; a leaf is {}. (Lua 5.4 and LuaJIT)
local function bottomUp(depth)
  if depth <= 0 then return {} end
  depth = depth - 1
  return { bottomUp(depth), bottomUp(depth) }
end

local function check(t)
  if t[1] == nil then return 1 end
  return 1 + check(t[1]) + check(t[2])
end

local function pow2(k)
  local r = 1
  for _ = 1, k do r = r * 2 end
  return r
end

local n = 16
local minDepth = 4
local maxDepth = n
if minDepth + 2 > n then maxDepth = minDepth + 2 end
local stretchDepth = maxDepth + 1
io.write(string.format("stretch tree of depth %d\t check: %d\n", stretchDepth, check(bottomUp(stretchDepth))))

local longLived = bottomUp(maxDepth)

for depth = minDepth, maxDepth, 2 do
  local iterations = pow2(maxDepth - depth + minDepth)
  local chk = 0
  for _ = 1, iterations do
    chk = chk + check(bottomUp(depth))
  end
  io.write(string.format("%d\t trees of depth %d\t check: %d\n", iterations, depth, chk))
end
io.write(string.format("long lived tree of depth %d\t check: %d\n", maxDepth, check(longLived)))
