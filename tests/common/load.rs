//! Clients hammering the visitor counter while a test breaks something: each asks one of the
//! current targets for `/` as fast as it is answered, and every answer is kept (its count and the
//! replica that served it) or counted as a failure with its reason. The targets can change while
//! it runs (a node about to be cut off is taken out first).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Default, Debug)]
pub struct Tally {
    /// The count each successful answer gave.
    pub counts: Vec<u64>,
    /// The replicas (X-Served-By) that answered.
    pub served_by: Vec<String>,
    /// What went wrong with each failed request: target and reason.
    pub failures: Vec<String>,
    /// Connections a node refused (nothing listening: its nginx being replaced); the request is
    /// sent to the next node instead, as a load balancer in front of the nodes does.
    pub refused: Vec<String>,
}

pub struct Load {
    targets: Arc<Mutex<Vec<SocketAddr>>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
    clients: Vec<JoinHandle<()>>,
}

impl Load {
    /// `clients` clients over `targets` (`IP:PORT`), round robin.
    pub fn start(targets: &[String], clients: usize) -> Load {
        let mut load = Load {
            targets: Arc::new(Mutex::new(Vec::new())),
            stop: Arc::new(AtomicBool::new(false)),
            tally: Arc::new(Mutex::new(Tally::default())),
            clients: Vec::new(),
        };
        load.aim(targets);
        load.clients = (0..clients)
            .map(|i| {
                let (targets, stop, tally) =
                    (load.targets.clone(), load.stop.clone(), load.tally.clone());
                std::thread::spawn(move || {
                    let mut n = i;
                    while !stop.load(Ordering::Relaxed) {
                        let target = {
                            let t = targets.lock().unwrap();
                            t[n % t.len()]
                        };
                        n += 1;
                        let answer = visit(target);
                        let mut tally = tally.lock().unwrap();
                        match answer {
                            Ok((count, by)) => {
                                tally.counts.push(count);
                                tally.served_by.push(by);
                            }
                            Err(e) if e.starts_with("connect: Connection refused") => {
                                tally.refused.push(format!("{target}: {e}"))
                            }
                            Err(e) => tally.failures.push(format!("{target}: {e}")),
                        }
                    }
                })
            })
            .collect();
        load
    }

    /// From now on, only these targets.
    pub fn aim(&self, targets: &[String]) {
        let addrs: Vec<SocketAddr> = targets
            .iter()
            .map(|t| t.parse().expect("IP:PORT"))
            .collect();
        assert!(!addrs.is_empty());
        *self.targets.lock().unwrap() = addrs;
    }

    /// Successful answers so far.
    pub fn answered(&self) -> usize {
        self.tally.lock().unwrap().counts.len()
    }

    /// Stops the clients and gives what they saw.
    pub fn stop(mut self) -> Tally {
        self.stop.store(true, Ordering::Relaxed);
        for c in self.clients.drain(..) {
            let _ = c.join();
        }
        std::mem::take(&mut *self.tally.lock().unwrap())
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// One GET / : the count in the answer and who served it.
pub fn visit(target: SocketAddr) -> Result<(u64, String), String> {
    let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(3))
        .map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    write!(s, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).unwrap_or("none");
    if status != "200" {
        return Err(format!("status {status}: {}", body.trim()));
    }
    let by = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("x-served-by")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_default();
    let count = body
        .split("viewed ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no count in {body:?}"))?;
    Ok((count, by))
}

impl Tally {
    /// Checks that nothing failed and no count was given twice; gives how many answers there were.
    pub fn exact(&self, during: &str) -> usize {
        assert!(
            self.failures.is_empty(),
            "{} of {} requests failed during {during}; first: {:?}",
            self.failures.len(),
            self.failures.len() + self.counts.len(),
            &self.failures[..self.failures.len().min(5)]
        );
        let mut counts = self.counts.clone();
        counts.sort_unstable();
        let before = counts.len();
        counts.dedup();
        assert_eq!(
            counts.len(),
            before,
            "a count was given to two requests during {during}"
        );
        before
    }
}
