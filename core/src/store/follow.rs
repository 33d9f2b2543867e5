//! Following the store: one background thread per node that keeps what the node took
//! from the store (its inventory, its policy bundle) current.
//!
//! The thread holds one connection that `LISTEN`s on each feed's channel. A
//! notification, which PostgreSQL delivers when the changing transaction commits,
//! makes it refresh that feed at once; besides, every [`CHECK_INTERVAL`] it refreshes
//! every feed, which compares the version the node runs with the store's (one small
//! query), so that a notification lost with a connection, or a change made while the
//! node was cut off, is caught up within that interval of the store being back. A
//! connection that fails is reopened with backoff, listening again before refreshing,
//! so that nothing committed in between is missed. It must not hold anything a
//! decision waits for: the feeds swap what they load into the engine atomically.

use super::connect::{unavailable, StoreConnector};
use super::live::FollowStatus;
use crate::error::{Error, Result};
use crate::time::Timestamp;
use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use std::collections::BTreeSet;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often every feed compares its version with the store's, notifications or not.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// How long one wait for a notification lasts, so that a stop is seen promptly.
const WAIT_SLICE: Duration = Duration::from_millis(100);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Something a node keeps current from the store.
pub(crate) trait Feed: Send + Sync + std::fmt::Debug {
    /// The channel whose notifications say that the feed's data changed.
    fn channel(&self) -> &'static str;
    /// Brings the node up to date with the store (one small query when nothing
    /// changed). `store_unavailable` means the connection is lost; another error is
    /// the feed's own (it reports it and keeps what it runs).
    fn refresh(&self, client: &mut Client) -> Result<()>;
}

#[derive(Debug)]
struct State {
    connected: bool,
    last_check: Option<Timestamp>,
    last_check_at: Instant,
    last_error: Option<(String, String)>,
}

/// What the thread shares with the node: the feeds, and what it reports.
#[derive(Debug)]
struct Shared {
    connector: StoreConnector,
    feeds: Vec<Arc<dyn Feed>>,
    report: Mutex<State>,
}

