//! The HTTP/1.1 server on loopback (served by `emulator-http`): hands each
//! request to [`api::handle`](crate::api::handle), runs the garbage
//! collector beside it ([`gc`](crate::gc)), and stops both on
//! [`KubeEmulatorHandle::shutdown`] or drop (open connections, watches
//! included, are closed).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use emulator_http::Server;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::info;

use crate::store::Store;
use crate::{Config, Error};

/// The response body: a whole JSON document or a watch stream.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// A body fed by a channel: one chunk per watch event.
pub struct ChannelBody {
    rx: mpsc::Receiver<Bytes>,
}

impl ChannelBody {
    /// A body that ends when every sender is gone.
    pub fn new(rx: mpsc::Receiver<Bytes>) -> ChannelBody {
        ChannelBody { rx }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .rx
            .poll_recv(cx)
            .map(|chunk| chunk.map(|b| Ok(Frame::data(b))))
    }
}

/// What every connection shares.
pub struct Shared {
    /// Objects and events.
    pub store: Mutex<Store>,
    /// `host:port`, for `/api`'s serverAddressByClientCIDRs.
    pub addr: SocketAddr,
    /// How often watches get BOOKMARK events.
    pub bookmark_interval: Duration,
    /// How long lists of some resources take (`Config::slow_lists`).
    pub slow_lists: Vec<(String, Duration)>,
    /// The most items a page holds (`Config::page_cap`).
    pub page_cap: Option<usize>,
    /// Lists asked with a `continue` token: pages after the first.
    pub continued_lists: AtomicU64,
    /// Bumped to end every open watch ([`KubeEmulatorHandle::expire_watches`]).
    pub watch_epoch: watch::Sender<u64>,
    /// Watches answered `410 Gone` (a resourceVersion older than the
    /// history).
    pub gone_watches: AtomicU64,
}

impl Shared {
    /// The store, also after a panic elsewhere poisoned the lock.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The emulator, started in the calling tokio runtime.
pub struct KubeEmulator;

impl KubeEmulator {
    /// Binds `config.listen`, creates the default namespaces, and serves
    /// until the handle is shut down or dropped (or the runtime ends).
    pub async fn start(config: Config) -> Result<KubeEmulatorHandle, Error> {
        let bind_error = |source| Error::Bind {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new(config.history_limit)),
            addr,
            bookmark_interval: config.bookmark_interval,
            slow_lists: config.slow_lists.clone(),
            page_cap: config.page_cap,
            continued_lists: AtomicU64::new(0),
            watch_epoch: watch::Sender::new(0),
            gone_watches: AtomicU64::new(0),
        });
        crate::api::seed(&shared);
        let handle_shared = Arc::clone(&shared);
        let collector = Collector(crate::gc::spawn(Arc::clone(&shared)));
        let handler = move |req| {
            let shared = Arc::clone(&shared);
            async move { Ok::<_, Infallible>(crate::api::handle(shared, req).await) }
        };
        let server = emulator_http::serve(listener, "kube-emulator", handler);
        info!(%addr, "kube-emulator listening");
        Ok(KubeEmulatorHandle {
            addr,
            server,
            shared: handle_shared,
            _collector: collector,
        })
    }
}

/// A running emulator. Dropping it stops the server; `shutdown` also waits.
pub struct KubeEmulatorHandle {
    addr: SocketAddr,
    server: Server,
    shared: Arc<Shared>,
    _collector: Collector,
}

/// The garbage collector's task, stopped with the server.
struct Collector(tokio::task::JoinHandle<()>);

impl Drop for Collector {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl KubeEmulatorHandle {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the kubeconfig's cluster server.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig for this server to `path`.
    pub fn write_kubeconfig(&self, path: &std::path::Path) -> std::io::Result<()> {
        crate::kubeconfig::write_kubeconfig(path, self.addr)
    }

    /// Ends every open watch and compacts the history past every
    /// resourceVersion handed out, so that a client resuming its watch gets
    /// `410 Gone` and must list again: what a client sees when its watch
    /// connection drops and etcd compacts (every 5 minutes by default)
    /// before it comes back, as after an API server restart. (Compacting
    /// past the latest revision stands for the writes that happen
    /// meanwhile in a real cluster.) See "Efficient detection of changes"
    /// in <https://kubernetes.io/docs/reference/using-api/api-concepts/>.
    pub fn expire_watches(&self) {
        self.shared.store().expire();
        self.shared.watch_epoch.send_modify(|epoch| *epoch += 1);
    }

    /// How many lists continued an earlier page.
    pub fn continued_lists(&self) -> u64 {
        self.shared.continued_lists.load(Ordering::Relaxed)
    }

    /// How many watches were answered `410 Gone`.
    pub fn gone_watches(&self) -> u64 {
        self.shared.gone_watches.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes open connections, and waits for the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}
