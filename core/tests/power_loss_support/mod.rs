//! A model of a disk that loses power, replayed from a trace of the file operations
//! (`govdata::disk::Trace`).
//!
//! The model keeps, for each file, what a sync made durable and the writes issued
//! since, and for the directories, the names as of their last sync and the creates,
//! renames and removes since. A power loss after any prefix of the trace leaves the
//! durable state plus any subset of the pending writes, each write split into the
//! 512-byte sectors it touches, which may reach the disk independently and in any
//! order (a sector written twice keeps either version); a file's length may grow
//! with its new sectors still zero; pending directory changes reach the disk in
//! order (a prefix of them), as a journal commits them. A write of zeros only (the
//! log's padding) is one piece, not split: its sectors differ in the file's length
//! only.
//!
//! Every subset is tried when there are few pieces; past that, every prefix in issue
//! order and a sample drawn with a fixed seed (`GOVDATA_POWER_LOSS_SAMPLES` sets its
//! size). Identical states are checked once.
#![allow(dead_code)]

use govdata::disk::Op;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

pub const SECTOR: u64 = 512;

/// Pieces up to which every subset is tried.
pub const EXHAUSTIVE_PIECES: usize = 10;

/// The size of the random sample past that, per crash point.
pub fn samples() -> usize {
    std::env::var("GOVDATA_POWER_LOSS_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

#[derive(Debug, Clone)]
enum Piece {
    Write { offset: u64, data: Vec<u8> },
    SetLen(u64),
}

#[derive(Debug, Clone, Default)]
struct Inode {
    durable: Vec<u8>,
    current: Vec<u8>,
    /// Global piece numbers, in issue order.
    pending: Vec<usize>,
}

#[derive(Debug, Clone)]
enum NameOp {
    Link(PathBuf, usize),
    Unlink(PathBuf),
    Rename(PathBuf, PathBuf, usize),
}

impl NameOp {
    fn dir(&self) -> PathBuf {
        let p = match self {
            NameOp::Link(p, _) | NameOp::Unlink(p) | NameOp::Rename(_, p, _) => p,
        };
        p.parent().map(Path::to_path_buf).unwrap_or_default()
    }
    fn apply(&self, names: &mut BTreeMap<PathBuf, usize>) {
        match self {
            NameOp::Link(p, i) => {
                names.insert(p.clone(), *i);
            }
            NameOp::Unlink(p) => {
                names.remove(p);
            }
            NameOp::Rename(from, to, i) => {
                names.remove(from);
                names.insert(to.clone(), *i);
            }
        }
    }
}

/// The disk after a prefix of a trace.
#[derive(Debug, Clone, Default)]
pub struct Disk {
    inodes: Vec<Inode>,
    pieces: Vec<(usize, Piece)>,
    names: BTreeMap<PathBuf, usize>,
    durable_names: BTreeMap<PathBuf, usize>,
    pending_names: Vec<NameOp>,
}

/// The files of a state a power loss leaves: path → bytes.
pub type State = BTreeMap<PathBuf, Vec<u8>>;

impl Disk {
    /// Applies one operation.
    pub fn apply(&mut self, op: &Op) {
        match op {
            Op::Create { path } => {
                if let Some(&i) = self.names.get(path) {
                    // Emptied: a pending cut to zero.
                    self.inodes[i].current.clear();
                    let n = self.pieces.len();
                    self.pieces.push((i, Piece::SetLen(0)));
                    self.inodes[i].pending.push(n);
                } else {
                    let i = self.inodes.len();
                    self.inodes.push(Inode::default());
                    self.names.insert(path.clone(), i);
                    self.pending_names.push(NameOp::Link(path.clone(), i));
                }
            }
            Op::Write { path, offset, data } => {
                let Some(&i) = self.names.get(path) else {
                    return;
                };
                write(&mut self.inodes[i].current, *offset, data);
                let mut split = Vec::new();
                if data.iter().all(|b| *b == 0) {
                    split.push(Piece::Write {
                        offset: *offset,
                        data: data.clone(),
                    });
                } else {
                    let mut at = *offset;
                    let end = offset + data.len() as u64;
                    while at < end {
                        let next = ((at / SECTOR) + 1) * SECTOR;
                        let to = next.min(end);
                        let from = (at - offset) as usize;
                        split.push(Piece::Write {
                            offset: at,
                            data: data[from..from + (to - at) as usize].to_vec(),
                        });
                        at = to;
                    }
                }
                for p in split {
                    let n = self.pieces.len();
                    self.pieces.push((i, p));
                    self.inodes[i].pending.push(n);
                }
            }
            Op::SetLen { path, len } => {
                let Some(&i) = self.names.get(path) else {
                    return;
                };
                self.inodes[i].current.resize(*len as usize, 0);
                let n = self.pieces.len();
                self.pieces.push((i, Piece::SetLen(*len)));
                self.inodes[i].pending.push(n);
            }
            Op::Sync { path } => {
                if let Some(&i) = self.names.get(path) {
                    let node = &mut self.inodes[i];
                    node.durable = node.current.clone();
                    node.pending.clear();
                }
            }
            Op::Rename { from, to } => {
                if let Some(i) = self.names.remove(from) {
                    self.names.insert(to.clone(), i);
                    self.pending_names
                        .push(NameOp::Rename(from.clone(), to.clone(), i));
                }
            }
            Op::Remove { path } => {
                if self.names.remove(path).is_some() {
                    self.pending_names.push(NameOp::Unlink(path.clone()));
                }
            }
            Op::SyncDir { path } => {
                let mut keep = Vec::new();
                for op in std::mem::take(&mut self.pending_names) {
                    if op.dir() == *path {
                        op.apply(&mut self.durable_names);
                    } else {
                        keep.push(op);
                    }
                }
                self.pending_names = keep;
            }
        }
    }

    /// The pieces pending now, in issue order.
    fn pending(&self) -> Vec<usize> {
        let mut all: Vec<usize> = self
            .inodes
            .iter()
            .flat_map(|n| n.pending.iter().copied())
            .collect();
        all.sort_unstable();
        all
    }

    /// The state when the pieces `kept` (global numbers) reach the disk, with the
    /// first `names` pending directory changes, and the lengths of the files in
    /// `grown` (inodes) grown to their current length.
    fn state(&self, kept: &HashSet<usize>, names: usize, grown: &HashSet<usize>) -> State {
        let mut dir = self.durable_names.clone();
        for op in &self.pending_names[..names] {
            op.apply(&mut dir);
        }
        let mut out = State::new();
        for (path, &i) in &dir {
            let node = &self.inodes[i];
            let mut bytes = node.durable.clone();
            if grown.contains(&i) && node.current.len() > bytes.len() {
                bytes.resize(node.current.len(), 0);
            }
            for n in &node.pending {
                if !kept.contains(n) {
                    continue;
                }
                match &self.pieces[*n].1 {
                    Piece::Write { offset, data } => write(&mut bytes, *offset, data),
                    Piece::SetLen(len) => bytes.resize(*len as usize, 0),
                }
            }
            out.insert(path.clone(), bytes);
        }
        out
    }

    /// Every state a power loss now may leave (bounded as the module says), each
    /// once across calls that share `seen`. Calls `f` with each new one.
    pub fn crash_states(
        &self,
        salt: u64,
        rng: &mut StdRng,
        seen: &mut HashSet<u64>,
        f: &mut dyn FnMut(&State),
    ) {
        let pending = self.pending();
        let growable: Vec<usize> = (0..self.inodes.len())
            .filter(|&i| {
                let n = &self.inodes[i];
                !n.pending.is_empty() && n.current.len() > n.durable.len()
            })
            .collect();
        let names = self.pending_names.len();
        let bits = pending.len() + growable.len();
        let mut choices: Vec<(HashSet<usize>, usize, HashSet<usize>)> = Vec::new();
        let split = |mask: u64| {
            let kept: HashSet<usize> = pending
                .iter()
                .enumerate()
                .filter(|(k, _)| mask >> k & 1 == 1)
                .map(|(_, n)| *n)
                .collect();
            let grown: HashSet<usize> = growable
                .iter()
                .enumerate()
                .filter(|(k, _)| mask >> (pending.len() + k) & 1 == 1)
                .map(|(_, i)| *i)
                .collect();
            (kept, grown)
        };
        if bits <= EXHAUSTIVE_PIECES {
            for mask in 0..(1u64 << bits) {
                for k in 0..=names {
                    let (kept, grown) = split(mask);
                    choices.push((kept, k, grown));
                }
            }
        } else {
            // Every prefix in issue order, with and without the lengths grown.
            for p in 0..=pending.len() {
                for k in 0..=names {
                    let kept: HashSet<usize> = pending[..p].iter().copied().collect();
                    choices.push((kept.clone(), k, HashSet::new()));
                    choices.push((kept, k, growable.iter().copied().collect()));
                }
            }
            for _ in 0..samples() {
                let kept = pending
                    .iter()
                    .copied()
                    .filter(|_| rng.gen_bool(0.5))
                    .collect();
                let grown = growable
                    .iter()
                    .copied()
                    .filter(|_| rng.gen_bool(0.5))
                    .collect();
                choices.push((kept, rng.gen_range(0..=names), grown));
            }
        }
        for (kept, k, grown) in choices {
            let state = self.state(&kept, k, &grown);
            if seen.insert(digest(&state) ^ salt) {
                f(&state);
            }
        }
    }

    /// The state once everything done so far is durable.
    pub fn synced(&self) -> State {
        let all: HashSet<usize> = self.pending().into_iter().collect();
        let grown: HashSet<usize> = (0..self.inodes.len()).collect();
        self.state(&all, self.pending_names.len(), &grown)
    }
}

fn write(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let end = offset as usize + data.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    bytes[offset as usize..end].copy_from_slice(data);
}

fn digest(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.hash(&mut h);
    h.finish()
}

/// Writes a state into `dir` (emptied first).
pub fn materialise(state: &State, dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (path, bytes) in state {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
    }
}

/// The fixed seed of the samples.
pub fn rng() -> StdRng {
    StdRng::seed_from_u64(0x0d15_c05e_ed00)
}

/// Replays `ops` and calls `check(state, point)` for every crash state after every
/// prefix (`point` operations done), once per state and `salt(point)` (what the
/// check expects there). Returns how many states were checked.
pub fn replay(
    ops: &[Op],
    salt: &dyn Fn(usize) -> u64,
    check: &mut dyn FnMut(&State, usize),
) -> usize {
    let mut disk = Disk::default();
    let mut rng = rng();
    let mut seen = HashSet::new();
    let mut count = 0;
    for point in 0..=ops.len() {
        if point > 0 {
            disk.apply(&ops[point - 1]);
        }
        disk.crash_states(salt(point), &mut rng, &mut seen, &mut |s| {
            count += 1;
            check(s, point);
        });
    }
    count
}

/// [`replay`] from a state already on the disk, durable (a crash while the state
/// left by an earlier one is opened).
pub fn replay_from(
    start: &State,
    ops: &[Op],
    salt: &dyn Fn(usize) -> u64,
    check: &mut dyn FnMut(&State, usize),
) -> usize {
    let mut disk = Disk::default();
    for (path, bytes) in start {
        let i = disk.inodes.len();
        disk.inodes.push(Inode {
            durable: bytes.clone(),
            current: bytes.clone(),
            pending: Vec::new(),
        });
        disk.names.insert(path.clone(), i);
        disk.durable_names.insert(path.clone(), i);
    }
    let mut rng = rng();
    let mut seen = HashSet::new();
    let mut count = 0;
    for point in 0..=ops.len() {
        if point > 0 {
            disk.apply(&ops[point - 1]);
        }
        disk.crash_states(salt(point), &mut rng, &mut seen, &mut |s| {
            count += 1;
            check(s, point);
        });
    }
    count
}

/// Every how many recoveries the crashes during recovery are replayed too
/// (`GOVDATA_POWER_LOSS_NESTED`; 1: after every one).
pub fn nested_every() -> usize {
    std::env::var("GOVDATA_POWER_LOSS_NESTED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .max(1)
}

/// The state after all of `ops`, every write durable.
pub fn final_state(ops: &[Op]) -> State {
    let mut disk = Disk::default();
    for op in ops {
        disk.apply(op);
    }
    disk.synced()
}

/// A directory for the states, removed on drop: on a memory file system when there is
/// one (`/dev/shm`), where the real code's syncs cost nothing (the model stands for
/// the disk).
pub struct WorkDir(pub PathBuf);

impl WorkDir {
    pub fn new(tag: &str) -> Self {
        let shm = Path::new("/dev/shm");
        let base = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let p = base.join(format!(
            "govdata-power-loss-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&p).unwrap();
        WorkDir(p)
    }
    pub fn join(&self, p: &str) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
