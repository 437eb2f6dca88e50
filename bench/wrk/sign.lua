-- POST the signing form as a browser would. Each request carries a session cookie and the
-- CSRF token that came with it, from a pool fetched beforehand by GETting the form, and a
-- distinct email address at a common mail provider, from a distinct client address (as a
-- load balancer would pass it in X-Forwarded-For). Arguments: <path> <pool.lua> <run tag>
-- <run number 1-250>. The form's own hidden fields (its source among them) come from the pool,
-- once each, as a browser sends them.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  pool = dofile(args[2])
  run = args[3]
  octet = tonumber(args[4] or "1") % 250
end

local domains = {"gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com",
                 "btinternet.com", "sky.com", "protonmail.com"}

function request()
  counter = counter + 1
  local pair = pool[(tid * 7919 + counter) % #pool + 1]
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
