//! CloudTrail records to Arrow columns, driven by the schema's catalogue.
//!
//! Each record is split into its members once; members the catalogue knows
//! land in their column, everything else (unknown fields, values of an
//! unexpected type) lands in the record's residual, written to `extra`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Int64Builder, ListArray, NullBufferBuilder,
    RecordBatch, StringBuilder, StringViewBuilder, StructArray, TimestampNanosecondBuilder,
};
use arrow::buffer::{Buffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef};
use ctlake_schema::{
    COLUMNS, Column, Kind, PartitionKey, RESOURCE_MEMBERS, file_schema, sanitize_partition_value,
};
use serde_json::value::RawValue;

use crate::canonical::ContentHasher;
use crate::json::{self, Residual, Shape, Split, Value, shape};
use crate::time;

/// Where a record's value for each known path goes.
#[derive(Debug)]
enum Slot {
    Column(usize),
    Object(Tree),
}

#[derive(Debug, Default)]
pub(crate) struct Tree {
    slots: foldhash::HashMap<&'static str, Slot>,
    /// The keys of `slots` that hold objects.
    objects: Vec<&'static str>,
}

impl json::Guide for Tree {
    fn object(&self, key: &str) -> Option<&Self> {
        // A level has few objects, and most keys are none of them: telling
        // them apart by comparison is cheaper than hashing every key.
        if !self.objects.contains(&key) {
            return None;
        }
        match self.slots.get(key) {
            Some(Slot::Object(sub)) => Some(sub),
            _ => None,
        }
    }
}

/// The record members the decoder walks into, for [`json::for_each_record`].
pub(crate) fn guide() -> &'static Tree {
    &TREE
}

static TREE: LazyLock<Tree> = LazyLock::new(|| {
    let mut root = Tree::default();
    for (i, c) in COLUMNS.iter().enumerate() {
        let Some((leaf, parents)) = c.path.split_last() else {
            continue;
        };
        let mut tree = &mut root;
        for key in parents {
            if !tree.slots.contains_key(key) {
                tree.objects.push(key);
            }
            let slot = tree
                .slots
                .entry(key)
                .or_insert_with(|| Slot::Object(Tree::default()));
            let Slot::Object(sub) = slot else {
                panic!("{} is inside a column", c.source_path())
            };
            tree = sub;
        }
        tree.slots.insert(leaf, Slot::Column(i));
    }
    root
});

static EVENT_TIME: LazyLock<usize> = LazyLock::new(|| index_of("eventtime"));
static RECIPIENT: LazyLock<usize> = LazyLock::new(|| index_of("recipientaccountid"));
static REGION: LazyLock<usize> = LazyLock::new(|| index_of("awsregion"));
static EVENT_ID: LazyLock<usize> = LazyLock::new(|| index_of("eventid"));

fn index_of(name: &str) -> usize {
    COLUMNS
        .iter()
        .position(|c| c.name == name)
        .expect("catalogue column")
}

/// Why a record could not become a row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The element of `Records` is not a JSON object.
    NotAnObject,
    /// The record has no `eventTime`, or it is null.
    MissingEventTime,
    /// `eventTime` is not a time ctlake can read; holds the value's JSON text.
    InvalidEventTime(String),
    /// `eventTime` is a time, but before 1677-09-21 or after 2262-04-11,
    /// which the lake's nanosecond timestamps cannot hold; holds its JSON text.
    EventTimeOutOfRange(String),
    /// The record has no `eventID` (absent or null): without it an event
    /// cannot be told from its duplicates.
    MissingEventId,
    /// `eventID` is not a string, or one with escapes that are not text (a
    /// lone surrogate); holds the value's JSON text.
    InvalidEventId(String),
    /// The record's text is not valid UTF-8; holds the offset of the first
    /// bad byte in the decompressed object. `raw` has it replaced by U+FFFD.
    InvalidUtf8(u64),
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnObject => f.write_str("record is not a JSON object"),
            Self::MissingEventTime => f.write_str("record has no eventTime"),
            Self::InvalidEventTime(v) => write!(f, "eventTime {v} is not a time"),
            Self::EventTimeOutOfRange(v) => write!(
                f,
                "eventTime {v} is outside the times the lake holds (1677-09-21 to 2262-04-11)"
            ),
            Self::MissingEventId => f.write_str("record has no eventID"),
            Self::InvalidEventId(v) => write!(f, "eventID {v} is not a string of text"),
            Self::InvalidUtf8(offset) => write!(
                f,
                "record is not valid UTF-8 (bad byte at offset {offset} of the decompressed object)"
            ),
        }
    }
}

