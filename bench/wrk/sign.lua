-- POST the signing form as a browser would. Each request carries a session cookie and the
-- CSRF token that came with it, from a pool fetched beforehand by GETting the form, and a
-- distinct email address at a common mail provider, from a distinct client address (as a
-- load balancer would pass it in X-Forwarded-For). Arguments: <path> <pool.lua> <run tag>
-- <run number 1-250> [follow]. The form's own hidden fields (its source among them) come from
-- the pool, once each, as a browser sends them. With "follow", each 303 is followed as a
-- browser follows it: the page it names is the next request on the thread (with the visitor's
-- cookie), so a run's throughput counts the page after signing as part of the signature.
-- A pool made by bench/stamps.py also holds, per visitor, its fields without the form stamp and
-- one list of fresh stamps per wrk thread: each signature then sends a stamp of its own, as a
-- person who fetched the form does (a stamp sent for a second address is held for review).
local counter = 0
local used = {}
local threads = {}
local landing = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  pool = dofile(args[2])
  run = args[3]
  octet = tonumber(args[4] or "1") % 250
  follow = args[5] == "follow"
end

function response(status, headers, body)
  if follow and status == 303 then
    local location = headers["Location"] or headers["location"]
    if location then
      table.insert(landing, (location:gsub("^https?://[^/]+", "")))
    end
  end
end

local domains = {"gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com",
                 "btinternet.com", "sky.com", "protonmail.com"}

function request()
  counter = counter + 1
  local index = (tid * 7919 + counter) % #pool + 1
  local pair = pool[index]
  if #landing > 0 then
    return wrk.format("GET", table.remove(landing, 1), {
      ["Cookie"] = pair[1],
      ["X-Forwarded-For"] = "10." .. octet .. ".250." .. (tid % 250 + 1),
    })
  end
  local email = "s-" .. run .. "-" .. tid .. "-" .. counter .. "%40" ..
    domains[counter % #domains + 1]
  local n = (tid - 1) * 20000 + counter
  local ip = "10." .. octet .. "." .. (math.floor(n / 250) % 250) .. "." .. (n % 250 + 1)
  local fields = pair[2]
  local mine = pair[3 + tid]
  if mine then
    local k = (used[index] or 0) + 1
    used[index] = k
    if mine[k] then
      fields = pair[3] .. "&started=" .. mine[k]
    end
  end
  local body = fields .. "&name=Bench+Signer&email=" .. email ..
    "&country=GB&postcode=SW1A+1AA&comment=&wants_updates=y"
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = pair[1],
    ["X-Forwarded-For"] = ip,
  }, body)
end

done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
