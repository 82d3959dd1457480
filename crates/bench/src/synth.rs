//! Seeded synthetic CloudTrail archives.
//!
//! [`generate`] writes an archive in trail layout
//! (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz`) the way a
//! trail delivers it: one small file per account, region and five minutes,
//! each `{"Records":[…]}` gzipped. The event mix is heavy-tailed like a real
//! estate's: mostly read-only calls by AssumedRole service sessions, a large
//! share of S3 data events, AWS services acting for the account, a few
//! percent of errors, some console and IAM user activity, and a few calls
//! with large nested `requestParameters`. File sizes vary with the hour of
//! the day and a long-tailed random factor.
//!
//! The same [`Spec`] writes the same bytes on any machine and any number of
//! threads: every (account, region, day) draws from its own generator seeded
//! from the spec's seed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Uncompressed JSON to write in all, in bytes (reached within a few percent).
    pub json_bytes: u64,
    /// Number of accounts.
    pub accounts: usize,
    /// Regions each account is active in.
    pub regions: Vec<String>,
    /// First day.
    pub start: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Minutes between two deliveries of one account and region.
    pub interval_minutes: u32,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            seed: 1,
            json_bytes: 1 << 30,
            accounts: 6,
            regions: ["us-east-1", "eu-west-1", "ap-southeast-2"]
                .map(str::to_owned)
                .to_vec(),
            start: NaiveDate::from_ymd_opt(2024, 3, 1).expect("valid date"),
            days: 7,
            interval_minutes: 5,
        }
    }
}

impl Spec {
    /// Account ids, in order.
    pub fn account_ids(&self) -> Vec<String> {
        (0..self.accounts)
            .map(|i| format!("{:012}", 100_000_000_000 + i as u64 * 11_111_111))
            .collect()
    }

    fn slots_per_day(&self) -> u32 {
        24 * 60 / self.interval_minutes.max(1)
    }

    fn files(&self) -> u64 {
        self.accounts as u64
            * self.regions.len() as u64
            * u64::from(self.days)
            * u64::from(self.slots_per_day())
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Objects written.
    pub files: u64,
    /// Events in them.
    pub events: u64,
    /// Uncompressed JSON bytes.
    pub json_bytes: u64,
    /// Bytes on disk.
    pub gzip_bytes: u64,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, other: Self) {
        self.files += other.files;
        self.events += other.events;
        self.json_bytes += other.json_bytes;
        self.gzip_bytes += other.gzip_bytes;
    }
}

/// Writes the archive under `out` (which gets an `AWSLogs/` folder) on
/// `threads` threads.
pub fn generate(spec: &Spec, out: &Path, threads: usize) -> std::io::Result<Summary> {
    let accounts = spec.account_ids();
    let mut units = Vec::new();
    for (a, account) in accounts.iter().enumerate() {
        for region in &spec.regions {
            for day in 0..spec.days {
                units.push((a, account.as_str(), region.as_str(), day));
            }
        }
    }
    let per_file = spec.json_bytes / spec.files().max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                scope.spawn(|| -> std::io::Result<Summary> {
                    let mut total = Summary::default();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&(a, account, region, day)) = units.get(i) else {
                            return Ok(total);
                        };
                        let seed = spec
                            .seed
                            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                            .wrapping_add(i as u64);
                        let mut day_writer = Day {
                            rng: fastrand::Rng::with_seed(seed),
                            estate: Estate::new(account, a),
                            region,
                            spec,
                            per_file,
                        };
                        total +=
                            day_writer.write(out, spec.start + Duration::days(i64::from(day)))?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("generator threads do not panic"))
            .collect::<Vec<_>>()
    });
    let mut summary = Summary::default();
    for result in results {
        summary += result?;
    }
    Ok(summary)
}

/// The people, roles and services of one account.
struct Estate {
    account: String,
    roles: Vec<String>,
    users: Vec<String>,
    buckets: Vec<String>,
    /// Addresses the account's people and workloads call from.
    addresses: Vec<String>,
}