/// A record that did not become a row, kept with its text.
#[derive(Debug, Clone)]
pub struct RejectedRecord {
    /// Index in the object's `Records` array.
    pub index: usize,
    /// What is wrong with it.
    pub reason: RejectReason,
    /// The record's JSON text as read.
    pub raw: String,
}

/// Account and region taken from the object's key, used for the partition of
/// events that lack `recipientAccountId` or `awsRegion` (records before
/// version 1.02 have no `recipientAccountId`).
#[derive(Debug, Clone, Default)]
pub struct KeyContext {
    /// Account folder of the trail layout, if the key had one.
    pub account: Option<String>,
    /// Region folder of the trail layout, if the key had one.
    pub region: Option<String>,
    /// Day folder (delivery day) of the trail layout, if the key had one.
    pub day: Option<chrono::NaiveDate>,
}

enum Builder {
    Utf8(StringBuilder),
    /// The records as delivered: views into the text of their objects,
    /// which the batch then holds, rather than a copy of it.
    Records(StringViewBuilder),
    Boolean(BooleanBuilder),
    Timestamp(TimestampNanosecondBuilder),
    Int64(Int64Builder),
    Struct {
        members: Vec<StringBuilder>,
        nulls: NullBufferBuilder,
        fields: Fields,
    },
    Resources {
        members: Vec<StringBuilder>,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        fields: Fields,
    },
}

impl Builder {
    fn new(column: &Column) -> Self {
        match (column.kind, column.data_type()) {
            (Kind::Boolean, _) => Self::Boolean(BooleanBuilder::new()),
            (Kind::Timestamp, _) => {
                Self::Timestamp(TimestampNanosecondBuilder::new().with_timezone("UTC"))
            }
            (Kind::SourceIndex, _) => Self::Int64(Int64Builder::new()),
            (Kind::RawRecord, _) => Self::Records(StringViewBuilder::new()),
            (Kind::Struct(m), DataType::Struct(fields)) => Self::Struct {
                members: m.iter().map(|_| StringBuilder::new()).collect(),
                nulls: NullBufferBuilder::new(0),
                fields,
            },
            (Kind::Resources, DataType::List(item)) => {
                let DataType::Struct(fields) = item.data_type() else {
                    unreachable!("resources hold structs")
                };
                Self::Resources {
                    members: fields.iter().map(|_| StringBuilder::new()).collect(),
                    offsets: vec![0],
                    nulls: NullBufferBuilder::new(0),
                    fields: fields.clone(),
                }
            }
            _ => Self::Utf8(StringBuilder::new()),
        }
    }

    fn append_nulls(&mut self, n: usize) {
        match self {
            Self::Utf8(b) => b.append_nulls(n),
            // Every row keeps its record, so no run of these comes; the
            // view builder has no call for a run.
            Self::Records(b) => {
                for _ in 0..n {
                    b.append_null();
                }
            }
            Self::Boolean(b) => b.append_nulls(n),
            Self::Timestamp(b) => b.append_nulls(n),
            Self::Int64(b) => b.append_nulls(n),
            Self::Struct { members, nulls, .. } => {
                for b in members.iter_mut() {
                    b.append_nulls(n);
                }
                nulls.append_n_nulls(n);
            }
            Self::Resources { offsets, nulls, .. } => {
                let end = *offsets.last().expect("offsets start at 0");
                offsets.extend(std::iter::repeat_n(end, n));
                nulls.append_n_nulls(n);
            }
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Utf8(b) => {
                // The next batch is about as large: reserving for it up front
                // spares the copies of growing the buffers from empty.
                let (rows, bytes) = (ArrayBuilder::len(b), b.values_slice().len());
                let array = Arc::new(b.finish());
                *b = StringBuilder::with_capacity(rows, bytes + bytes / 8);
                array
            }
            Self::Records(b) => Arc::new(b.finish()),
            Self::Boolean(b) => Arc::new(b.finish()),
            Self::Timestamp(b) => Arc::new(b.finish()),
            Self::Int64(b) => Arc::new(b.finish()),
            Self::Struct {
                members,
                nulls,
                fields,
            } => Arc::new(StructArray::new(
                fields.clone(),
                members
                    .iter_mut()
                    .map(|b| Arc::new(b.finish()) as ArrayRef)
                    .collect(),
                nulls.finish(),
            )),
            Self::Resources {
                members,
                offsets,
                nulls,
                fields,
            } => {
                let items = StructArray::new(
                    fields.clone(),
                    members
                        .iter_mut()
                        .map(|b| Arc::new(b.finish()) as ArrayRef)
                        .collect(),
                    None,
                );
                let offsets = OffsetBuffer::new(std::mem::replace(offsets, vec![0]).into());
                let DataType::List(item) = ctlake_schema::column("resources")
                    .expect("catalogue")
                    .data_type()
                else {
                    unreachable!("resources is a list")
                };
                Arc::new(ListArray::new(
                    item,
                    offsets,
                    Arc::new(items),
                    nulls.finish(),
                ))
            }
        }
    }
}

