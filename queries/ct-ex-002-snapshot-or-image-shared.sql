/* hunt
id = "CT-EX-002"
title = "Snapshot or image shared publicly or with a foreign account"
description = """
ModifySnapshotAttribute and ModifyImageAttribute adding create-volume or
launch permission for group all or for an account, and
ModifyDBSnapshotAttribute or ModifyDBClusterSnapshotAttribute adding
"all" or an account to the restore attribute. A copy of a disk or database
taken out through a share leaves no data-plane trace in the victim account.
Shares with the recipient account itself or an account in allow_accounts are
left out."""
tactics = ["TA0010"]
techniques = ["T1537"]
severity = "high"
false_positives = [
  "Sharing with backup, disaster-recovery or partner accounts (list them in allow_accounts)",
  "Public AMIs published on purpose",
]
tags = ["ec2", "rds", "snapshot", "exfiltration"]

[params.allow_accounts]
default = []
description = "Account ids that snapshots and images may be shared with"
*/
WITH shares AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object,
         coalesce(json_as_text(requestparameters, 'snapshotId'), json_as_text(requestparameters, 'imageId'),
                  json_as_text(requestparameters, 'dBSnapshotIdentifier'),
                  json_as_text(requestparameters, 'dBClusterSnapshotIdentifier'), '?') AS resource,
         coalesce(json_get_json(requestparameters, 'createVolumePermission', 'add'),
                  json_get_json(requestparameters, 'launchPermission', 'add'),
                  json_get_json(requestparameters, 'valuesToAdd')) AS added
  FROM cloudtrail
  WHERE ((eventsource = 'ec2.amazonaws.com' AND eventname IN ('ModifySnapshotAttribute', 'ModifyImageAttribute'))
         OR (eventsource = 'rds.amazonaws.com'
             AND eventname IN ('ModifyDBSnapshotAttribute', 'ModifyDBClusterSnapshotAttribute')
             AND json_as_text(requestparameters, 'attributeName') = 'restore'))
    AND errorcode IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
),
targets AS (
  SELECT eventid, account, unnest(string_to_array(regexp_replace(coalesce(added, ''), '[^0-9A-Za-z]+', ',', 'g'), ',')) AS target
  FROM shares
),
foreign_targets AS (
  SELECT eventid, account,
         array_to_string(array_sort(array_distinct(array_agg(CASE target WHEN 'all' THEN 'everyone' ELSE target END))), ', ') AS whom
  FROM targets
  WHERE target = 'all'
     OR (regexp_like(target, '^[0-9]{12}$') AND target <> account AND target NOT IN {{allow_accounts}})
  GROUP BY eventid, account
)
SELECT s.eventtime, s.eventid, s.eventname, s.principal, s.sourceipaddress, s.useragent, s.account, s.region,
       s.source_object,
       s.resource || ' shared with ' || f.whom AS reason
FROM shares AS s JOIN foreign_targets AS f ON s.eventid = f.eventid AND s.account = f.account