impl Estate {
    fn new(account: &str, index: usize) -> Self {
        let roles = [
            "orders-api",
            "ingest-lambda",
            "eks-node",
            "batch-runner",
            "ci-deployer",
            "reporting",
            "data-pipeline",
            "AWSReservedSSO_Admin_1f2e3d",
            "AWSReservedSSO_ReadOnly_9a8b7c",
            "OrganizationAccountAccessRole",
        ]
        .map(str::to_owned)
        .to_vec();
        let users = ["alice", "bob", "carol", "dave", "svc-backup", "svc-legacy"]
            .map(str::to_owned)
            .to_vec();
        let buckets = [
            "data-lake",
            "logs",
            "artifacts",
            "customer-uploads",
            "backups",
        ]
        .iter()
        .map(|b| format!("{b}-{account}"))
        .collect();
        let addresses = (0..400)
            .map(|i| {
                format!(
                    "{}.{}.{}.{}",
                    [198, 203, 100, 52][i % 4],
                    (index * 37 + i / 250) % 256,
                    (i * 7) % 256,
                    (i * 13 + 1) % 254 + 1
                )
            })
            .collect();
        Self {
            account: account.to_owned(),
            roles,
            users,
            buckets,
            addresses,
        }
    }
}

/// One account and region's deliveries over one day.
struct Day<'a> {
    rng: fastrand::Rng,
    estate: Estate,
    region: &'a str,
    spec: &'a Spec,
    per_file: u64,
}

const USER_AGENTS: &[&str] = &[
    "aws-sdk-java/2.25.10 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9",
    "Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10 lang/python#3.11.8",
    "aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 api/ec2#1.149.0",
    "aws-cli/2.15.25 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36",
    "aws-sdk-js/3.525.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.11.1",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 terraform-provider-aws/5.39.1",
    "console.amazonaws.com",
    "[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.661]",
];

/// Read-only service calls: (event source, names).
const READS: &[(&str, &[&str])] = &[
    (
        "ec2.amazonaws.com",
        &[
            "DescribeInstances",
            "DescribeVolumes",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeNetworkInterfaces",
        ],
    ),
    (
        "kms.amazonaws.com",
        &["Decrypt", "GenerateDataKey", "DescribeKey"],
    ),
    ("sts.amazonaws.com", &["GetCallerIdentity"]),
    ("dynamodb.amazonaws.com", &["DescribeTable", "ListTables"]),
    (
        "lambda.amazonaws.com",
        &["GetFunction", "ListFunctions20150331"],
    ),
    ("ssm.amazonaws.com", &["GetParameter", "GetParameters"]),
    (
        "secretsmanager.amazonaws.com",
        &["GetSecretValue", "DescribeSecret"],
    ),
    (
        "logs.amazonaws.com",
        &["DescribeLogStreams", "DescribeLogGroups"],
    ),
    (
        "monitoring.amazonaws.com",
        &["GetMetricData", "DescribeAlarms"],
    ),
    (
        "iam.amazonaws.com",
        &["GetRole", "ListRoles", "ListAttachedRolePolicies"],
    ),
    (
        "ecr.amazonaws.com",
        &["GetAuthorizationToken", "BatchGetImage"],
    ),
];

/// Mutating service calls.
const WRITES: &[(&str, &[&str])] = &[
    (
        "logs.amazonaws.com",
        &["CreateLogStream", "PutRetentionPolicy"],
    ),
    (
        "ec2.amazonaws.com",
        &["CreateTags", "ModifyInstanceAttribute"],
    ),
    (
        "lambda.amazonaws.com",
        &["UpdateFunctionConfiguration20150331v2"],
    ),
    ("ssm.amazonaws.com", &["PutParameter"]),
    ("sqs.amazonaws.com", &["SetQueueAttributes"]),
];

