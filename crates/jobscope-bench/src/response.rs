//! Finding where one HTTP/1.1 answer ends in a buffer: the status line and headers with
//! `httparse`, then a `Content-Length` body or a chunked one. The body itself is not kept.

use std::fmt;

/// Headers beyond this count make the answer an error (jobscope sends about 15).
const MAX_HEADERS: usize = 64;
/// Chunk sizes and `Content-Length` above this are refused as nonsense.
const MAX_BODY: usize = 1 << 40;

/// What the buffer holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Not a whole answer yet. `need` is the total length the answer will have, when the
    /// headers already say so (a `Content-Length` body), so that the caller need not parse
    /// again before that many bytes have arrived.
    Incomplete { need: Option<usize> },
    /// One whole answer of `len` bytes at the start of the buffer.
    Complete {
        status: u16,
        len: usize,
        /// The server said `Connection: close` (or answered HTTP/1.0 without keep-alive).
        close: bool,
    },
}

/// An answer that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseError(pub String);

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ResponseError {}

fn err(msg: impl Into<String>) -> ResponseError {
    ResponseError(msg.into())
}

/// Parses the answer at the start of `buf`.
pub fn parse_response(buf: &[u8]) -> Result<Parsed, ResponseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(Parsed::Incomplete { need: None }),
        Err(e) => return Err(err(format!("malformed response head: {e}"))),
    };
    let status = resp.code.unwrap_or(0);
    let version = resp.version.unwrap_or(1);
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut close = version == 0;
    for h in resp.headers.iter() {
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = std::str::from_utf8(h.value)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
                .filter(|n| *n <= MAX_BODY)
                .ok_or_else(|| err("invalid Content-Length"))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(err("conflicting Content-Length headers"));
            }
            content_length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
            if v.split(',').map(str::trim).any(|t| t == "chunked") {
                chunked = true;
            } else {
                return Err(err(format!("unsupported Transfer-Encoding {v:?}")));
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            let v = String::from_utf8_lossy(h.value).to_ascii_lowercase();
            let tokens = || v.split(',').map(str::trim);
            if tokens().any(|t| t == "close") {
                close = true;
            } else if tokens().any(|t| t == "keep-alive") {
                close = false;
            }
        }
    }
    // No body: 1xx, 204, 304 (this client never sends HEAD).
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Parsed::Complete {
            status,
            len: head_len,
            close,
        });
    }
    if chunked {
        return match chunked_len(&buf[head_len..])? {
            Some(body) => Ok(Parsed::Complete {
                status,
                len: head_len + body,
                close,
            }),
            None => Ok(Parsed::Incomplete { need: None }),
        };
    }
    let Some(body) = content_length else {
        return Err(err(
            "response with neither Content-Length nor chunked encoding (reading to the end of \
             the connection is not supported)",
        ));
    };
    let len = head_len + body;
    if buf.len() >= len {
        Ok(Parsed::Complete { status, len, close })
    } else {
        Ok(Parsed::Incomplete { need: Some(len) })
    }
}

/// The length of a whole chunked body (chunks, the last chunk and the trailers) at the start
/// of `buf`, or `None` when it has not all arrived.
fn chunked_len(buf: &[u8]) -> Result<Option<usize>, ResponseError> {
    let mut pos = 0;
    loop {
        let Some(line_end) = find_crlf(&buf[pos..]) else {
            return Ok(None);
        };
        let line = &buf[pos..pos + line_end];
        // The size, before any chunk extension.
        let size_text = line.split(|b| *b == b';').next().unwrap_or(line);
        let size_text = std::str::from_utf8(size_text)
            .map_err(|_| err("invalid chunk size"))?
            .trim();
        let size = usize::from_str_radix(size_text, 16)
            .ok()
            .filter(|n| *n <= MAX_BODY)
            .ok_or_else(|| err(format!("invalid chunk size {size_text:?}")))?;
        pos += line_end + 2;
        if size == 0 {
            // Trailer lines up to an empty one.
            loop {
                let Some(end) = find_crlf(&buf[pos..]) else {
                    return Ok(None);
                };
                pos += end + 2;
                if end == 0 {
                    return Ok(Some(pos));
                }
            }
        }
        if buf.len() < pos + size + 2 {
            return Ok(None);
        }
        if &buf[pos + size..pos + size + 2] != b"\r\n" {
            return Err(err("chunk not followed by CRLF"));
        }
        pos += size + 2;
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"ok\"}";

    #[test]
    fn content_length_bodies() {
        assert_eq!(
            parse_response(OK).unwrap(),
            Parsed::Complete {
                status: 200,
                len: OK.len(),
                close: false
            }
        );
        // Every shorter prefix is incomplete; once the head is there, the total is known.
        for cut in 0..OK.len() {
            match parse_response(&OK[..cut]).unwrap() {
                Parsed::Incomplete { need } => {
                    assert!(need.is_none() || need == Some(OK.len()), "{cut}")
                }
                other => panic!("{cut}: {other:?}"),
            }
        }
        assert_eq!(
            parse_response(&OK[..OK.len() - 3]).unwrap(),
            Parsed::Incomplete {
                need: Some(OK.len())
            }
        );
        // A following answer in the same buffer is not part of this one.
        let two = [OK, OK].concat();
        assert_eq!(
            parse_response(&two).unwrap(),
            Parsed::Complete {
                status: 200,
                len: OK.len(),
                close: false
            }
        );
    }

    #[test]
    fn statuses_without_bodies_and_close() {
        let r = b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        assert_eq!(
            parse_response(r).unwrap(),
            Parsed::Complete {
                status: 204,
                len: r.len(),
                close: true
            }
        );
        let r = b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(r).unwrap(),
            Parsed::Complete {
                status: 404,
                close: true,
                ..
            }
        ));
        let r = b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            parse_response(r).unwrap(),
            Parsed::Complete { close: false, .. }
        ));
    }

    #[test]
    fn chunked_bodies() {
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
        assert_eq!(
            parse_response(r).unwrap(),
            Parsed::Complete {
                status: 200,
                len: r.len(),
                close: false
            }
        );
        for cut in 0..r.len() {
            assert!(
                matches!(
                    parse_response(&r[..cut]).unwrap(),
                    Parsed::Incomplete { need: None }
                ),
                "{cut}"
            );
        }
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert!(parse_response(bad).is_err());
        let bad = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd\r\n";
        assert!(parse_response(bad).is_err());
    }

    #[test]
    fn malformed_answers() {
        for bad in [
            &b"HTTX/1.1 200 OK\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\nbody until close",
        ] {
            assert!(
                parse_response(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