/// A column's builder, with the nulls appended since its last value counted
/// rather than written: most columns are null in most records, and a run of
/// nulls written at once costs a fraction of a call per row.
struct ColumnBuilder {
    values: Builder,
    nulls: usize,
}

impl ColumnBuilder {
    fn new(column: &Column) -> Self {
        Self {
            values: Builder::new(column),
            nulls: 0,
        }
    }

    fn append_null(&mut self) {
        self.nulls += 1;
    }

    /// The builder, with the nulls counted so far written to it.
    fn values(&mut self) -> &mut Builder {
        if self.nulls > 0 {
            self.values.append_nulls(std::mem::take(&mut self.nulls));
        }
        &mut self.values
    }

    fn finish(&mut self) -> ArrayRef {
        self.values().finish()
    }
}

/// The schema of the decoder's batches: the file schema, with the records
/// column (`eventjson`) as string views. Parquet writes views into a string
/// column as it writes strings, so the files are the same.
pub fn batch_schema() -> SchemaRef {
    static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
        let fields: Vec<Field> = COLUMNS
            .iter()
            .zip(file_schema().fields())
            .map(|(column, field)| match column.kind {
                Kind::RawRecord => field.as_ref().clone().with_data_type(DataType::Utf8View),
                _ => field.as_ref().clone(),
            })
            .collect();
        Arc::new(Schema::new_with_metadata(
            fields,
            file_schema().metadata().clone(),
        ))
    });
    Arc::clone(&SCHEMA)
}

/// A batch of events ready for the writer, with each row's partition.
#[derive(Debug)]
pub struct EventBatch {
    /// Rows in [`batch_schema`].
    pub batch: RecordBatch,
    /// The distinct partitions of the rows.
    pub partitions: Vec<PartitionKey>,
    /// Each row's partition, an index into `partitions`; parallel to `batch`.
    pub partition_of_row: Vec<u32>,
}

const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;

/// Builds rows from records, one object after another.
pub(crate) struct EventBuilder {
    builders: Vec<ColumnBuilder>,
    partitions: Vec<PartitionKey>,
    partition_ids: HashMap<PartitionKey, u32>,
    /// The partition of the last row and its UTC day number: consecutive
    /// records almost always share it, and then need no key built.
    last: Option<(u32, i64)>,
    partition_of_row: Vec<u32>,
    extra_text: String,
    object: ObjectText,
}

/// The text of the object being decoded, which its records are slices of.
#[derive(Default)]
struct ObjectText {
    /// The same bytes as the text, to hold in the records column; `None`
    /// when views cannot reach past 4 GiB of it, and records are copied.
    block: Option<Buffer>,
    /// Where the text starts in memory.
    base: usize,
    /// The block's index in the records builder, once a record took it.
    index: Option<u32>,
}

impl ObjectText {
    /// Appends `record` to `builder` as a view into its object's text.
    fn append(&mut self, builder: &mut StringViewBuilder, record: &str) {
        let offset = (record.as_ptr() as usize).wrapping_sub(self.base);
        let Some(block) = self
            .block
            .as_ref()
            .filter(|block| offset.saturating_add(record.len()) <= block.len())
        else {
            builder.append_value(record);
            return;
        };
        let index = *self
            .index
            .get_or_insert_with(|| builder.append_block(block.clone()));
        builder
            .try_append_view(index, offset as u32, record.len() as u32)
            .expect("a record is a whole str inside its object's text");
    }
}

impl EventBuilder {
    pub(crate) fn new() -> Self {
        Self {
            builders: COLUMNS.iter().map(ColumnBuilder::new).collect(),
            partitions: Vec::new(),
            partition_ids: HashMap::new(),
            last: None,
            partition_of_row: Vec::new(),
            extra_text: String::new(),
            object: ObjectText::default(),
        }
    }

