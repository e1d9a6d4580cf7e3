//! Self-test of the browser harness: a tiny HTTP server (std only) on loopback serves fixed pages,
//! and headless Chromium must see in them exactly what they hold.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use flakiness_browser_test::{browse, skip_unless_available, Page};

const CSP: &str = "default-src 'none'; img-src 'self'; style-src 'self'";

const INDEX: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title></head>
<body>
<h1>Harness self-test</h1>
<ul><li class="item">one</li><li class="item">two</li><li class="item">three</li></ul>
<p class="gone" hidden>not shown</p>
<img class="ok" src="/pixel.png" alt="a pixel">
<img class="broken" src="/missing.png" alt="missing">
<input id="q" type="search">
<p id="x">&lt;script&gt;alert(1)&lt;/script&gt;</p>
</body></html>
"#;

const UNSAFE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>unsafe</title></head>
<body><p>unsafe</p><script>alert(1)</script></body></html>
"#;

/// Under the CSP, so its inline script must be blocked, and reported.
const BLOCKED: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>blocked</title></head>
<body><p>blocked</p><script>alert(2)</script></body></html>
"#;

/// A PNG of `width` x `height` opaque RGB pixels of one `colour`, encoded by hand: IHDR, one IDAT
/// holding a zlib stream of stored (uncompressed) deflate blocks, IEND.
fn png(width: u32, height: u32, colour: [u8; 3]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&u32::try_from(data.len()).expect("chunk size").to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }

    // Scanlines, each with filter type 0 (none).
    let row: Vec<u8> = std::iter::once(0)
        .chain(colour.iter().copied().cycle().take(3 * width as usize))
        .collect();
    let raw = row.repeat(height as usize);
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(0xFFFF).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = u16::try_from(block.len()).expect("block size");
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    // Bit depth 8, colour type 2 (RGB), compression 0, filter 0, no interlace.
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);

    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// Serves the fixed pages on 127.0.0.1 from a thread (one more per connection, so that a
/// connection Chromium opens ahead and leaves idle blocks nobody); returns the port.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || {
                let _ = answer(stream, port);
            });
        }
    });
    port
}

fn answer(mut stream: TcpStream, port: u16) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or("/");

    let html = "text/html; charset=utf-8";
    let external = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>external</title>\
         </head><body><img src=\"http://localhost:{port}/pixel.png\" alt=\"elsewhere\"></body>\
         </html>"
    );
    let (status, content_type, csp, body): (&str, &str, bool, Vec<u8>) = match path {
        "/" => ("200 OK", html, true, INDEX.into()),
        "/unsafe" => ("200 OK", html, false, UNSAFE.into()),
        "/blocked" => ("200 OK", html, true, BLOCKED.into()),
        "/external" => ("200 OK", html, false, external.into_bytes()),
        "/pixel.png" => ("200 OK", "image/png", false, png(1, 1, [0x2a, 0x7f, 0xd0])),
        _ => ("404 Not Found", "text/plain", false, b"not found".to_vec()),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        body.len()
    );
    if csp {
        response.push_str(&format!("Content-Security-Policy: {CSP}\r\n"));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

#[test]
fn the_png_encoder_writes_a_png() {
    let bytes = png(2, 1, [0, 0, 0]);
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert!(bytes.ends_with(&[0xAE, 0x42, 0x60, 0x82]), "IEND's CRC");
}

#[test]
fn the_browser_sees_what_the_pages_hold() {
    if skip_unless_available() {
        return;
    }
    let port = serve();
    let base = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("temporary directory");
    let shot = dir.path().join("index.png");
    let nowhere = format!("http://127.0.0.1:{}/", closed_port());

    let pages = [
        Page::new(format!("{base}/"))
            .count("li.item")
            .count("nothing")
            .text("h1")
            .text("#x")
            .text("#absent")
            .attr("img.ok", "src")
            .attr("h1", "title")
            .images_loaded("img.ok")
            .screenshot(&shot)
            .type_into("#q", "two")
            .after_type_count("li.item")
            .after_type_count("p.gone"),
        Page::new(format!("{base}/")).images_loaded("img.broken"),
        Page::new(format!("{base}/unsafe")),
        Page::new(format!("{base}/blocked")),
        Page::new(format!("{base}/external")),
        Page::new(format!("{base}/nope")),
        Page::new(nowhere.clone()),
    ];
    let visited = browse(&pages).expect("browse");
    assert_eq!(visited.len(), pages.len());
    let [index, broken, unsafe_page, blocked, external, missing, refused] = &visited[..] else {
        unreachable!("one result a page")
    };

    // The page, read as asked.
    assert_eq!(index.url, format!("{base}/"));
    assert_eq!(index.status, Some(200));
    assert_eq!(index.error, None, "{index:#?}");
    assert_eq!(index.count["li.item"], 3);
    assert_eq!(index.count["nothing"], 0);
    assert_eq!(index.text["h1"].as_deref(), Some("Harness self-test"));
    let x = index.text["#x"].as_deref().expect("#x exists");
    assert!(x.contains("<script>"), "{x}");
    assert_eq!(index.text["#absent"], None);
    assert_eq!(index.attr_of("img.ok", "src"), Some("/pixel.png"));
    assert_eq!(index.attr["h1|title"], None);
    assert_eq!(index.images, Some((1, 1)));
    assert_eq!(index.after_type["li.item"], 3);
    assert_eq!(
        index.after_type["p.gone"], 0,
        "a hidden element is not visible"
    );
    // The escaped script is text: nothing ran, nothing was blocked, nothing left the origin.
    assert!(index.dialogs.is_empty(), "{:?}", index.dialogs);
    assert!(index.csp.is_empty(), "{:?}", index.csp);
    assert!(index.external.is_empty(), "{:?}", index.external);

    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    assert!(png.len() > 1000, "a real screenshot: {} bytes", png.len());

    assert_eq!(broken.images, Some((1, 0)), "a 404 image is not loaded");
    assert_eq!(broken.after_type, Default::default(), "nothing typed");

    // A real inline script runs, and its alert is seen (and dismissed).
    assert_eq!(unsafe_page.status, Some(200));
    assert_eq!(unsafe_page.dialogs, ["1"]);
    assert!(unsafe_page.csp.is_empty());

    // Under the CSP the same script is blocked, and the violation is reported.
    assert!(blocked.dialogs.is_empty(), "{:?}", blocked.dialogs);
    assert!(
        blocked.csp.iter().any(|v| v.starts_with("script-src")),
        "{:?}",
        blocked.csp
    );

    // Another origin (same machine, other host name) is recorded, and the request aborted.
    assert_eq!(
        external.external,
        [format!("http://localhost:{port}/pixel.png")]
    );

    assert_eq!(missing.status, Some(404));
    assert_eq!(missing.error, None);

    assert_eq!(refused.url, nowhere);
    assert_eq!(refused.status, None);
    let error = refused.error.as_deref().expect("a navigation error");
    assert!(error.contains("ERR_CONNECTION_REFUSED"), "{error}");
}
