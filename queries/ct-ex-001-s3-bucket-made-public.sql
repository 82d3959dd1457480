/* hunt
id = "CT-EX-001"
title = "S3 bucket made public"
description = """
Block Public Access removed (DeletePublicAccessBlock for the account,
DeleteBucketPublicAccessBlock for a bucket), a bucket policy with an Allow
statement whose principal is everyone ("*" or {"AWS": "*"}), or a bucket ACL
granting the AllUsers or AuthenticatedUsers groups (or a canned public-read,
public-read-write or authenticated-read ACL). A common way to stage data for
exfiltration. Deny statements with a wildcard principal (such as requiring
TLS) are not reported; the first 20 statements of a policy are read."""
tactics = ["TA0010"]
techniques = ["T1530", "T1537"]
severity = "high"
false_positives = [
  "Buckets that serve a public website or downloads",
  "Allow statements with a wildcard principal narrowed by a condition (aws:PrincipalOrgID, aws:SourceVpce)",
]
tags = ["s3", "exfiltration", "public-access"]

[params.allow_principals]
default = []
description = "Principal ARNs that publish buckets as part of their job"
*/
WITH changes AS (
  SELECT eventtime, eventid, eventname,
         coalesce(useridentity_arn, useridentity_principalid, useridentity_invokedby) AS principal,
         sourceipaddress, useragent, recipientaccountid AS account, awsregion AS region,
         source_object, requestparameters AS params,
         coalesce(json_get_json(requestparameters, 'bucketPolicy', 'Statement'),
                  json_get_json(json_as_text(requestparameters, 'bucketPolicy'), 'Statement')) AS statements
  FROM cloudtrail
  WHERE eventsource = 's3.amazonaws.com'
    AND eventname IN ('DeletePublicAccessBlock', 'DeleteBucketPublicAccessBlock', 'PutBucketPolicy', 'PutBucketAcl')
    AND errorcode IS NULL
    AND eventtime >= {{start}} AND eventtime < {{end}}
    AND coalesce(useridentity_arn, '') NOT IN {{allow_principals}}
),
statements AS (
  SELECT eventid,
         CASE WHEN substr(ltrim(statements), 1, 1) = '{' THEN CASE WHEN i = 0 THEN statements END
              ELSE json_get_json(statements, i) END AS statement
  FROM changes CROSS JOIN unnest(make_array(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)) AS t(i)
  WHERE eventname = 'PutBucketPolicy'
),
public_policies AS (
  SELECT DISTINCT eventid FROM statements
  WHERE json_as_text(statement, 'Effect') = 'Allow'
    AND (json_as_text(statement, 'Principal') = '*'
         OR regexp_like(coalesce(json_get_json(statement, 'Principal', 'AWS'), ''), '"\*"'))
)
SELECT eventtime, eventid, eventname, principal, sourceipaddress, useragent, account, region,
       source_object,
       CASE eventname
         WHEN 'DeletePublicAccessBlock' THEN 'account-level S3 Block Public Access removed'
         WHEN 'DeleteBucketPublicAccessBlock' THEN 'Block Public Access removed from bucket ' || coalesce(json_as_text(params, 'bucketName'), '?')
         WHEN 'PutBucketPolicy' THEN 'bucket policy allows everyone: ' || coalesce(json_as_text(params, 'bucketName'), '?')
         ELSE 'bucket ACL grants public access: ' || coalesce(json_as_text(params, 'bucketName'), '?')
       END AS reason
FROM changes
WHERE eventname IN ('DeletePublicAccessBlock', 'DeleteBucketPublicAccessBlock')
   OR (eventname = 'PutBucketPolicy' AND eventid IN (SELECT eventid FROM public_policies))
   OR (eventname = 'PutBucketAcl'
       AND (regexp_like(coalesce(params, ''), 'acs\.amazonaws\.com/groups/global/(AllUsers|AuthenticatedUsers)')
            OR coalesce(json_as_text(params, 'x-amz-acl'), '') IN ('public-read', 'public-read-write', 'authenticated-read')))
