//! Whether the controller's caches hold a complete list yet: reconciles
//! wait for both, because kube-runtime holds a controller's reconciles
//! only until its own cache is filled. A distribution reconciled while the
//! URLs' cache is still empty (a list of thousands of URLs takes seconds,
//! in pages) would find none attached and remove their cache behaviors; a
//! URL torn down then would not see the live URLs that still need its
//! function's config.
//!
//! Hand-made over `tokio::sync::watch` rather than kube-runtime's
//! `Store::wait_until_ready`: that one wakes only the last of several
//! tasks waiting at once (one `oneshot` receiver shared by every reader),
//! and the controller's own runner is among the waiters, so reconciles
//! waiting there could stall it for good.

use kube::runtime::watcher;
use tokio::sync::watch;

use super::error::ReconcileError;

/// The fill state of both caches.
#[derive(Debug)]
pub struct Filled {
    distributions: watch::Sender<bool>,
    urls: watch::Sender<bool>,
}

impl Default for Filled {
    fn default() -> Self {
        Filled {
            distributions: watch::Sender::new(false),
            urls: watch::Sender::new(false),
        }
    }
}

/// Which cache.
#[derive(Debug, Clone, Copy)]
pub enum Cache {
    /// `EdgeDistribution`s.
    Distributions,
    /// `ProtectedFunctionUrl`s.
    Urls,
}

impl Filled {
    fn sender(&self, cache: Cache) -> &watch::Sender<bool> {
        match cache {
            Cache::Distributions => &self.distributions,
            Cache::Urls => &self.urls,
        }
    }

    /// Marks `cache` filled once its watch stream has delivered a whole
    /// list (`InitDone`: the reflector has swapped the list in).
    pub fn observe<K>(&self, cache: Cache, event: &Result<watcher::Event<K>, watcher::Error>) {
        if let Ok(watcher::Event::InitDone) = event {
            self.sender(cache).send_replace(true);
        }
    }

    /// Waits until both caches are filled.
    pub async fn wait(&self) -> Result<(), ReconcileError> {
        for (cache, name) in [
            (Cache::Distributions, "EdgeDistribution"),
            (Cache::Urls, "ProtectedFunctionUrl"),
        ] {
            self.sender(cache)
                .subscribe()
                .wait_for(|filled| *filled)
                .await
                .map_err(|_| ReconcileError::CacheStopped(name))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn every_waiter_is_released_once_both_lists_are_in() {
        let filled = std::sync::Arc::new(Filled::default());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let filled = filled.clone();
                tokio::spawn(async move { filled.wait().await })
            })
            .collect();
        let done: Result<watcher::Event<()>, watcher::Error> = Ok(watcher::Event::InitDone);
        let other: Result<watcher::Event<()>, watcher::Error> = Ok(watcher::Event::Init);
        filled.observe(Cache::Urls, &other);
        filled.observe(Cache::Distributions, &done);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            waiters.iter().all(|w| !w.is_finished()),
            "the URLs' list is not in yet"
        );
        filled.observe(Cache::Urls, &done);
        for waiter in waiters {
            let released = tokio::time::timeout(Duration::from_secs(5), waiter).await;
            assert!(matches!(released, Ok(Ok(Ok(())))), "{released:?}");
        }
    }
}
