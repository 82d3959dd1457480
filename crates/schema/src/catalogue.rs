//! The column catalogue: every column of the events table, its Arrow type and
//! the JSON path in a CloudTrail record it is read from.

use std::sync::{Arc, LazyLock};

use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// How a column's value is read from the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A JSON string.
    Utf8,
    /// A JSON boolean, or the strings `"true"` / `"false"` (CloudTrail writes
    /// `mfaAuthenticated` and `sessionCredentialFromConsole` as strings).
    Boolean,
    /// A time string: ISO-8601 extended (`2024-03-10T23:58:01Z`, optional
    /// fraction, `T` or space, optional offset) or basic (`20131102T010628Z`).
    /// Stored as nanoseconds since the epoch, UTC.
    Timestamp,
    /// Any JSON value, stored as its JSON text with insignificant white space
    /// removed; JSON `null` and an absent key are both SQL NULL.
    Json,
    /// `resources[]`: a list of `{ARN, accountId, type}` objects.
    Resources,
    /// An object of string fields: `(column, JSON key)` pairs.
    Struct(&'static [(&'static str, &'static str)]),
    /// Provenance: the location of the object the event was read from.
    SourceObject,
    /// Provenance: the event's index in its object's `Records` array.
    SourceIndex,
    /// The record's JSON text exactly as delivered.
    RawRecord,
    /// Hex digest of the record's canonical form (keys sorted, no white
    /// space, strings in one escaping): equal for the same event however it
    /// was serialised, so duplicates are told from eventID conflicts.
    ContentHash,
    /// Everything in the record that no other column holds, as a JSON object
    /// that mirrors the record's nesting; NULL when there is nothing left over.
    Extra,
}

/// One column of the events table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Lower-case SQL name.
    pub name: &'static str,
    /// JSON keys from the record root to the value; empty for columns that are
    /// not read from one place in the record (provenance, `extra`).
    pub path: &'static [&'static str],
    /// How the value is read.
    pub kind: Kind,
    /// One line for `\d` and the schema docs.
    pub doc: &'static str,
}

impl Column {
    /// The JSON path as CloudTrail spells it, e.g. `userIdentity.arn`.
    pub fn source_path(&self) -> String {
        self.path.join(".")
    }

    /// The column's Arrow type.
    pub fn data_type(&self) -> DataType {
        match self.kind {
            Kind::Utf8
            | Kind::Json
            | Kind::SourceObject
            | Kind::RawRecord
            | Kind::ContentHash
            | Kind::Extra => DataType::Utf8,
            Kind::Boolean => DataType::Boolean,
            Kind::Timestamp => timestamp_type(),
            Kind::SourceIndex => DataType::Int64,
            Kind::Resources => DataType::List(Arc::new(Field::new(
                "item",
                DataType::Struct(resource_fields()),
                true,
            ))),
            Kind::Struct(members) => DataType::Struct(string_fields(members)),
        }
    }

    /// The column as an Arrow field. Every column is nullable: CloudTrail
    /// omits fields freely across event versions.
    pub fn field(&self) -> Field {
        Field::new(self.name, self.data_type(), true)
    }
}

/// Event times are nanoseconds in UTC: CloudTrail writes seconds, but some
/// exports carry fractions down to nanoseconds, and nothing read may be lost.
fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// `(column, JSON key)` pairs of one `resources[]` element (note `ARN` in upper case).
pub const RESOURCE_MEMBERS: &[(&str, &str)] =
    &[("arn", "ARN"), ("accountid", "accountId"), ("type", "type")];

fn resource_fields() -> Fields {
    string_fields(RESOURCE_MEMBERS)
}

fn string_fields(members: &[(&str, &str)]) -> Fields {
    members
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Utf8, true))
        .collect()
}