impl Shared {
    fn report(&self) -> MutexGuard<'_, State> {
        self.report.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The thread that follows the store for a node's feeds. Stops (and joins its
/// thread) on [`Follower::stop`] or when dropped: dropping the sender is the stop.
#[derive(Debug)]
pub struct Follower {
    shared: Arc<Shared>,
    stop: Mutex<Option<Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Follower {
    /// Starts following the store for `feeds`; a store that cannot be reached is not
    /// an error here: the thread retries.
    pub(crate) fn start(
        node_id: &str,
        connector: StoreConnector,
        feeds: Vec<Arc<dyn Feed>>,
    ) -> Result<Follower> {
        let shared = Arc::new(Shared {
            connector,
            feeds,
            report: Mutex::new(State {
                connected: false,
                last_check: None,
                last_check_at: Instant::now(),
                last_error: None,
            }),
        });
        let worker = shared.clone();
        let (stop, stopped) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(format!("govdata-follow-{node_id}"))
            .spawn(move || run(&worker, &stopped))
            .map_err(|e| unavailable(format!("cannot start the store follower's thread: {e}")))?;
        Ok(Follower {
            shared,
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// What the follower reports.
    pub fn status(&self) -> FollowStatus {
        let st = self.shared.report();
        FollowStatus {
            connected: st.connected,
            last_check: st.last_check,
            stale_seconds: st.last_check_at.elapsed().as_secs(),
            last_error: st.last_error.as_ref().map(|(_, m)| m.clone()),
            last_error_code: st.last_error.as_ref().map(|(c, _)| c.clone()),
        }
    }

    /// Stops the thread (after the refresh under way) and waits for it.
    pub fn stop(&self) {
        drop(self.stop.lock().unwrap_or_else(|p| p.into_inner()).take());
        let handle = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sleeps `d` unless stopped meanwhile; whether to go on.
fn pause(stop: &Receiver<()>, d: Duration) -> bool {
    matches!(stop.recv_timeout(d), Err(RecvTimeoutError::Timeout))
}

fn stopped(stop: &Receiver<()>) -> bool {
    !matches!(stop.try_recv(), Err(TryRecvError::Empty))
}

fn run(s: &Shared, stop: &Receiver<()>) {
    let mut client: Option<Client> = None;
    let mut backoff = BACKOFF_MIN;
    let mut next_check = Instant::now();
    while !stopped(stop) {
        let step = match client.as_mut() {
            None => connect(s).map(|c| {
                client = Some(c);
                next_check = Instant::now() + CHECK_INTERVAL;
            }),
            Some(c) => follow(s, c, &mut next_check),
        };
        match step {
            Ok(()) => backoff = BACKOFF_MIN,
            Err(e) => {
                // A feed's own error keeps the connection; a lost one is reopened.
                let lost = client.as_ref().is_none_or(|c| c.is_closed())
                    || matches!(e, Error::StoreUnavailable { .. });
                if lost {
                    client = None;
                }
                {
                    let mut st = s.report();
                    st.connected = client.is_some();
                    st.last_error = Some((e.code().to_owned(), e.to_string()));
                }
                if lost {
                    if !pause(stop, backoff) {
                        break;
                    }
                    backoff = (backoff * 2).min(BACKOFF_MAX);
                }
            }
        }
    }
}

fn fail(s: &Shared, e: &postgres::Error) -> Error {
    unavailable(format!(
        "`{}`: {}",
        s.connector.display(),
        super::connect::describe(e)
    ))
}

/// Opens the connection, listens on every channel, then refreshes every feed (in that
/// order, so that no change committed after the refresh goes unannounced).
fn connect(s: &Shared) -> Result<Client> {
    let mut c = s.connector.connect()?;
    let channels: BTreeSet<&str> = s.feeds.iter().map(|f| f.channel()).collect();
    for ch in channels {
        c.batch_execute(&format!("LISTEN {ch}"))
            .map_err(|e| fail(s, &e))?;
    }
    s.report().connected = true;
    match refresh(s, &mut c, None) {
        Err(e @ Error::StoreUnavailable { .. }) => return Err(e),
        // A feed's own error: it keeps what it runs, and the connection stays.
        Err(e) => s.report().last_error = Some((e.code().to_owned(), e.to_string())),
        Ok(()) => {}
    }
    Ok(c)
}

/// Refreshes the feeds on `channels` (every feed when `None`).
fn refresh(s: &Shared, c: &mut Client, channels: Option<&BTreeSet<String>>) -> Result<()> {
    let mut first_error = None;
    for feed in &s.feeds {
        if channels.is_some_and(|chs| !chs.contains(feed.channel())) {
            continue;
        }
        if let Err(e) = feed.refresh(c) {
            if matches!(e, Error::StoreUnavailable { .. }) {
                return Err(e);
            }
            first_error.get_or_insert(e);
        }
    }
    if channels.is_none() {
        let mut st = s.report();
        st.last_check = Some(Timestamp::now());
        st.last_check_at = Instant::now();
        if first_error.is_none() {
            st.last_error = None;
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Waits a slice for notifications, then refreshes what they name, or every feed
/// when the check is due.
fn follow(s: &Shared, c: &mut Client, next_check: &mut Instant) -> Result<()> {
    let mut changed = BTreeSet::new();
    {
        let mut notes = c.notifications();
        let first = notes
            .timeout_iter(WAIT_SLICE)
            .next()
            .map_err(|e| fail(s, &e))?;
        if let Some(n) = first {
            changed.insert(n.channel().to_owned());
            // Several commits in a row are one refresh.
            let mut pending = notes.iter();
            while let Some(n) = pending.next().map_err(|e| fail(s, &e))? {
                changed.insert(n.channel().to_owned());
            }
        }
    }
    if c.is_closed() {
        return Err(unavailable(format!(
            "`{}`: the connection was closed",
            s.connector.display()
        )));
    }
    if Instant::now() >= *next_check {
        *next_check = Instant::now() + CHECK_INTERVAL;
        refresh(s, c, None)
    } else if !changed.is_empty() {
        refresh(s, c, Some(&changed))
    } else {
        Ok(())
    }
}