impl Day<'_> {
    fn write(&mut self, out: &Path, day: NaiveDate) -> std::io::Result<Summary> {
        let mut summary = Summary::default();
        let account = self.estate.account.clone();
        let region = self.region.to_owned();
        let folder = out.join(format!(
            "AWSLogs/{account}/CloudTrail/{region}/{}",
            day.format("%Y/%m/%d")
        ));
        std::fs::create_dir_all(&folder)?;
        let slots = self.spec.slots_per_day();
        let mut text: Vec<u8> = Vec::new();
        for slot in 0..slots {
            let begin = day.and_hms_opt(0, 0, 0).expect("midnight")
                + Duration::minutes(i64::from(slot * self.spec.interval_minutes));
            // Busy office hours, a quiet night, and a long tail of busy files.
            let hour = f64::from(slot * self.spec.interval_minutes) / 60.0;
            let daily = 1.0 + 0.6 * ((hour - 8.0) / 24.0 * std::f64::consts::TAU).sin();
            let tail = (-(1.0 - self.rng.f64()).ln()).powf(1.6) / 1.5;
            let budget = (self.per_file as f64 * daily * tail) as usize;
            text.clear();
            text.extend_from_slice(b"{\"Records\":[");
            let mut events = 0;
            while events == 0 || text.len() < budget {
                if events > 0 {
                    text.push(b',');
                }
                let at = begin
                    + Duration::milliseconds(
                        self.rng
                            .i64(0..i64::from(self.spec.interval_minutes) * 60_000),
                    );
                let event = self.event(at);
                serde_json::to_writer(&mut text, &event).expect("JSON values serialise");
                events += 1;
            }
            text.extend_from_slice(b"]}");
            let delivered = begin + Duration::minutes(i64::from(self.spec.interval_minutes));
            let mut unique = String::with_capacity(16);
            for _ in 0..16 {
                unique.push(self.rng.alphanumeric());
            }
            let name = format!(
                "{account}_CloudTrail_{region}_{}_{unique}.json.gz",
                delivered.format("%Y%m%dT%H%MZ")
            );
            let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 6), Compression::default());
            gz.write_all(&text)?;
            let bytes = gz.finish()?;
            std::fs::write(folder.join(name), &bytes)?;
            summary += Summary {
                files: 1,
                events,
                json_bytes: text.len() as u64,
                gzip_bytes: bytes.len() as u64,
            };
        }
        Ok(summary)
    }

    fn uuid(&mut self) -> String {
        let (a, b) = (self.rng.u64(..), self.rng.u64(..));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// An index skewed towards the start: a few principals and addresses
    /// make most of the calls.
    fn skewed(&mut self, len: usize) -> usize {
        let x = self.rng.f64();
        ((x * x * x) * len as f64) as usize % len
    }

    fn key_id(&mut self, prefix: &str) -> String {
        let mut id = String::from(prefix);
        for _ in 0..16 {
            id.push(self.rng.uppercase());
        }
        id
    }

    fn role_session(&mut self) -> Value {
        let pick = self.skewed(self.estate.roles.len());
        let role = self.estate.roles[pick].clone();
        let account = self.estate.account.clone();
        let account = &account;
        let session = if role.starts_with("AWSReservedSSO") {
            format!("{}@example.com", self.estate.users[self.rng.usize(..4)])
        } else {
            format!("{role}-{}", self.rng.u32(1000..9999))
        };
        let role_id = format!("AROA{}", &account[..8]);
        json!({
            "type": "AssumedRole",
            "principalId": format!("{role_id}:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            "accountId": account,
            "accessKeyId": self.key_id("ASIA"),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "webIdFederationData": {},
                "attributes": {"creationDate": "2024-03-01T00:00:00Z", "mfaAuthenticated": "false"},
            },
        })
    }

    fn iam_user(&mut self) -> Value {
        let pick = self.skewed(self.estate.users.len());
        let user = self.estate.users[pick].clone();
        let account = &self.estate.account;
        json!({
            "type": "IAMUser",
            "principalId": format!("AIDA{}{}", &account[..6], user.len()),
            "arn": format!("arn:aws:iam::{account}:user/{user}"),
            "accountId": account,
            "accessKeyId": format!("AKIA{}{:06}", &account[..6], user.len() * 1000 + user.as_bytes()[0] as usize),
            "userName": user,
        })
    }

    fn address(&mut self) -> String {
        let i = self.skewed(self.estate.addresses.len());
        self.estate.addresses[i].clone()
    }

    fn agent(&mut self) -> &'static str {
        USER_AGENTS[self.skewed(USER_AGENTS.len())]
    }

    fn event(&mut self, at: NaiveDateTime) -> Value {
        let roll = self.rng.u32(0..1000);
        let mut event = match roll {
            0..=419 => self.service_read(),
            420..=679 => self.s3_data(),
            680..=799 => self.aws_service(),
            800..=899 => self.service_write(),
            900..=969 => self.user_activity(),
            _ => self.large_request(),
        };
        let error = self.rng.u32(0..100);
        if error < 3 && event["errorCode"].is_null() {
            let (code, message) = [
                (
                    "AccessDenied",
                    "User is not authorized to perform this operation",
                ),
                ("ThrottlingException", "Rate exceeded"),
                (
                    "Client.UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                ),
            ][self.rng.usize(..3)];
            event["errorCode"] = json!(code);
            event["errorMessage"] = json!(message);
            event["responseElements"] = Value::Null;
        }
        let common = json!({
            "eventVersion": "1.09",
            "eventTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "awsRegion": self.region,
            "requestID": self.uuid(),
            "eventID": self.uuid(),
            "recipientAccountId": self.estate.account,
        });
        let (Value::Object(target), Value::Object(common)) = (&mut event, common) else {
            unreachable!("events are objects")
        };
        for (k, v) in common {
            target.entry(k).or_insert(v);
        }
        event
    }

    fn service_read(&mut self) -> Value {
        let (source, names) = READS[self.skewed(READS.len())];
        let name = names[self.rng.usize(..names.len())];
        let params = match name {
            "Decrypt" | "GenerateDataKey" => json!({
                "encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                "encryptionContext": {"aws:lambda:FunctionArn": format!("arn:aws:lambda:{}:{}:function:ingest", self.region, self.estate.account)},
            }),
            "GetParameter" | "GetParameters" => {
                json!({"name": format!("/app/{}/db-url", self.rng.u32(1..40)), "withDecryption": self.rng.bool()})
            }
            "GetSecretValue" => json!({"secretId": format!("prod/app-{}", self.rng.u32(1..12))}),
            "DescribeInstances" => {
                json!({"instancesSet": {"items": [{"instanceId": format!("i-{:017x}", self.rng.u64(..1 << 60))}]}, "filterSet": {}})
            }
            _ => Value::Null,
        };
        json!({
            "userIdentity": self.role_session(),
            "eventSource": source,
            "eventName": name,
            "sourceIPAddress": self.address(),
            "userAgent": self.agent(),
            "requestParameters": params,
            "responseElements": null,
            "readOnly": true,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{}.{}.amazonaws.com", source.trim_end_matches(".amazonaws.com"), self.region)},
        })
    }

    fn s3_data(&mut self) -> Value {
        let pick = self.skewed(self.estate.buckets.len());
        let bucket = self.estate.buckets[pick].clone();
        let name = [
            "GetObject",
            "GetObject",
            "GetObject",
            "PutObject",
            "HeadObject",
        ][self.rng.usize(..5)];
        let mut key = String::new();
        let _ = write!(
            key,
            "{}/{}/part-{:05}.parquet",
            ["raw", "curated", "exports", "tmp"][self.rng.usize(..4)],
            self.rng.u32(2020..2025),
            self.rng.u32(..20000)
        );
        let read_only = name != "PutObject";
        json!({
            "userIdentity": self.role_session(),
            "eventSource": "s3.amazonaws.com",
            "eventName": name,
            "sourceIPAddress": self.address(),
            "userAgent": "[aws-sdk-java/2.25.10 Linux/5.10]",
            "requestParameters": {"bucketName": bucket, "Host": format!("{bucket}.s3.{}.amazonaws.com", self.region), "key": key},
            "responseElements": null,
            "additionalEventData": {
                "SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0, "bytesTransferredOut": self.rng.u32(100..50_000_000),
                "AuthenticationMethod": "AuthHeader", "x-amz-id-2": self.key_id("id2/"),
            },
            "resources": [
                {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{bucket}/{key}")},
                {"accountId": self.estate.account, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")},
            ],
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": false,
            "eventCategory": "Data",
        })
    }

    fn aws_service(&mut self) -> Value {
        let service = [
            "lambda.amazonaws.com",
            "ecs-tasks.amazonaws.com",
            "config.amazonaws.com",
            "cloudtrail.amazonaws.com",
        ][self.rng.usize(..4)];
        let role = self.estate.roles[self.rng.usize(..self.estate.roles.len())].clone();
        json!({
            "userIdentity": {"type": "AWSService", "invokedBy": service},
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "sourceIPAddress": service,
            "userAgent": service,
            "requestParameters": {"roleArn": format!("arn:aws:iam::{}:role/{role}", self.estate.account), "roleSessionName": format!("{role}-{}", self.rng.u32(1000..9999)), "durationSeconds": 3600},
            "responseElements": {"credentials": {"accessKeyId": self.key_id("ASIA"), "sessionToken": "IQoJb3JpZ2luX2VjEOr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ", "expiration": "Mar 1, 2024, 1:00:00 AM"}},
            "resources": [{"accountId": self.estate.account, "type": "AWS::IAM::Role", "ARN": format!("arn:aws:iam::{}:role/{role}", self.estate.account)}],
            "readOnly": true,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
            "sharedEventID": self.uuid(),
        })
    }

    fn service_write(&mut self) -> Value {
        let (source, names) = WRITES[self.rng.usize(..WRITES.len())];
        let name = names[self.rng.usize(..names.len())];
        json!({
            "userIdentity": self.role_session(),
            "eventSource": source,
            "eventName": name,
            "sourceIPAddress": self.address(),
            "userAgent": self.agent(),
            "requestParameters": {"resource": format!("res-{}", self.rng.u32(..5000)), "tags": [{"key": "team", "value": "platform"}]},
            "responseElements": null,
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
        })
    }

    fn user_activity(&mut self) -> Value {
        let identity = self.iam_user();
        if self.rng.u32(0..10) == 0 {
            let mfa = if self.rng.u32(0..4) == 0 { "No" } else { "Yes" };
            return json!({
                "userIdentity": identity,
                "eventSource": "signin.amazonaws.com",
                "eventName": "ConsoleLogin",
                "sourceIPAddress": self.address(),
                "userAgent": USER_AGENTS[4],
                "requestParameters": null,
                "responseElements": {"ConsoleLogin": "Success"},
                "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa},
                "readOnly": false,
                "eventType": "AwsConsoleSignIn",
                "managementEvent": true,
                "eventCategory": "Management",
            });
        }
        let (source, name) = [
            ("s3.amazonaws.com", "ListBuckets"),
            ("iam.amazonaws.com", "ListUsers"),
            ("ec2.amazonaws.com", "DescribeInstances"),
            ("cloudtrail.amazonaws.com", "LookupEvents"),
            ("iam.amazonaws.com", "CreateAccessKey"),
            ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
            ("cloudtrail.amazonaws.com", "StopLogging"),
        ][self.skewed(7)];
        json!({
            "userIdentity": identity,
            "eventSource": source,
            "eventName": name,
            "sourceIPAddress": self.address(),
            "userAgent": self.agent(),
            "requestParameters": null,
            "responseElements": null,
            "readOnly": name.starts_with("List") || name.starts_with("Describe") || name.starts_with("Lookup"),
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
        })
    }

    /// A call with a large nested request: an instance launch with block
    /// devices, network interfaces, tags and user data.
    fn large_request(&mut self) -> Value {
        let devices: Vec<Value> = (0..self.rng.usize(2..8))
            .map(|i| json!({"deviceName": format!("/dev/xvd{}", (b'a' + i as u8) as char), "ebs": {"volumeSize": 100 * (i + 1), "deleteOnTermination": true, "volumeType": "gp3", "encrypted": true, "kmsKeyId": self.uuid()}}))
            .collect();
        let interfaces: Vec<Value> = (0..self.rng.usize(1..4))
            .map(|i| json!({"deviceIndex": i, "subnetId": format!("subnet-{:017x}", self.rng.u64(..1 << 60)), "groupSet": {"items": [{"groupId": format!("sg-{:017x}", self.rng.u64(..1 << 60))}]}, "associatePublicIpAddress": false}))
            .collect();
        let tags: Vec<Value> = (0..self.rng.usize(3..12))
            .map(|i| json!({"key": format!("tag-{i}"), "value": self.uuid()}))
            .collect();
        let count = self.rng.u32(1..4);
        let instance_type = ["m5.large", "c5.xlarge", "r6g.2xlarge"][self.rng.usize(..3)];
        let instances: Vec<Value> = (0..count)
            .map(|_| json!({"instanceId": format!("i-{:017x}", self.rng.u64(..1 << 60)), "instanceState": {"code": 0, "name": "pending"}, "privateIpAddress": format!("10.0.{}.{}", self.rng.u8(..), self.rng.u8(1..)), "blockDeviceMapping": {}}))
            .collect();
        json!({
            "userIdentity": self.role_session(),
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "sourceIPAddress": self.address(),
            "userAgent": USER_AGENTS[6],
            "requestParameters": {
                "instancesSet": {"items": [{"imageId": format!("ami-{:017x}", self.rng.u64(..1 << 60)), "minCount": count, "maxCount": count}]},
                "instanceType": instance_type,
                "blockDeviceMapping": {"items": devices},
                "networkInterfaceSet": {"items": interfaces},
                "tagSpecificationSet": {"items": [{"resourceType": "instance", "tags": tags}]},
                "userData": "<sensitiveDataRemoved>",
                "monitoring": {"enabled": false},
                "disableApiTermination": false,
                "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2},
            },
            "responseElements": {"requestId": self.uuid(), "reservationId": format!("r-{:017x}", self.rng.u64(..1 << 60)), "ownerId": self.estate.account, "instancesSet": {"items": instances}},
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Spec {
        Spec {
            json_bytes: 2 << 20,
            accounts: 2,
            regions: vec!["us-east-1".to_owned(), "eu-west-1".to_owned()],
            days: 2,
            interval_minutes: 60,
            ..Spec::default()
        }
    }

    fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
        crate::inflate::objects(root)
            .unwrap()
            .into_iter()
            .map(|path| {
                let name = path.strip_prefix(root).unwrap().display().to_string();
                (name, std::fs::read(&path).unwrap())
            })
            .collect()
    }

    #[test]
    fn same_seed_same_archive_on_any_thread_count() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let one = generate(&small(), a.path(), 1).unwrap();
        let two = generate(&small(), b.path(), 3).unwrap();
        assert_eq!(one, two);
        assert_eq!(files(a.path()), files(b.path()));
        assert_eq!(one.files, 2 * 2 * 2 * 24);
        // Within 10% of the size asked for.
        assert!(one.json_bytes.abs_diff(2 << 20) < (2 << 20) / 10, "{one:?}");
    }

    #[test]
    fn records_are_cloudtrail_shaped() {
        let dir = tempfile::tempdir().unwrap();
        let summary = generate(&small(), dir.path(), 2).unwrap();
        let mut events = 0;
        let mut categories = std::collections::BTreeMap::<String, u64>::new();
        for (name, bytes) in files(dir.path()) {
            assert!(name.starts_with("AWSLogs/"), "{name}");
            let text = ctlake_ingest::inflate(&name, &bytes, u64::MAX).unwrap();
            let doc: Value = serde_json::from_slice(&text).unwrap();
            for record in doc["Records"].as_array().unwrap() {
                events += 1;
                for field in [
                    "eventTime",
                    "eventID",
                    "eventName",
                    "eventSource",
                    "awsRegion",
                    "recipientAccountId",
                ] {
                    assert!(record[field].is_string(), "{field} in {record}");
                }
                assert!(name.contains(record["awsRegion"].as_str().unwrap()));
                *categories
                    .entry(record["eventCategory"].as_str().unwrap().to_owned())
                    .or_default() += 1;
            }
        }
        assert_eq!(events, summary.events);
        let data = categories["Data"] as f64 / events as f64;
        assert!((0.2..0.32).contains(&data), "{categories:?}");
    }
}
