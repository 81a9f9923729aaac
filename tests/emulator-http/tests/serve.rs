//! The serving loop over a real loopback socket: requests reach the
//! handler, a failed handler closes the connection without an answer, and
//! both `shutdown` and drop stop accepting and close a response that never
//! ends by itself (a watch).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The first chunk, then nothing ever again: a watch with no events.
struct Endless {
    sent: bool,
}

impl Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.sent {
            Poll::Pending
        } else {
            this.sent = true;
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b"first")))))
        }
    }
}

#[derive(Debug)]
struct Refused;

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("refused")
    }
}

impl std::error::Error for Refused {}

/// `/fail` fails the handler; anything else streams [`Endless`].
async fn handler(request: Request<Incoming>) -> Result<Response<Endless>, Refused> {
    if request.uri().path() == "/fail" {
        return Err(Refused);
    }
    Ok(Response::new(Endless { sent: false }))
}

async fn start() -> (std::net::SocketAddr, emulator_http::Server) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    (addr, emulator_http::serve(listener, "test", handler))
}

/// Sends `GET path` and reads until the first chunk of the body arrived.
async fn open_stream(addr: std::net::SocketAddr, path: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await
        .expect("request");
    let mut seen = Vec::new();
    let mut buffer = [0; 1024];
    while !String::from_utf8_lossy(&seen).contains("first") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer within 5 s")
            .expect("read");
        assert!(read > 0, "closed early: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..read]);
    }
    (stream, String::from_utf8_lossy(&seen).into_owned())
}

/// Reads until the server closes the connection (within 5 s).
async fn closed(mut stream: TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest))
        .await
        .expect("the server closed the connection within 5 s")
        .map(|_| rest)
        .unwrap_or_default()
}

#[tokio::test]
async fn a_failed_handler_closes_the_connection_without_an_answer() {
    let (addr, server) = start().await;
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(b"GET /fail HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("request");
    assert_eq!(closed(stream).await, b"", "no answer at all");
    let (_, head) = open_stream(addr, "/").await;
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_an_open_stream_and_stops_accepting() {
    let (addr, server) = start().await;
    let (stream, _) = open_stream(addr, "/watch").await;
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown does not wait for the stream to end");
    closed(stream).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

#[tokio::test]
async fn drop_closes_an_open_stream_and_stops_accepting() {
    let (addr, server) = start().await;
    let (stream, _) = open_stream(addr, "/watch").await;
    drop(server);
    closed(stream).await;
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}
