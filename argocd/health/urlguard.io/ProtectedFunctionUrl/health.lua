-- Argo CD health of a urlguard.io resource (EdgeDistribution and
-- ProtectedFunctionUrl share it): Healthy when Ready=True for the current
-- generation; Progressing while the controller has not caught up, CloudFront
-- deploys, or a teardown waits for AWS; Degraded on an error to act on.
local hs = {}

local function condition(status, type)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local function text(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

-- Ready=False reasons and Deleting=True reasons that only mean "not yet".
local progressing = {
  Pending = true,
  Deploying = true,
  DistributionNotReady = true,
  WaitingForEdgeReplicas = true,
  WaitingForDeployment = true,
}

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to report a status"
  return hs
end
if status.observedGeneration == nil or obj.metadata.generation == nil
    or status.observedGeneration ~= obj.metadata.generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the controller to observe the latest spec"
  return hs
end

local deleting = condition(status, "Deleting")
if deleting ~= nil and deleting.status == "True" then
  if progressing[deleting.reason] then
    hs.status = "Progressing"
  else
    hs.status = "Degraded"
  end
  hs.message = text(deleting, "Deleting")
  return hs
end

local ready = condition(status, "Ready")
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
elseif ready.status == "True" then
  hs.status = "Healthy"
  hs.message = text(ready, "Ready")
elseif progressing[ready.reason] then
  hs.status = "Progressing"
  hs.message = text(ready, "Not ready yet")
else
  hs.status = "Degraded"
  hs.message = text(ready, "Not ready")
end
return hs
