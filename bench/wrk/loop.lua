-- The whole loop's visitors, each as a browser goes: GET the form (its session cookie and hidden
-- fields: CSRF token, form stamp), POST it with a distinct email, then GET the page the 303
-- names. Every visitor has its own form stamp (a replayed stamp is held for review and never
-- emailed), a distinct email at a common provider and a distinct client address
-- (X-Forwarded-For). Arguments: <path> <run tag> <run number 1-250>. The form is posted at
-- once, so the abuse checks flag it as filled in quickly (it is still emailed and counted).
local counter = 0
local threads = {}
local forms = {}
local landing = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  run = args[2]
  octet = tonumber(args[3] or "1") % 250
end

local domains = {"gmail.com", "outlook.com", "yahoo.co.uk", "hotmail.co.uk", "icloud.com",
                 "btinternet.com", "sky.com", "protonmail.com"}

local function encode(value)
  return (value:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local function address(n)
  return "10." .. octet .. "." .. (math.floor(n / 250) % 250) .. "." .. (n % 250 + 1)
end

function response(status, headers, body)
  if status == 303 then
    local location = headers["Location"] or headers["location"]
    if location then
      table.insert(landing, (location:gsub("^https?://[^/]+", "")))
    end
  elseif status == 200 and body and body:find('name="started"', 1, true) then
    local fields = {}
    for tag in body:gmatch("<input[^>]*>") do
      if tag:find('type="hidden"', 1, true) then
        local name = tag:match('name="([^"]*)"')
        local value = tag:match('value="([^"]*)"') or ""
        if name then
          table.insert(fields, name .. "=" .. encode(value))
        end
      end
    end
    local cookie = headers["Set-Cookie"] or headers["set-cookie"] or ""
    table.insert(forms, {cookie:match("^([^;]*)"), table.concat(fields, "&")})
  end
end

function request()
  counter = counter + 1
  local n = (tid - 1) * 20000 + counter
  if #landing > 0 then
    return wrk.format("GET", table.remove(landing, 1), {["X-Forwarded-For"] = address(n)})
  end
  if #forms > 0 then
    local form = table.remove(forms, 1)
    local email = "l-" .. run .. "-" .. tid .. "-" .. counter .. "%40" ..
      domains[counter % #domains + 1]
    local body = form[2] .. "&name=Loop+Signer&email=" .. email ..
      "&country=GB&postcode=SW1A+1AA&comment=&wants_updates=y"
    return wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = form[1],
      ["X-Forwarded-For"] = address(n),
    }, body)
  end
  return wrk.format("GET", path, {["X-Forwarded-For"] = address(n)})
end

done = dofile(os.getenv("BENCH_WRK_DIR") .. "/report.lua")
