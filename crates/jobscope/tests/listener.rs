//! The listener of a real `jobscope serve`: HTTPS with `--tls-cert`/`--tls-key` (and plain
//! HTTP refused on that port), slow clients disconnected after `--header-read-timeout`,
//! oversized request heads answered 431 (`--max-header-bytes`), and bad TLS files refused at
//! start.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

fn addr_of(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Sends raw bytes on a new connection and reads until the server closes it (or `limit`).
fn raw_exchange(addr: &str, bytes: &[u8], limit: Duration) -> (String, Duration) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(limit)).unwrap();
    s.write_all(bytes).unwrap();
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // A reset is a close too.
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), start.elapsed())
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

#[tokio::test]
async fn tls_serves_https_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let key =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_pem = key.cert.pem();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, key.signing_key.serialize_pem()).unwrap();

    let backend = Backend::sqlite();
    let mut server = Server::start_with(
        &backend.url(),
        &[
            ("JOBSCOPE_TLS_CERT", cert_path.to_str().unwrap()),
            ("JOBSCOPE_TLS_KEY", key_path.to_str().unwrap()),
        ],
    );
    let addr = addr_of(&server);
    let _ = Api::default(); // installs the client's crypto provider
    let https = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let res = https
        .get(format!("https://{addr}/api/v4/version"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(body["version"].is_string(), "{body}");
    let health = https
        .get(format!("https://{addr}/-/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.text().await.unwrap(), "GitLab OK");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("http://{addr}/api/v4/version"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP was answered: {plain:?}");

    let metrics = https
        .get(format!("https://{addr}/-/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metric(
            &metrics,
            "jobscope_http_connection_errors_total{cause=\"tls_handshake\"}"
        ) >= 1.0
    );
    assert!(server.stop().success(), "{}", server.log());
}

#[test]
fn slow_and_oversized_request_heads_are_cut_off() {
    let backend = Backend::sqlite();
    let server = Server::start_with(
        &backend.url(),
        &[
            ("JOBSCOPE_HEADER_READ_TIMEOUT", "1s"),
            ("JOBSCOPE_MAX_HEADER_BYTES", "4096"),
        ],
    );
    let addr = addr_of(&server);
    let ok = b"GET /-/liveness HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (answer, _) = raw_exchange(&addr, ok, Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Slowloris: half a request line, then nothing. The server hangs up after about 1 s.
    let (answer, waited) = raw_exchange(&addr, b"GET /api/v4/vers", Duration::from_secs(20));
    assert!(!answer.contains("200"), "{answer}");
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(10),
        "closed after {waited:?}"
    );
    // Headers trickling in do not reset the clock.
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let start = Instant::now();
    s.write_all(b"GET /-/liveness HTTP/1.1\r\n").unwrap();
    let mut closed = false;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(100));
        if s.write_all(b"X-Slow: a\r\n").is_err() {
            closed = true;
            break;
        }
    }
    // Completing the request now is too late: the server has hung up.
    let _ = s.write_all(b"Connection: close\r\n\r\n");
    let mut rest = Vec::new();
    let read = s.read_to_end(&mut rest);
    assert!(
        closed || read.is_ok() || start.elapsed() < Duration::from_secs(10),
        "{read:?}"
    );
    assert!(
        !String::from_utf8_lossy(&rest).contains("200 OK"),
        "a trickled request was served"
    );

    // A request head over 4 KiB: 431, and the connection is closed.
    let big = format!(
        "GET /-/liveness HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(8 * 1024)
    );
    let (answer, _) = raw_exchange(&addr, big.as_bytes(), Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // Under the limit is fine.
    let small = format!(
        "GET /-/liveness HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(2 * 1024)
    );
    let (answer, _) = raw_exchange(&addr, small.as_bytes(), Duration::from_secs(20));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let (metrics, _) = raw_exchange(
        &addr,
        b"GET /-/metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        Duration::from_secs(20),
    );
    assert!(
        metric(
            &metrics,
            "jobscope_http_connection_errors_total{cause=\"header_timeout\"}"
        ) >= 2.0
    );
    assert!(
        metric(
            &metrics,
            "jobscope_http_connection_errors_total{cause=\"header_too_large\"}"
        ) >= 1.0
    );
}

#[test]
fn bad_tls_files_stop_the_server_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let db = format!("sqlite://{}", dir.path().join("db.sqlite3").display());
    for (cert, key, needle) in [
        (&missing, &garbage, "reading"),
        (&garbage, &garbage, "no certificate found"),
    ] {
        let out = jobscope(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database",
            &db,
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains(needle), "{stderr}");
    }
    // One without the other is a usage error.
    let out = jobscope(&["serve", "--tls-cert", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
}