    /// Starts an object whose records will be slices of `text`, read from
    /// `block` as UTF-8: the records column keeps `block` itself, or a copy
    /// of `text` when invalid bytes in it were replaced.
    pub(crate) fn begin_object(&mut self, text: &str, block: &Buffer) {
        let block = if std::ptr::eq(text.as_ptr(), block.as_ptr()) {
            block.clone()
        } else {
            Buffer::from(text.as_bytes())
        };
        self.object = ObjectText {
            // Arrow numbers a block's bytes below u32::MAX.
            block: (block.len() < u32::MAX as usize).then_some(block),
            base: text.as_ptr() as usize,
            index: None,
        };
    }

    pub(crate) fn len(&self) -> usize {
        self.partition_of_row.len()
    }

    /// Takes the rows built so far.
    pub(crate) fn finish(&mut self) -> EventBatch {
        let columns = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let batch = RecordBatch::try_new(batch_schema(), columns)
            .expect("builders follow the batch schema");
        // Batches end between objects: the last one's text is the batch's now.
        self.object = ObjectText::default();
        self.partition_ids.clear();
        self.last = None;
        EventBatch {
            batch,
            partitions: std::mem::take(&mut self.partitions),
            partition_of_row: std::mem::take(&mut self.partition_of_row),
        }
    }

    /// The index of a row's partition in this batch.
    fn partition(&mut self, account: &str, region: &str, event_time: i64) -> u32 {
        let day = event_time.div_euclid(NANOS_PER_DAY);
        if let Some((id, last_day)) = self.last {
            let last = &self.partitions[id as usize];
            if last_day == day && last.account == account && last.region == region {
                return id;
            }
        }
        let key = PartitionKey {
            account: account.to_owned(),
            region: region.to_owned(),
            date: time::utc_date(event_time),
        };
        let next = u32::try_from(self.partitions.len()).expect("fewer partitions than rows");
        let id = *self.partition_ids.entry(key).or_insert_with_key(|key| {
            self.partitions.push(key.clone());
            next
        });
        self.last = Some((id, day));
        id
    }

    /// Decodes every record of one object. Returns how many records became
    /// rows; the others are pushed to `rejected`.
    pub(crate) fn decode_record<'a>(
        &mut self,
        record: json::Record<'a>,
        index: usize,
        source: &str,
        key: &KeyContext,
        scratch: &mut Scratch<'a>,
    ) -> Result<(), RejectedRecord> {
        let raw = record.text;
        let reject = |reason| RejectedRecord {
            index,
            reason,
            raw: raw.to_owned(),
        };
        let Some(members) = record.into_members() else {
            return Err(reject(RejectReason::NotAnObject));
        };
        scratch.reset();
        scratch.hasher.begin();
        walk(&TREE, members, &mut Vec::new(), scratch);

        let event_time = match scratch.slots[*EVENT_TIME] {
            None => return Err(reject(RejectReason::MissingEventTime)),
            Some(v) if shape(v) == Shape::Null => {
                return Err(reject(RejectReason::MissingEventTime));
            }
            Some(v) => {
                let text = json::string(v);
                match text.as_deref().and_then(time::parse_nanos) {
                    Some(t) => t,
                    None if text.as_deref().is_some_and(time::out_of_range) => {
                        return Err(reject(RejectReason::EventTimeOutOfRange(
                            v.get().to_owned(),
                        )));
                    }
                    None => return Err(reject(RejectReason::InvalidEventTime(v.get().to_owned()))),
                }
            }
        };

        match scratch.slots[*EVENT_ID] {
            Some(v) if json::string(v).is_some() => {}
            // A string whose escapes are not text (a lone surrogate,
            // `\ud800`) could not be stored, so the event could not be found
            // by it: as unusable as an eventID that is no string.
            Some(v) if shape(v) != Shape::Null => {
                return Err(reject(RejectReason::InvalidEventId(v.get().to_owned())));
            }
            _ => return Err(reject(RejectReason::MissingEventId)),
        }
        let hash = scratch.hasher.finish(raw);

        let account = scratch.slots[*RECIPIENT].and_then(json::string);
        let region = scratch.slots[*REGION].and_then(json::string);
        let partition = self.partition(
            partition_value(account.as_deref(), key.account.as_deref()),
            partition_value(region.as_deref(), key.region.as_deref()),
            event_time,
        );
        self.partition_of_row.push(partition);

        for (i, column) in COLUMNS.iter().enumerate() {
            let value = scratch.slots[i];
            let builder = &mut self.builders[i];
            match column.kind {
                Kind::SourceObject => push_str(builder.values(), Some(source)),
                Kind::SourceIndex => {
                    let Builder::Int64(b) = builder.values() else {
                        unreachable!()
                    };
                    b.append_value(index as i64);
                }
                Kind::RawRecord => {
                    let Builder::Records(b) = builder.values() else {
                        unreachable!("the records column has views")
                    };
                    self.object.append(b, raw);
                }
                Kind::ContentHash => push_str(
                    builder.values(),
                    Some(std::str::from_utf8(&hash).expect("hex is ASCII")),
                ),
                Kind::Extra => {}
                _ => {
                    if let Some(value) = value.filter(|v| shape(v) != Shape::Null) {
                        if !append_value(builder.values(), column, value, &mut scratch.residual) {
                            builder.append_null();
                            scratch.residual.keep(&owned_path(column.path), value);
                        }
                    } else {
                        builder.append_null();
                    }
                }
            }
        }
        let extra_index = COLUMNS.len() - 1;
        debug_assert_eq!(COLUMNS[extra_index].kind, Kind::Extra);
        if scratch.residual.is_empty() {
            self.builders[extra_index].append_null();
        } else {
            self.extra_text.clear();
            scratch.residual.write_json(&mut self.extra_text);
            let text = std::mem::take(&mut self.extra_text);
            push_str(self.builders[extra_index].values(), Some(&text));
            self.extra_text = text;
        }
        Ok(())
    }
}

