//! A real S3-compatible server for the S3 tests, and a recording,
//! fault-injecting HTTP proxy in front of it.
//!
//! The server is moto's server mode (`tests/s3/moto_fixture.py`, Python from
//! the venv `tests/s3/ensure-moto` makes), started once per test process with
//! IAM authentication on. Each test puts its own [`Proxy`] on a loopback port
//! between ctlake and the server: the proxy records every request (method and
//! target) and can answer chosen GETs with `503 SlowDown`, a connection cut
//! mid-body, or a `500` every time.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{Value, json};

use crate::common::repo;

/// The moto server of this test process.
pub struct Moto {
    pub endpoint: String,
    users: HashMap<String, (String, String)>,
    control: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    _child: Child,
}

static MOTO: OnceLock<Moto> = OnceLock::new();

/// The moto server, started on first use. It exits when this process does
/// (its stdin closes).
pub fn moto() -> &'static Moto {
    MOTO.get_or_init(|| {
        let python = std::env::var("CTLAKE_TEST_PYTHON").unwrap_or_else(|_| {
            let out = Command::new(repo().join("tests/s3/ensure-moto"))
                .output()
                .expect("tests/s3/ensure-moto runs");
            assert!(
                out.status.success(),
                "tests/s3/ensure-moto failed (the S3 tests need python3 with venv and PyPI): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap().trim().to_owned()
        });
        let mut child = Command::new(python)
            .arg(repo().join("tests/s3/moto_fixture.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("moto fixture starts");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let hello: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("moto fixture said {line:?}: {e}"));
        let users = hello["users"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, keys)| {
                let key = |i: usize| keys[i].as_str().unwrap().to_owned();
                (name.clone(), (key(0), key(1)))
            })
            .collect();
        Moto {
            endpoint: hello["endpoint"].as_str().unwrap().to_owned(),
            users,
            control: Mutex::new((stdin, stdout)),
            _child: child,
        }
    })
}

impl Moto {
    /// Access key id and secret of a fixture user: `admin`, `reader`
    /// (ListBucket + GetObject only) or `nobody`.
    pub fn user(&self, name: &str) -> (String, String) {
        self.users[name].clone()
    }

    /// Creates `bucket` and uploads every file under `dir` with its relative
    /// path as key. Digest files get CloudTrail's signature metadata.
    pub fn upload(&self, bucket: &str, dir: &Path, versioned: bool) -> u64 {
        let mut control = self.control.lock().unwrap();
        let command = json!({"op": "upload", "bucket": bucket, "dir": dir, "versioned": versioned});
        writeln!(control.0, "{command}").unwrap();
        control.0.flush().unwrap();
        let mut line = String::new();
        control.1.read_line(&mut line).unwrap();
        let answer: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(answer["ok"], true, "upload to {bucket}: {answer}");
        answer["objects"].as_u64().unwrap()
    }
}

/// What the proxy does to matching GETs of one object.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answer `503 SlowDown` the first `n` times.
    SlowDown(usize),
    /// Send the headers and half the body, then cut the connection, the first `n` times.
    CutBody(usize),
    /// Answer `500 InternalError` every time.
    AlwaysFail,
}

/// One request seen by the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
}

impl Seen {
    /// The decoded value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Whether this is a ListObjectsV2 request.
    pub fn is_list(&self) -> bool {
        self.method == "GET" && self.param("list-type").is_some()
    }

