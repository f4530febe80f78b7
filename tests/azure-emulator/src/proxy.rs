//! The emulator's port is also an HTTP proxy that knows one thing: `CONNECT` to a Microsoft host
//! it emulates (`graph.microsoft.com:443`) is answered by the emulator itself, over TLS with the
//! same serving certificate (whose names include that host). A client pointed at it with
//! `HTTPS_PROXY` (and `NO_PROXY` for the emulator's own address) then reaches Graph at its real
//! URL, as the Azure CLI insists on (it derives Graph's URL from Graph's token audience).
//! Every other target is refused, so such a client can reach nothing outside this machine.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Hosts served through `CONNECT` (port 443).
pub const PROXIED_HOSTS: &[&str] = &["graph.microsoft.com"];

const MAX_HEAD: usize = 8192;

/// Reads one request head from a plain connection. `true` after a `CONNECT` to a proxied
/// host was answered 200 (TLS follows on the same stream); otherwise the refusal was sent.
pub async fn accept_connect(tcp: &mut TcpStream) -> bool {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > MAX_HEAD {
            return false;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let allowed = method == "CONNECT"
        && target
            .rsplit_once(':')
            .is_some_and(|(host, port)| port == "443" && is_proxied(host));
    let answer = if allowed {
        "HTTP/1.1 200 Connection Established\r\n\r\n".to_string()
    } else {
        let why = format!(
            "azure-emulator proxy: only CONNECT to {}:443 is served, not '{line}'\n",
            PROXIED_HOSTS.join(", ")
        );
        eprintln!("azure-emulator: proxy refused {line}");
        format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{why}",
            why.len()
        )
    };
    tcp.write_all(answer.as_bytes()).await.is_ok() && allowed
}

fn is_proxied(host: &str) -> bool {
    PROXIED_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(host))
}
