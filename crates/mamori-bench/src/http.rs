//! The load generator's HTTP client: one kept-alive HTTP/1.1 connection per simulated client,
//! requests sent one after another on it, as a browser or a merchant backend would.
//!
//! hyper's connection API is used rather than a pooled client so that "N clients" means exactly
//! N connections and the client spends as little of the two shared cores as it can.

use std::net::SocketAddr;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request did not get an answer.
pub(crate) type Failure = Box<dyn std::error::Error + Send + Sync>;

/// One connection to the server under test.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

/// A request's answer: status and the whole body.
pub(crate) struct Answer {
    /// HTTP status code.
    pub(crate) status: u16,
    /// The body.
    pub(crate) body: Bytes,
}

impl Connection {
    /// Connects to `address` (always a loopback address here).
    ///
    /// # Errors
    ///
    /// When the TCP connection or the HTTP/1.1 handshake fails.
    pub(crate) async fn open(address: SocketAddr) -> Result<Self, Failure> {
        let stream = TcpStream::connect(address).await?;
        // Requests are small and answered at once: Nagle's delay would only add latency.
        stream.set_nodelay(true)?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // The connection ends when the sender is dropped or the server closes it; either
            // way the next request on `sender` reports it.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            host: address.to_string(),
        })
    }

    /// `POST path` with a JSON `body` and extra `headers`, and the whole answer.
    ///
    /// # Errors
    ///
    /// When the connection fails or is closed.
    pub(crate) async fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Answer, Failure> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Full::new(body))?;
        self.sender.ready().await?;
        let response = self.sender.send_request(request).await?;
        let status = response.status().as_u16();
        let body = response.into_body().collect().await?.to_bytes();
        Ok(Answer { status, body })
    }
}
