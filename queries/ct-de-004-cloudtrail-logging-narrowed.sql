/* hunt
id = "CT-DE-004"
title = "CloudTrail logging narrowed or CloudTrail Lake store removed"
description = """
PutEventSelectors that leaves a trail without management events (every
selector sets includeManagementEvents false, the list is empty, or advanced
selectors no longer select the Management category), PutInsightSelectors
with an empty list (Insights turned off), and DeleteEventDataStore,
StopEventDataStoreIngestion or DeregisterOrganizationDelegatedAdmin on the
CloudTrail service. The trail keeps running, so checks that only look for
StopLogging or DeleteTrail miss it."""
tactics = ["TA0005"]
techniques = ["T1562.008"]
severity = "high"
false_positives = [
  "A data-events-only trail set up on purpose next to an organization trail that keeps management events",
  "Planned retirement of an event data store (list the owners in allow_principals)",
]
tags = ["cloudtrail", "defense-evasion", "logging"]

[params.allow_principals]
default = []
description = "Principal ARNs that manage trails and event data stores as part of their job"
*/
SELECT eventtime, eventid, eventname,
       coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
       sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
       source_object,
       CASE eventname
         WHEN 'PutEventSelectors' THEN 'management events no longer logged by trail ' || coalesce(json_as_text(requestparameters, 'trailName'), '?')
         WHEN 'PutInsightSelectors' THEN 'Insights turned off for ' || coalesce(json_as_text(requestparameters, 'trailName'), json_as_text(requestparameters, 'eventDataStore'), '?')
         WHEN 'DeleteEventDataStore' THEN 'event data store deleted: ' || coalesce(json_as_text(requestparameters, 'eventDataStore'), '?')
         WHEN 'StopEventDataStoreIngestion' THEN 'event data store ingestion stopped: ' || coalesce(json_as_text(requestparameters, 'eventDataStore'), '?')
         ELSE 'CloudTrail delegated administrator removed: ' || coalesce(json_as_text(requestparameters, 'delegatedAdminAccountId'), '?')
       END AS reason
FROM cloudtrail
WHERE eventsource = 'cloudtrail.amazonaws.com'
  AND errorcode IS NULL
  AND eventtime >= {{start}} AND eventtime < {{end}}
  AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
  AND (eventname IN ('DeleteEventDataStore', 'StopEventDataStoreIngestion', 'DeregisterOrganizationDelegatedAdmin')
       OR (eventname = 'PutInsightSelectors'
           AND requestparameters IS NOT NULL
           AND regexp_like(coalesce(json_get_json(requestparameters, 'insightSelectors'), '[]'), '^\s*\[\s*\]\s*$'))
       OR (eventname = 'PutEventSelectors'
           AND requestparameters IS NOT NULL
           AND NOT regexp_like(coalesce(json_get_json(requestparameters, 'advancedEventSelectors'), ''), '"Management"')
           AND (regexp_like(coalesce(json_get_json(requestparameters, 'eventSelectors'), '[]'), '^\s*\[\s*\]\s*$')
                OR (regexp_like(coalesce(json_get_json(requestparameters, 'eventSelectors'), ''), '"includeManagementEvents"\s*:\s*false')
                    AND NOT regexp_like(coalesce(json_get_json(requestparameters, 'eventSelectors'), ''), '"includeManagementEvents"\s*:\s*true')))))