macro_rules! columns {
    ($( $name:literal, [$($key:literal),*], $kind:expr, $doc:literal; )*) => {
        /// Every column of the events table, in table order.
        pub static COLUMNS: &[Column] = &[
            $( Column { name: $name, path: &[$($key),*], kind: $kind, doc: $doc }, )*
        ];
    };
}

const ADDENDUM: Kind = Kind::Struct(&[
    ("reason", "reason"),
    ("updatedfields", "updatedFields"),
    ("originalrequestid", "originalRequestID"),
    ("originaleventid", "originalEventID"),
]);

const TLS_DETAILS: Kind = Kind::Struct(&[
    ("tlsversion", "tlsVersion"),
    ("ciphersuite", "cipherSuite"),
    ("clientprovidedhostheader", "clientProvidedHostHeader"),
    ("keyexchange", "keyExchange"),
]);

columns! {
    "eventversion", ["eventVersion"], Kind::Utf8, "Record format version, e.g. 1.11";
    "eventtime", ["eventTime"], Kind::Timestamp, "When the request was made (UTC)";
    "eventsource", ["eventSource"], Kind::Utf8, "Service the request went to, e.g. s3.amazonaws.com";
    "eventname", ["eventName"], Kind::Utf8, "API action, e.g. GetObject";
    "awsregion", ["awsRegion"], Kind::Utf8, "Region the request went to";
    "sourceipaddress", ["sourceIPAddress"], Kind::Utf8, "Caller IP address, or the service name for AWS-internal calls";
    "useragent", ["userAgent"], Kind::Utf8, "Caller's user agent (truncated at 1 KB by CloudTrail)";
    "errorcode", ["errorCode"], Kind::Utf8, "AWS error code when the request failed";
    "errormessage", ["errorMessage"], Kind::Utf8, "Error message when the request failed";
    "requestparameters", ["requestParameters"], Kind::Json, "Request parameters (JSON text)";
    "responseelements", ["responseElements"], Kind::Json, "Response elements (JSON text)";
    "additionaleventdata", ["additionalEventData"], Kind::Json, "Additional event data (JSON text)";
    "serviceeventdetails", ["serviceEventDetails"], Kind::Json, "Service event details (JSON text)";
    "edgedevicedetails", ["edgeDeviceDetails"], Kind::Json, "Edge device details (JSON text)";
    "insightdetails", ["insightDetails"], Kind::Json, "Insight details of Insights events (JSON text)";
    "requestid", ["requestID"], Kind::Utf8, "Request id assigned by the service";
    "eventid", ["eventID"], Kind::Utf8, "CloudTrail's GUID for the event";
    "eventtype", ["eventType"], Kind::Utf8, "AwsApiCall, AwsServiceEvent, AwsConsoleSignIn, AwsVpceEvent, AwsCloudTrailInsight, …";
    "apiversion", ["apiVersion"], Kind::Utf8, "API version of the call";
    "readonly", ["readOnly"], Kind::Boolean, "Whether the operation is read-only";
    "managementevent", ["managementEvent"], Kind::Boolean, "Whether the event is a management event";
    "resources", ["resources"], Kind::Resources, "Resources accessed: list of {arn, accountid, type}";
    "recipientaccountid", ["recipientAccountId"], Kind::Utf8, "Account that received the event";
    "sharedeventid", ["sharedEventID"], Kind::Utf8, "Id shared by the per-account copies of one action";
    "annotation", ["annotation"], Kind::Utf8, "User annotation";
    "vpcendpointid", ["vpcEndpointId"], Kind::Utf8, "VPC endpoint the request went through";
    "vpcendpointaccountid", ["vpcEndpointAccountId"], Kind::Utf8, "Account that owns the VPC endpoint";
    "eventcategory", ["eventCategory"], Kind::Utf8, "Management, Data, NetworkActivity or Insight";
    "addendum", ["addendum"], ADDENDUM, "Why a delayed or corrected event was delivered";
    "sessioncredentialfromconsole", ["sessionCredentialFromConsole"], Kind::Boolean, "Whether the session credentials came from the console";
    "tlsdetails", ["tlsDetails"], TLS_DETAILS, "TLS version, cipher suite, host header and key exchange";
    "useridentity_type", ["userIdentity", "type"], Kind::Utf8, "Root, IAMUser, AssumedRole, Role, FederatedUser, AWSAccount, AWSService, SAMLUser, WebIdentityUser, IdentityCenterUser, Directory, Unknown";
    "useridentity_principalid", ["userIdentity", "principalId"], Kind::Utf8, "Unique id of the caller";
    "useridentity_arn", ["userIdentity", "arn"], Kind::Utf8, "ARN of the caller";
    "useridentity_accountid", ["userIdentity", "accountId"], Kind::Utf8, "Account of the caller";
    "useridentity_accesskeyid", ["userIdentity", "accessKeyId"], Kind::Utf8, "Access key used to sign the request";
    "useridentity_username", ["userIdentity", "userName"], Kind::Utf8, "Friendly name of the caller (IAM user, root alias, …)";
    "useridentity_invokedby", ["userIdentity", "invokedBy"], Kind::Utf8, "AWS service that made the request on the caller's behalf";
    "useridentity_credentialid", ["userIdentity", "credentialId"], Kind::Utf8, "Bearer-token credential id";
    "useridentity_identityprovider", ["userIdentity", "identityProvider"], Kind::Utf8, "SAML or web-identity provider";
    "useridentity_sessioncontext_sessionissuer_type", ["userIdentity", "sessionContext", "sessionIssuer", "type"], Kind::Utf8, "Type of the session issuer: Root, IAMUser or Role";
    "useridentity_sessioncontext_sessionissuer_principalid", ["userIdentity", "sessionContext", "sessionIssuer", "principalId"], Kind::Utf8, "Principal id of the session issuer";
    "useridentity_sessioncontext_sessionissuer_arn", ["userIdentity", "sessionContext", "sessionIssuer", "arn"], Kind::Utf8, "ARN of the session issuer (the role behind an assumed-role session)";
    "useridentity_sessioncontext_sessionissuer_accountid", ["userIdentity", "sessionContext", "sessionIssuer", "accountId"], Kind::Utf8, "Account of the session issuer";
    "useridentity_sessioncontext_sessionissuer_username", ["userIdentity", "sessionContext", "sessionIssuer", "userName"], Kind::Utf8, "Name of the session issuer (role name)";
    "useridentity_sessioncontext_attributes_mfaauthenticated", ["userIdentity", "sessionContext", "attributes", "mfaAuthenticated"], Kind::Boolean, "Whether the session was authenticated with MFA";
    "useridentity_sessioncontext_attributes_creationdate", ["userIdentity", "sessionContext", "attributes", "creationDate"], Kind::Timestamp, "When the session's credentials were issued (UTC)";
    "useridentity_sessioncontext_sourceidentity", ["userIdentity", "sessionContext", "sourceIdentity"], Kind::Utf8, "Source identity set on the role session";
    "useridentity_sessioncontext_ec2roledelivery", ["userIdentity", "sessionContext", "ec2RoleDelivery"], Kind::Utf8, "IMDS version that delivered EC2 role credentials (1.0 or 2.0)";
    "useridentity_sessioncontext_assumedroot", ["userIdentity", "sessionContext", "assumedRoot"], Kind::Boolean, "Whether the session came from sts:AssumeRoot";
    "useridentity_sessioncontext_webidfederationdata_federatedprovider", ["userIdentity", "sessionContext", "webIdFederationData", "federatedProvider"], Kind::Utf8, "Web-identity provider of the session";
    "useridentity_sessioncontext_webidfederationdata_attributes", ["userIdentity", "sessionContext", "webIdFederationData", "attributes"], Kind::Json, "Web-identity federation attributes (JSON text)";
    "useridentity_onbehalfof_userid", ["userIdentity", "onBehalfOf", "userId"], Kind::Utf8, "IAM Identity Center user the call was made for";
    "useridentity_onbehalfof_identitystorearn", ["userIdentity", "onBehalfOf", "identityStoreArn"], Kind::Utf8, "Identity store of that user";
    "useridentity_inscopeof_sourcearn", ["userIdentity", "inScopeOf", "sourceArn"], Kind::Utf8, "Resource the credentials were scoped to";
    "useridentity_inscopeof_sourceaccount", ["userIdentity", "inScopeOf", "sourceAccount"], Kind::Utf8, "Account of that resource";
    "useridentity_inscopeof_issuertype", ["userIdentity", "inScopeOf", "issuerType"], Kind::Utf8, "Type of the issuing resource, e.g. AWS::Lambda::Function";
    "useridentity_inscopeof_credentialsissuedto", ["userIdentity", "inScopeOf", "credentialsIssuedTo"], Kind::Utf8, "Who the scoped credentials were issued to";
    "useridentity_invokedbydelegate_accountid", ["userIdentity", "invokedByDelegate", "accountId"], Kind::Utf8, "Account of the delegate that made the call";
    "source_object", [], Kind::SourceObject, "Provenance: path or s3:// URL of the object the event was read from";
    "source_index", [], Kind::SourceIndex, "Provenance: the event's index (from 0) in that object's Records array";
    "eventjson", [], Kind::RawRecord, "The whole record as delivered, byte for byte (JSON text), as CloudTrail Lake's eventJson";
    "content_hash", [], Kind::ContentHash, "BLAKE3 of the record's canonical JSON (sorted keys, no white space), 128 bits in hex: same event, same hash";
    "extra", [], Kind::Extra, "What no other column holds (new fields, values of unexpected type), as JSON";
}