    /// The object key of a GetObject request on `bucket`.
    pub fn object_key(&self, bucket: &str) -> Option<String> {
        if self.method != "GET" || self.is_list() {
            return None;
        }
        let path = self.target.split('?').next().unwrap_or("");
        let key = path.strip_prefix(&format!("/{bucket}/"))?;
        Some(
            percent_encoding::percent_decode_str(key)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }
}

#[derive(Default)]
struct State {
    seen: Vec<Seen>,
    faults: Vec<(String, Fault)>,
}

/// A recording, fault-injecting HTTP proxy on a loopback port.
pub struct Proxy {
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// A proxy in front of `upstream` (e.g. the moto endpoint).
    pub fn start(upstream: &str) -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, mut stop) = tokio::sync::oneshot::channel::<()>();
        let (upstream, shared) = (upstream.to_owned(), Arc::clone(&state));
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let client: Client<HttpConnector, Full<Bytes>> =
                    Client::builder(TokioExecutor::new()).build_http();
                loop {
                    let (socket, _) = tokio::select! {
                        accepted = listener.accept() => accepted.unwrap(),
                        _ = &mut stop => return,
                    };
                    let (client, upstream, state) =
                        (client.clone(), upstream.clone(), Arc::clone(&shared));
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            forward(req, client.clone(), upstream.clone(), Arc::clone(&state))
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(socket), service)
                            .await;
                    });
                }
            });
        });
        Self {
            endpoint,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// Applies `fault` to GETs of keys that contain `key_part`.
    pub fn inject(&self, key_part: &str, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        state.faults.push((key_part.to_owned(), fault));
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn s3_error(status: StatusCode, code: &str) -> Response<Body> {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected by the test proxy</Message></Error>"
    );
    Response::builder()
        .status(status)
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from(xml)).map_err(|e| match e {}).boxed())
        .unwrap()
}

/// Takes the fault to apply to this request, if any, counting it down.
fn take_fault(state: &Mutex<State>, seen: &Seen) -> Option<Fault> {
    if seen.method != "GET" || seen.is_list() {
        return None;
    }
    let mut state = state.lock().unwrap();
    let path = seen.target.split('?').next().unwrap_or("").to_owned();
    let (_, fault) = state
        .faults
        .iter_mut()
        .find(|(part, _)| path.contains(part.as_str()))?;
    match fault {
        Fault::AlwaysFail => Some(Fault::AlwaysFail),
        Fault::SlowDown(0) | Fault::CutBody(0) => None,
        Fault::SlowDown(n) => {
            *n -= 1;
            Some(Fault::SlowDown(1))
        }
        Fault::CutBody(n) => {
            *n -= 1;
            Some(Fault::CutBody(1))
        }
    }
}

async fn forward(
    req: Request<Incoming>,
    client: Client<HttpConnector, Full<Bytes>>,
    upstream: String,
    state: Arc<Mutex<State>>,
) -> Result<Response<Body>, Infallible> {
    let seen = Seen {
        method: req.method().to_string(),
        target: req
            .uri()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string),
    };
    state.lock().unwrap().seen.push(seen.clone());
    let fault = take_fault(&state, &seen);
    match fault {
        Some(Fault::SlowDown(_)) => {
            return Ok(s3_error(StatusCode::SERVICE_UNAVAILABLE, "SlowDown"));
        }
        Some(Fault::AlwaysFail) => {
            return Ok(s3_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError"));
        }
        _ => {}
    }
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map_or_else(|_| Bytes::new(), http_body_util::Collected::to_bytes);
    // The Host header is passed on unchanged: the request is signed with it.
    let mut out = Request::builder()
        .method(parts.method)
        .uri(format!("{upstream}{}", seen.target))
        .body(Full::new(body))
        .unwrap();
    *out.headers_mut() = parts.headers;
    let response = match client.request(out).await {
        Ok(response) => response,
        Err(e) => return Ok(s3_error(StatusCode::BAD_GATEWAY, &format!("Proxy{e}"))),
    };
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map_or_else(|_| Bytes::new(), http_body_util::Collected::to_bytes);
    let body: Body = if matches!(fault, Some(Fault::CutBody(_))) {
        let half = bytes.slice(..bytes.len() / 2);
        let frames: Vec<Result<Frame<Bytes>, std::io::Error>> = vec![
            Ok(Frame::data(half)),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "cut by the test proxy",
            )),
        ];
        BodyExt::boxed(StreamBody::new(futures::stream::iter(frames)))
    } else {
        Full::new(bytes).map_err(|e| match e {}).boxed()
    };
    Ok(Response::from_parts(parts, body))
}