/// Per-record working space, reused across the records of one object.
pub(crate) struct Scratch<'a> {
    slots: Vec<Option<&'a RawValue>>,
    residual: Residual<'a>,
    hasher: ContentHasher,
    /// Member paths of note over all records, with how many records had each.
    fields: FieldNotes,
}

/// Member paths of note in an object's records, with how many records had
/// each.
#[derive(Debug, Default)]
pub(crate) struct FieldNotes {
    /// Paths the catalogue does not know (`userIdentity.x`): kept in `extra`.
    pub(crate) new: HashMap<String, u64>,
    /// Paths given twice in one record: the column holds the last value,
    /// `extra` the earlier. CloudTrail does not repeat keys; an edited
    /// record may, to show one value to some readers and another to others.
    pub(crate) repeated: HashMap<String, u64>,
}

impl Scratch<'_> {
    pub(crate) fn new() -> Self {
        Self {
            slots: vec![None; COLUMNS.len()],
            residual: Residual::default(),
            hasher: ContentHasher::default(),
            fields: FieldNotes::default(),
        }
    }

    /// The member paths of note seen so far.
    pub(crate) fn take_fields(&mut self) -> FieldNotes {
        std::mem::take(&mut self.fields)
    }

    fn reset(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
        self.residual.clear();
    }
}

fn owned_path(path: &[&'static str]) -> Vec<Cow<'static, str>> {
    path.iter().map(|k| Cow::Borrowed(*k)).collect()
}

fn walk<'a>(
    tree: &Tree,
    members: Split<'a>,
    path: &mut Vec<Cow<'a, str>>,
    scratch: &mut Scratch<'a>,
) {
    // The canonical form for the content hash is written on the way.
    let depth = path.len();
    let object = scratch.hasher.open_object(depth);
    for (key, value) in members {
        let member = scratch
            .hasher
            .key(depth, &key, matches!(key, Cow::Borrowed(_)));
        let slot = tree.slots.get(key.as_ref());
        let value = match value {
            Value::Raw(value) => value,
            Value::Object(inner) => {
                let Some(Slot::Object(sub)) = slot else {
                    unreachable!("only walked objects are split, and {key} is not one")
                };
                path.push(key);
                walk(sub, inner, path, scratch);
                path.pop();
                scratch.hasher.end_member(depth, member);
                continue;
            }
            Value::Null => json::null(),
        };
        let mut walked_into = false;
        match slot {
            Some(Slot::Column(i)) => {
                // A repeated key: the last one wins, as in most JSON readers;
                // the earlier value is kept in the residual.
                if let Some(earlier) = scratch.slots[*i].replace(value) {
                    path.push(key);
                    *scratch.fields.repeated.entry(path.join(".")).or_default() += 1;
                    scratch.residual.keep(path, earlier);
                    path.pop();
                }
            }
            Some(Slot::Object(sub)) => match json::members(value) {
                Some(inner) => {
                    path.push(key);
                    walk(sub, json::unsplit(inner), path, scratch);
                    path.pop();
                    walked_into = true;
                }
                None if shape(value) == Shape::Null => {}
                None => {
                    path.push(key);
                    scratch.residual.keep(path, value);
                    path.pop();
                }
            },
            None => {
                path.push(key);
                let name = path.join(".");
                *scratch.fields.new.entry(name).or_default() += 1;
                scratch.residual.keep(path, value);
                path.pop();
            }
        }
        if !walked_into {
            scratch.hasher.value(depth, value);
        }
        scratch.hasher.end_member(depth, member);
    }
    scratch.hasher.close_object(depth, object);
}

fn partition_value<'a>(from_record: Option<&'a str>, from_key: Option<&'a str>) -> &'a str {
    let chosen = match from_record {
        Some(v) if sanitize_partition_value(Some(v)) == v => v,
        _ => from_key.unwrap_or(""),
    };
    sanitize_partition_value(Some(chosen))
}

fn push_str(builder: &mut Builder, value: Option<&str>) {
    let Builder::Utf8(b) = builder else {
        unreachable!("string column")
    };
    b.append_option(value);
}

fn parse_bool(value: &RawValue) -> Option<bool> {
    match value.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => match json::string(value)?.as_ref() {
            s if s.eq_ignore_ascii_case("true") => Some(true),
            s if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        },
    }
}

