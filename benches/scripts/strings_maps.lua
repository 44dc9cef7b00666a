-- strings_maps: 4 rounds of: build a large text from a fixed word list with a Park-Miller LCG,
-- split it into words, count them in one map; then build a report with table.concat and
-- hash it. All integer arithmetic stays below 2^53 (no wrapping), so Lua 5.4
-- integers, LuaJIT doubles, Python ints and Go/Weft int64 agree exactly.
local ROUNDS = 4
local N = 1000000
local words = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta",
  "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau",
  "upsilon", "phi", "chi", "psi", "omega" }
local nwords = #words

local seed = 42
local function nextr()
  seed = seed * 16807 % 2147483647
  return seed
end

local counts, order = {}, {}
local total, textlen = 0, 0
for _ = 1, ROUNDS do
  -- Build the text.
  local parts = {}
  for i = 1, N do
    local a = nextr() % nwords
    local b = nextr() % 500
    parts[i] = words[a + 1] .. tostring(b)
  end
  local text = table.concat(parts, " ")
  textlen = textlen + #text

  -- Split and count, remembering first-seen order.
  for w in string.gmatch(text, "[^ ]+") do
    total = total + 1
    local c = counts[w]
    if c == nil then
      order[#order + 1] = w
      counts[w] = 1
    else
      counts[w] = c + 1
    end
  end
end

-- Build the report.
local out = {}
for i = 1, #order do
  local w = order[i]
  out[#out + 1] = w
  out[#out + 1] = "="
  out[#out + 1] = tostring(counts[w])
  out[#out + 1] = "\n"
end
local report = table.concat(out)

-- Hash it.
local h = 0
local byte = string.byte
for i = 1, #report do
  h = (h * 31 + byte(report, i)) % 1000000007
end

io.write(string.format("distinct %d total %d text %d report %d hash %d\n",
  #order, total, textlen, #report, h))
