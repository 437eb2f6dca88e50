-- POST the signing form as a browser would. Each request carries a session cookie and the
-- CSRF token that came with it, from a pool fetched beforehand by GETting the form, and a
-- distinct email address at a common mail provider, from a distinct client address (as a
-- load balancer would pass it in X-Forwarded-For). Arguments: <path> <pool.lua> <run tag>
-- <run number 1-250> [follow]. The form's own hidden fields (its source among them) come from
-- the pool, once each, as a browser sends them. With "follow", each 303 is followed as a
-- browser follows it: the page it names is the next request on the thread (with the visitor's
-- cookie), so a run's throughput counts the page after signing as part of the signature.
-- A pool made by bench/stamps.py starts with `fresh` visitors made for this run (a session,
-- CSRF token and form stamp each): each signature then comes from a visitor of its own, as
-- people do (a stamp sent for a second address is held for review). The wrk threads take
-- alternate ones; a thread that runs out cycles through the pooled visitors after them.
local counter = 0
local used = 0
local last_cookie = nil
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
  local fresh = pool.fresh or 0
  if #landing > 0 then
    return wrk.format("GET", table.remove(landing, 1), {
      ["Cookie"] = last_cookie or pool[1][1],
      ["X-Forwarded-For"] = "10." .. octet .. ".250." .. (tid % 250 + 1),
    })
  end
  local pair = nil
  if fresh > 0 then
    local index = used * 2 + tid
    used = used + 1
    if index <= fresh then
      pair = pool[index]
    end
  end
  if pair == nil then
    pair = pool[fresh + (tid * 7919 + counter) % (#pool - fresh) + 1]
  end
  last_cookie = pair[1]
  local email = "s-" .. run .. "-" .. tid .. "-" .. counter .. "%40" ..
    domains[counter % #domains + 1]
  local n = (tid - 1) * 20000 + counter
  local ip = "10." .. octet .. "." .. (math.floor(n / 250) % 250) .. "." .. (n % 250 + 1)
  local body = pair[2] .. "&name=Bench+Signer&email=" .. email ..
    "&country=GB&postcode=SW1A+1AA&comment=&wants_updates=y"
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = pair[1],
    ["X-Forwarded-For"] = ip,
  }, body)
end

done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