static FILE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(
        COLUMNS.iter().map(Column::field).collect::<Vec<_>>(),
    ))
});

/// The schema of the Parquet files: every column of [`COLUMNS`], without the
/// partition columns (those live in the folder names).
pub fn file_schema() -> SchemaRef {
    Arc::clone(&FILE_SCHEMA)
}

/// The schema a query sees: the file schema followed by the partition columns.
pub fn table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = file_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.extend(
        crate::partition_fields()
            .into_iter()
            .map(|(name, ty)| Field::new(name, ty, false)),
    );
    Arc::new(Schema::new(fields))
}

/// Looks a column up by its SQL name.
pub fn column(name: &str) -> Option<&'static Column> {
    COLUMNS.iter().find(|c| c.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lower_case_and_follow_paths() {
        let mut seen = std::collections::HashSet::new();
        for c in COLUMNS {
            assert!(seen.insert(c.name), "duplicate column {}", c.name);
            assert_eq!(c.name, c.name.to_lowercase());
            if c.path.len() > 1 {
                assert_eq!(
                    c.name,
                    c.path.join("_").to_lowercase(),
                    "flattened name of {}",
                    c.source_path()
                );
            } else if let [key] = c.path {
                assert_eq!(c.name, key.to_lowercase());
            }
        }
    }

    #[test]
    fn no_two_columns_read_the_same_path() {
        let mut paths = std::collections::HashSet::new();
        for c in COLUMNS.iter().filter(|c| !c.path.is_empty()) {
            assert!(paths.insert(c.path), "{} read twice", c.source_path());
            // A leaf may not sit inside another column's path.
            for other in COLUMNS.iter().filter(|o| o.path.len() > c.path.len()) {
                assert!(
                    !other.path.starts_with(c.path),
                    "{} is inside {}",
                    other.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn table_schema_ends_with_partitions() {
        let names: Vec<_> = table_schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(&names[names.len() - 3..], ["account", "region", "date"]);
        assert_eq!(names.len(), COLUMNS.len() + 3);
    }
}
