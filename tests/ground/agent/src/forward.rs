//! A plain byte pipe between a listening and a connecting endpoint, each `tcp:HOST:PORT` or
//! `unix:PATH`. The ground runs each webhook in its own network namespace (upstream binds the
//! webhook server to :9443 with no flag to change it); unix sockets in the run dir bridge the
//! namespaces.
use tokio::{
    io::{AsyncRead, AsyncWrite, copy_bidirectional},
    net::{TcpListener, TcpStream, UnixListener, UnixStream},
};
use tracing::{info, warn};

type BoxErr = Box<dyn std::error::Error + Send + Sync>;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

async fn connect(to: &str) -> std::io::Result<Box<dyn Io>> {
    if let Some(p) = to.strip_prefix("unix:") {
        Ok(Box::new(UnixStream::connect(p).await?))
    } else if let Some(a) = to.strip_prefix("tcp:") {
        let s = TcpStream::connect(a).await?;
        s.set_nodelay(true)?;
        Ok(Box::new(s))
    } else {
        Err(std::io::Error::other(format!("bad endpoint {to}")))
    }
}

pub async fn run(listen: &str, to: &str) -> Result<(), BoxErr> {
    let l = if let Some(p) = listen.strip_prefix("unix:") {
        let _ = std::fs::remove_file(p);
        Listener::Unix(UnixListener::bind(p)?)
    } else if let Some(a) = listen.strip_prefix("tcp:") {
        Listener::Tcp(TcpListener::bind(a).await?)
    } else {
        return Err(format!("bad endpoint {listen}").into());
    };
    info!(listen, to, "forwarding");
    loop {
        let inbound: Box<dyn Io> = match &l {
            Listener::Tcp(l) => {
                let (s, _) = l.accept().await?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
            Listener::Unix(l) => Box::new(l.accept().await?.0),
        };
        let to = to.to_string();
        tokio::spawn(async move {
            let mut inbound = inbound;
            match connect(&to).await {
                Ok(mut out) => {
                    let _ = copy_bidirectional(&mut inbound, &mut out).await;
                }
                Err(e) => warn!(to = %to, error = %e, "connect failed"),
            }
        });
    }
}
