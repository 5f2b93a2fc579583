-- govbot's phone call flow on FreeSWITCH: this script speaks govbot's voice webhook (the
-- jambonz application protocol at /webhooks/jambonz/) and carries out its verbs with
-- FreeSWITCH's own applications. Keys only (gather digits); the caller's speech is left to
-- a jambonz platform or to govbot's built-in SIP endpoint.
--
-- Needs: mod_curl (the webhook), mod_http_cache (govbot's prompt recordings), lua-cjson.
-- govbot: GOVBOT_JAMBONZ_USER/PASSWORD, GOVBOT_JAMBONZ_SPEECH=off,
--         GOVBOT_JAMBONZ_AUDIO=govbot and GOVBOT_PUBLIC_URL (prompts come as signed URLs).
-- Dialplan:
--   <extension name="govbot"><condition field="destination_number" expression="^12345$">
--     <action application="answer"/>
--     <action application="lua" data="govbot.lua https://govbot.example.gov.cn fs s3cret"/>
--   </condition></extension>

local cjson = require("cjson")

local base, user, password = argv[1], argv[2], argv[3]
-- mod_curl has no option for HTTP basic authentication: the credentials go in the URL.
local hooks = base:gsub("^(https?://)", "%1" .. user .. ":" .. password .. "@") .. "/webhooks/jambonz"
local api = freeswitch.API()
local sid = "fs-" .. session:get_uuid()

-- One callback; the verb array that answers it (a hangup when govbot cannot be reached).
-- mod_curl takes the body as one word: the JSON has no spaces (none of its values do).
local function post(hook, body)
  body.call_sid = sid
  local reply = api:execute("curl", string.format(
    "%s/%s timeout 10 content-type application/json post %s", hooks, hook,
    cjson.encode(body)))
  local ok, verbs = pcall(cjson.decode, reply or "")
  if not ok or type(verbs) ~= "table" then
    freeswitch.consoleLog("WARNING", "govbot webhook " .. hook .. " failed: " .. tostring(reply) .. "\n")
    return {{verb = "hangup"}}
  end
  return verbs
end

-- What to play for a say or play: govbot's recording, else the SSML's words read by
-- FreeSWITCH's own TTS (only prompts too long for a URL come as say).
local function prompt_of(speech)
  if speech == nil then return nil end
  if speech.url then return "http_cache://" .. speech.url end
  local words = (speech.text or ""):gsub("<[^>]+>", "，")
  return "say:" .. words
end

local function play(file)
  if file == nil then return end
  if file:sub(1, 4) == "say:" then
    session:execute("speak", "flite|kal|" .. file:sub(5))
  else
    session:streamFile(file)
  end
end

-- gather: the prompt, interrupted by the first key; the keys, or a timeout.
local function gather(verb)
  local file = prompt_of(verb.play or verb.say)
  local most = verb.maxDigits or verb.numDigits or 1
  local finish = verb.finishOnKey or ""
  local timeout_ms = (verb.timeout or 8) * 1000
  if file and file:sub(1, 4) == "say:" then  -- no recording to interrupt: speak, then listen
    play(file)
    file = "silence_stream://250"
  end
  local digits = session:playAndGetDigits(1, most, 1, timeout_ms, finish,
                                          file or "silence_stream://250", "", "^[0-9*#]+$",
                                          "govbot_digits", 5000)
  if not session:ready() then return nil end
  if digits ~= nil and digits ~= "" then
    return post("gather", {reason = "dtmfDetected", digits = digits,
                           call_status = "in-progress"})
  end
  return post("gather", {reason = "timeout", call_status = "in-progress"})
end

local verbs = post("call", {direction = "inbound", call_status = "in-progress",
                            from = session:getVariable("caller_id_number") or "",
                            to = session:getVariable("destination_number") or ""})
while session:ready() and verbs ~= nil do
  local next_verbs = nil
  for _, verb in ipairs(verbs) do
    if not session:ready() then break end
    if verb.verb == "gather" then
      next_verbs = gather(verb)
      break  -- the gather's hook answered with the next verbs
    elseif verb.verb == "say" or verb.verb == "play" then
      play(prompt_of(verb))
    elseif verb.verb == "sip:refer" then
      session:execute("deflect", verb.referTo)  -- REFER to the person's address
      session:hangup()
    elseif verb.verb == "hangup" then
      session:hangup()
    end
  end
  verbs = next_verbs
end

-- The call is over: govbot forgets its state (its answer is empty).
api:execute("curl", string.format("%s/status timeout 10 content-type application/json post %s",
                                  hooks, cjson.encode({call_sid = sid, call_status = "completed"})))
