//! Runs the real `sentinel` binary in a fresh temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Workdir {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Workdir {
    pub fn new() -> Workdir {
        Workdir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).expect("write test file");
        p
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_stdin(args, None)
    }

    pub fn run_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sentinel"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("spawn sentinel");
        if let Some(bytes) = stdin {
            use std::io::Write;
            let mut si = child.stdin.take().expect("stdin");
            let bytes = bytes.to_vec();
            std::thread::spawn(move || {
                let _ = si.write_all(&bytes);
            });
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().expect("wait sentinel");
        let run = Run {
            code: status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        };
        assert!(
            !run.stderr.contains("panicked"),
            "sentinel panicked: {}",
            run.stderr
        );
        run
    }
}

/// The repository's test data directory.
pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(rel)
}

/// The repository root.
pub fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Parses a CSV file into header and rows.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rd = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = rd.headers().expect("header").iter().map(str::to_string).collect();
    let rows = rd
        .records()
        .map(|r| r.expect("record").iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// A small world and a model trained on it, made once per test run and
/// shared by the tests that need a model (training takes seconds).
pub struct Fixture {
    pub train: PathBuf,
    pub test: PathBuf,
    pub model: PathBuf,
}

pub fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let wd = Workdir::new();
        let dir = wd.dir.keep();
        let run = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_sentinel"))
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("run sentinel");
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "generate",
            "--rows",
            "30000",
            "--seed",
            "21",
            "--out",
            "train.csv",
            "-q",
        ]);
        run(&[
            "generate",
            "--rows",
            "20000",
            "--seed",
            "22",
            "--scenario",
            "nj-warehouse",
            "--out",
            "test.csv",
            "-q",
        ]);
        run(&[
            "train",
            "--data",
            "train.csv",
            "--out",
            "model",
            "--iterations",
            "120",
            "-q",
        ]);
        Fixture {
            train: dir.join("train.csv"),
            test: dir.join("test.csv"),
            model: dir.join("model"),
        }
    })
}

/// Copies a directory tree (for tampering with a model).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// An HTTP answer: status, headers (lower-case names) and body.
pub struct Answer {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 client for local test servers: every header is the
/// caller's (none is added but Content-Length and Connection).
pub fn http_raw(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).unwrap();
    let mut rd = BufReader::new(s);
    let mut status = String::new();
    rd.read_line(&mut status).unwrap();
    let code = status
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut len = None;
    let mut chunked = false;
    let mut heads = Vec::new();
    loop {
        let mut h = String::new();
        rd.read_line(&mut h).unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            heads.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let l = h.to_ascii_lowercase();
        if let Some(v) = l.strip_prefix("content-length:") {
            len = v.trim().parse().ok();
        }
        if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            chunked = true;
        }
    }
    let mut raw = Vec::new();
    if method == "HEAD" {
    } else if chunked {
        loop {
            let mut size = String::new();
            rd.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            let mut part = vec![0u8; n + 2];
            rd.read_exact(&mut part).unwrap();
            raw.extend_from_slice(&part[..n]);
        }
    } else if let Some(n) = len {
        raw.resize(n, 0);
        rd.read_exact(&mut raw).unwrap();
    } else {
        rd.read_to_end(&mut raw).unwrap();
    }
    Answer {
        code,
        headers: heads,
        body: String::from_utf8_lossy(&raw).into_owned(),
    }
}

/// A running `sentinel review serve`: its address and token; killed on drop.
pub struct Desk {
    pub child: std::process::Child,
    pub addr: String,
    pub token: String,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Desk {
    /// A call as a well-behaved client makes it: the desk's Host, the token
    /// in a header, a JSON body: (status, body).
    pub fn call(&self, method: &str, path: &str, body: &str) -> (u16, String) {
        let auth = format!("token {}", self.token);
        let a = http_raw(
            &self.addr,
            method,
            path,
            &[
                ("Host", &self.addr),
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            body,
        );
        (a.code, a.body)
    }
}

/// Starts `sentinel review serve` in `wd` with `extra` flags; waits for the
/// address it prints (`listening on http://ADDR/?token=TOKEN`).
pub fn start_desk_with(wd: &Workdir, scored: &str, input: &str, extra: &[&str]) -> Desk {
    use std::io::BufRead;
    let mut desk = Command::new(env!("CARGO_BIN_EXE_sentinel"))
        .args([
            "review", "serve", "--scored", scored, "--input", input, "--db", "r.sqlite", "--port", "0",
        ])
        .args(extra)
        .current_dir(wd.dir.path())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start the desk");
    let mut line = String::new();
    std::io::BufReader::new(desk.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("desk said: {line}"));
    let (addr, rest) = url.split_once('/').unwrap_or((url, ""));
    let token = rest.strip_prefix("?token=").unwrap_or("").to_string();
    Desk {
        child: desk,
        addr: addr.to_string(),
        token,
    }
}

/// Starts `sentinel review serve` in `wd` with its own random token.
pub fn start_desk(wd: &Workdir, scored: &str, input: &str) -> Desk {
    let d = start_desk_with(wd, scored, input, &[]);
    assert!(d.token.len() >= 32, "the desk prints its token: {}", d.token);
    d
}

/// Scores the fixture's test batch with the fixture's model into `out`,
/// with `extra` arguments.
pub fn score_fixture(wd: &Workdir, out: &str, extra: &[&str]) {
    let f = fixture();
    let args = [
        &[
            "score",
            f.test.to_str().unwrap(),
            "--model",
            f.model.to_str().unwrap(),
            "--out",
            out,
            "-q",
        ][..],
        extra,
    ]
    .concat();
    let run = wd.run(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
