-- spectralnorm: the Benchmarks Game spectral-norm, n = 1000 — float loops and array indexing.
-- Arrays are 1-based here; A(i, j) is written for 1-based i, j so it equals the
-- 0-based A of the other versions. (Lua 5.4 and LuaJIT)
local N = 1000

local function A(i, j)
  local ij = i + j - 2
  return 1.0 / (ij * (ij + 1) / 2 + i)
end

local function Av(x, y, n)
  for i = 1, n do
    local a = 0.0
    for j = 1, n do a = a + A(i, j) * x[j] end
    y[i] = a
  end
end

local function Atv(x, y, n)
  for i = 1, n do
    local a = 0.0
    for j = 1, n do a = a + A(j, i) * x[j] end
    y[i] = a
  end
end

local function AtAv(x, y, t, n)
  Av(x, t, n)
  Atv(t, y, n)
end

local n = N
local u, v, t = {}, {}, {}
for i = 1, n do u[i] = 1.0; v[i] = 0.0; t[i] = 0.0 end
for _ = 1, 10 do
  AtAv(u, v, t, n)
  AtAv(v, u, t, n)
end
local vBv, vv = 0.0, 0.0
for i = 1, n do
  local ui, vi = u[i], v[i]
  vBv = vBv + ui * vi
  vv = vv + vi * vi
end
io.write(string.format("%0.9f\n", math.sqrt(vBv / vv)))