/// Appends a non-null value; false when its type does not fit the column.
fn append_value<'a>(
    builder: &mut Builder,
    column: &Column,
    value: &'a RawValue,
    residual: &mut Residual<'a>,
) -> bool {
    match (builder, column.kind) {
        (Builder::Utf8(b), Kind::Utf8) => match json::string(value) {
            Some(s) => b.append_value(s),
            None => return false,
        },
        (Builder::Utf8(b), Kind::Json) => b.append_value(json::minify(value.get())),
        (Builder::Boolean(b), _) => match parse_bool(value) {
            Some(v) => b.append_value(v),
            None => return false,
        },
        (Builder::Timestamp(b), _) => {
            match json::string(value).as_deref().and_then(time::parse_nanos) {
                Some(t) => b.append_value(t),
                None => return false,
            }
        }
        (Builder::Struct { members, nulls, .. }, Kind::Struct(keys)) => {
            let Some(fields) = json::members(value) else {
                return false;
            };
            let mut found: Vec<Option<Cow<str>>> = vec![None; keys.len()];
            for (key, v) in fields {
                match keys.iter().position(|(_, k)| *k == key) {
                    Some(i) if shape(v) == Shape::Null => found[i] = None,
                    Some(i) => match json::string(v) {
                        Some(s) => found[i] = Some(s),
                        None => residual.keep(&[column.path[0].into(), key], v),
                    },
                    None => residual.keep(&[column.path[0].into(), key], v),
                }
            }
            for (b, v) in members.iter_mut().zip(found) {
                b.append_option(v);
            }
            nulls.append_non_null();
        }
        (
            Builder::Resources {
                members,
                offsets,
                nulls,
                ..
            },
            _,
        ) => {
            let Some(items) = json::elements(value) else {
                return false;
            };
            let mut rows = Vec::with_capacity(items.len());
            for item in items {
                let Some(fields) = json::members(item) else {
                    return false;
                };
                let mut row: [Option<Cow<str>>; 3] = [None, None, None];
                for (key, v) in fields {
                    let Some(i) = RESOURCE_MEMBERS.iter().position(|(_, k)| *k == key) else {
                        return false;
                    };
                    if shape(v) != Shape::Null {
                        let Some(s) = json::string(v) else {
                            return false;
                        };
                        row[i] = Some(s);
                    }
                }
                rows.push(row);
            }
            for row in &rows {
                for (b, v) in members.iter_mut().zip(row) {
                    b.append_option(v.as_deref());
                }
            }
            let end = offsets.last().expect("offsets start at 0") + rows.len() as i32;
            offsets.push(end);
            nulls.append_non_null();
        }
        _ => unreachable!("{} has a builder of another kind", column.name),
    }
    true
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array, AsArray};

    use crate::Decoder;
    use crate::canonical::ContentHasher;

    fn record(id: &str, time: &str, account: &str) -> String {
        format!(
            r#"{{"eventID":"{id}","eventTime":"{time}","recipientAccountId":"{account}","awsRegion":"eu-west-1"}}"#
        )
    }

    #[test]
    fn rows_point_at_their_partitions() {
        let text = format!(
            r#"{{"Records":[{},{},{},{},{}]}}"#,
            record("a", "2024-03-10T23:59:59Z", "111122223333"),
            record("b", "2024-03-11T00:00:00Z", "111122223333"),
            record("c", "2024-03-10T12:00:00Z", "111122223333"),
            record("d", "2024-03-11T01:00:00Z", "444455556666"),
            record("e", "2024-03-11T02:00:00Z", "111122223333"),
        );
        let mut decoder = Decoder::default();
        let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/11/x.json.gz";
        assert_eq!(decoder.decode(key, text.as_bytes()), 5);
        let batch = decoder.finish();
        let keys: Vec<String> = batch
            .partition_of_row
            .iter()
            .map(|&i| batch.partitions[i as usize].dir())
            .collect();
        let dir =
            |account: &str, date: &str| format!("account={account}/region=eu-west-1/date={date}");
        assert_eq!(
            keys,
            [
                dir("111122223333", "2024-03-10"),
                dir("111122223333", "2024-03-11"),
                dir("111122223333", "2024-03-10"),
                dir("444455556666", "2024-03-11"),
                dir("111122223333", "2024-03-11"),
            ]
        );
        assert_eq!(batch.partitions.len(), 3, "each partition listed once");
    }

    #[test]
    fn an_event_id_that_is_not_text_is_rejected() {
        // A lone surrogate cannot be stored, so the event could not be found by it.
        let text = format!(
            r#"{{"Records":[{},{},{}]}}"#,
            record(r"ok-\u00e9", "2024-03-10T23:59:59Z", "111122223333"),
            record(r"id-\ud800", "2024-03-10T23:59:59Z", "111122223333"),
            record(r"id-\ud83d\ude00", "2024-03-10T23:59:59Z", "111122223333"),
        );
        let mut decoder = Decoder::default();
        assert_eq!(decoder.decode("x.json", text.as_bytes()), 2);
        let batch = decoder.finish().batch;
        let ids = batch.column_by_name("eventid").unwrap().as_string::<i32>();
        assert_eq!((ids.value(0), ids.value(1)), ("ok-é", "id-😀"));
    }

    #[test]
    fn nulls_counted_between_values_land_on_their_rows() {
        let time = "2024-03-11T00:00:00Z";
        let with = |id: &str| {
            format!(
                r#"{{"eventID":"{id}","eventTime":"{time}","errorCode":"AccessDenied","readOnly":true,"tlsDetails":{{"tlsVersion":"TLSv1.3"}},"resources":[{{"ARN":"arn:aws:s3:::b"}}]}}"#
            )
        };
        let without = |id: &str| format!(r#"{{"eventID":"{id}","eventTime":"{time}"}}"#);
        // A value of another type after counted nulls: the nulls are
        // written, the value is not, and its row counts as null.
        let odd = format!(
            r#"{{"eventID":"g","eventTime":"{time}","errorCode":5,"tlsDetails":"x","resources":{{}}}}"#
        );
        let text = format!(
            r#"{{"Records":[{},{},{},{},{},{},{odd},{}]}}"#,
            without("a"),
            without("b"),
            with("c"),
            without("d"),
            with("e"),
            without("f"),
            with("h"),
        );
        let mut decoder = Decoder::default();
        let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/11/x.json.gz";
        assert_eq!(decoder.decode(key, text.as_bytes()), 8);
        let batch = decoder.finish().batch;
        let present = [false, false, true, false, true, false, false, true];
        let errors: Vec<Option<&str>> = batch
            .column_by_name("errorcode")
            .unwrap()
            .as_string::<i32>()
            .iter()
            .collect();
        let expected: Vec<Option<&str>> = present
            .iter()
            .map(|&p| p.then_some("AccessDenied"))
            .collect();
        assert_eq!(errors, expected);
        let read_only: Vec<Option<bool>> = batch
            .column_by_name("readonly")
            .unwrap()
            .as_boolean()
            .iter()
            .collect();
        let expected: Vec<Option<bool>> = present.iter().map(|&p| p.then_some(true)).collect();
        assert_eq!(read_only, expected);
        let tls = batch.column_by_name("tlsdetails").unwrap().as_struct();
        let versions = tls.column_by_name("tlsversion").unwrap().as_string::<i32>();
        let resources = batch.column_by_name("resources").unwrap().as_list::<i32>();
        for (row, &p) in present.iter().enumerate() {
            assert_eq!(tls.is_valid(row), p, "tlsdetails of row {row}");
            assert_eq!(versions.is_valid(row), p, "tlsversion of row {row}");
            assert_eq!(resources.is_valid(row), p, "resources of row {row}");
            assert_eq!(resources.value_length(row), i32::from(p), "row {row}");
        }
        assert_eq!(versions.value(7), "TLSv1.3");
        let extra = batch.column_by_name("extra").unwrap().as_string::<i32>();
        assert!(extra.value(6).contains("errorCode"), "{}", extra.value(6));
        assert_eq!(batch.num_rows(), 8);
    }

    #[test]
    fn records_are_views_into_their_objects_text() {
        let time = "2024-03-11T00:00:00Z";
        let first = format!(
            r#"{{"Records":[{}, {}]}}"#,
            record("a", time, "111122223333"),
            record("b", time, "111122223333")
        );
        // Invalid UTF-8 in one record: the others are read from the
        // text with the bad byte replaced.
        let mut second =
            format!(r#"{{"Records":[{},"#, record("c", time, "111122223333")).into_bytes();
        second.extend_from_slice(b"{\"eventID\":\"d\xff\"},");
        second.extend_from_slice(format!("{}]}}", record("e", time, "111122223333")).as_bytes());
        let mut decoder = Decoder::default();
        let key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/11/x.json.gz";
        assert_eq!(decoder.decode(key, first.as_bytes()), 2);
        assert_eq!(decoder.decode(key, &second), 2);
        let batch = decoder.finish().batch;
        let records = batch.column_by_name("eventjson").unwrap().as_string_view();
        let values: Vec<&str> = records.iter().map(Option::unwrap).collect();
        assert_eq!(
            values,
            [
                record("a", time, "111122223333"),
                record("b", time, "111122223333"),
                record("c", time, "111122223333"),
                record("e", time, "111122223333"),
            ]
        );
        let blocks = records.data_buffers();
        assert_eq!(blocks.len(), 2, "one block for each object");
        assert_eq!(blocks[0].as_slice(), first.as_bytes());
        assert_eq!(
            blocks[1].as_slice(),
            String::from_utf8_lossy(&second).as_bytes()
        );

        // The next batch holds only the text of its own objects.
        assert_eq!(decoder.decode(key, first.as_bytes()), 2);
        let batch = decoder.finish().batch;
        let records = batch.column_by_name("eventjson").unwrap().as_string_view();
        assert_eq!(records.data_buffers().len(), 1);
        assert_eq!(records.value(1), record("b", time, "111122223333"));
    }

    #[test]
    fn walked_records_hash_as_whole_ones() {
        let nested = |levels: usize| {
            format!(
                r#"{{"eventID":"n{levels}","eventTime":"2024-03-10T23:59:59Z","requestParameters":{{"x":{}1{}}}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        let records = [
            // Out of order at every walked level; escapes, numbers, nested free-form values.
            r#"{"eventTime":"2024-03-10T23:59:59Z","eventID":"a","userIdentity":{"type":"AssumedRole","sessionContext":{"sessionIssuer":{"userName":"r","type":"Role"},"attributes":{"mfaAuthenticated":"false","creationDate":"2024-03-10T00:00:00Z"}},"arn":"x\/y"},"requestParameters":{"b":[1,2.50,-3,{"z":1,"a":"\u0041"}],"a":null},"awsRegion":"eu-west-1"}"#.to_owned(),
            // Repeated and escaped keys, a known object that is not one, new fields.
            r#"{"eventID":"b","eventTime":"2024-03-10T23:59:59Z","k\u0065y":"v\n","key":1e2,"userIdentity":"odd","a":true,"a":false,"z":null,"userIdentity":{"b":1,"a":{"d":[],"c":{}}}}"#.to_owned(),
            // White space everywhere; a known object that is null.
            "{ \"eventID\" : \"c\", \"eventTime\": \"2024-03-10T23:59:59Z\",\n \"userIdentity\": null, \"tlsDetails\": { \"tlsVersion\": \"TLSv1.2\" } }".to_owned(),
            // Numbers their 64-bit value does not write back, walked and not.
            r#"{"eventID":"d","eventTime":"2024-03-10T23:59:59Z","requestParameters":{"n":0.10000000000000001},"big":18446744073709551616}"#.to_owned(),
            // Past the walk's depth limit, and past serde_json's recursion limit.
            nested(100),
            nested(200),
        ];
        let mut decoder = Decoder::default();
        for record in &records {
            let text = format!(r#"{{"Records":[{record}]}}"#);
            assert_eq!(decoder.decode("x.json", text.as_bytes()), 1, "{record}");
        }
        let batch = decoder.finish().batch;
        let hashes = batch
            .column_by_name("content_hash")
            .unwrap()
            .as_string::<i32>();
        for (row, record) in records.iter().enumerate() {
            let whole = ContentHasher::default().hash(record);
            assert_eq!(hashes.value(row).as_bytes(), whole.as_slice(), "{record}");
        }
    }
}
