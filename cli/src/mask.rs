//! `govdata mask` and `govdata watermark detect`: the obligations of a decision carried
//! out on a CSV or JSON Lines stream, and the watermark of a leaked file read back.

use crate::decide::read_request;
use crate::node::NodeArgs;
use crate::output::{fail, EXIT_ERROR};
use govdata::audit::HashSuite;
use govdata::mask::watermark::{Detection, Detector, Embedder};
use govdata::mask::{MaskKeys, Plan, Release};
use govdata::{Error, Inventory, Request, Result};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// The format of a stream of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// The key options of both commands.
#[derive(Debug, clap::Args)]
pub struct KeyArgs {
    /// A file of at least 32 raw bytes keying the pseudonyms and the watermark,
    /// readable by its owner only.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The MAC of pseudonyms and watermarks: HMAC-SHA-256 or HMAC-SM3.
    #[arg(long, default_value = "sha256", value_parser = parse_suite)]
    pub suite: HashSuite,
}

fn parse_suite(s: &str) -> std::result::Result<HashSuite, String> {
    s.parse::<HashSuite>().map_err(|e| e.to_string())
}

/// Arguments of `govdata mask`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub node: NodeArgs,
    /// The request JSON file: who asks for which dataset, and why.
    #[arg(long)]
    pub request: PathBuf,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The input's format; from its extension (`.csv`, `.jsonl`, `.ndjson`) if omitted.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Where to write the masked rows; standard output if omitted.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The input file, or `-` (the default) for standard input.
    pub input: Option<PathBuf>,
}

/// `govdata watermark …`.
#[derive(Debug, clap::Subcommand)]
pub enum WatermarkCommand {
    /// Read the watermark of a file: the audit record and the recipient it names.
    /// Exit 0 marked, 1 no mark found, 2 error.
    Detect(DetectArgs),
}

/// Arguments of `govdata watermark detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    #[command(flatten)]
    pub keys: KeyArgs,
    /// The inventory whose users are the candidate recipients (the configuration's if
    /// omitted).
    #[arg(long)]
    pub inventory: Option<PathBuf>,
    /// The node's configuration file (default: the file `GOVDATA_CONFIG` names, if
    /// set): its inventory names the candidates unless `--inventory` names another.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The file's format; from its extension if omitted.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The file to read.
    pub file: PathBuf,
}

fn read_key(args: &KeyArgs) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(path) = &args.key_file else {
        return Ok(None);
    };
    // Read with the checks of a key file named in govdata.toml: owner-only.
    govdata::platform::SecretSource::File(path.clone())
        .read()
        .map(Some)
}

fn format_of(format: Option<Format>, path: Option<&Path>) -> Result<Format> {
    if let Some(f) = format {
        return Ok(f);
    }
    let ext = path
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .unwrap_or("");
    match ext {
        "csv" => Ok(Format::Csv),
        "jsonl" | "ndjson" => Ok(Format::Jsonl),
        _ => Err(Error::RequestInvalid {
            message: "cannot tell the input's format: give --format csv or --format jsonl".into(),
        }),
    }
}

fn io_err(path: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_owned(),
        source: e,
    }
}

fn csv_err(path: &str) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::Io {
            path: path.to_owned(),
            source: e,
        },
        other => Error::RequestInvalid {
            message: format!("`{path}` is not valid CSV: {other:?}"),
        },
    }
}

/// The input, behind a progress bar on standard error for a file.
fn open_input(
    input: Option<&Path>,
) -> Result<(Box<dyn Read + Send>, String, Option<indicatif::ProgressBar>)> {
    match input {
        None => Ok((Box::new(std::io::stdin()), "-".into(), None)),
        Some(p) if p == Path::new("-") => Ok((Box::new(std::io::stdin()), "-".into(), None)),
        Some(p) => {
            let name = p.display().to_string();
            let file = File::open(p).map_err(io_err(&name))?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(len),
                indicatif::ProgressDrawTarget::stderr(),
            );
            Ok((Box::new(bar.wrap_read(file)), name, Some(bar)))
        }
    }
}

pub fn run(args: &Args) -> ExitCode {
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn run_inner(args: &Args) -> Result<()> {
    let format = format_of(args.format, args.input.as_deref())?;
    let node = args.node.open_without_vault()?;
    let engine = node.engine();
    let request = Request::from_json_str(&read_request(Some(&args.request))?)?;
    let decision = engine.decide(&request)?;
    let key = read_key(&args.keys)?;
    let keys = MaskKeys::from_bytes(key.as_ref(), args.keys.suite)?;
    let inventory = engine.inventory();
    let plan_for = |columns: &[&str]| Plan::new(&request, &decision, &inventory, columns, keys);
    let (input, name, bar) = open_input(args.input.as_deref())?;
    // Nothing reaches the output until every row is masked: a failure on the last
    // row leaves no partial output behind.
    let mut out = Output::new(args.output.as_deref())?;
    let canaries = match format {
        Format::Csv => mask_csv(input, &name, plan_for, &mut out)?,
        Format::Jsonl => mask_jsonl(input, &name, plan_for, &mut out)?,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    out.finish()?;
    let seq = decision
        .audit_seq()
        .map_or("none".to_owned(), |s| format!("#{s}"));
    eprintln!(
        "masked under obligations [{}]; audit record {seq}; {canaries} canary rows",
        decision.obligations().join(", ")
    );
    Ok(())
}

/// Rows read and masked together: the masks of a chunk run on all cores while the
/// order of the rows is kept.
const CSV_CHUNK: usize = 16 * 1024;
/// Rows one task masks and writes.
const CSV_TASK: usize = 512;

/// Where the masked rows go. Standard output gets them once all are masked (kept in
/// memory until then); a file gets them as they are masked, through a second thread,
/// in a temporary file beside it that is renamed into place only once every row is
/// masked, and removed otherwise.
enum Output {
    Memory(Vec<u8>),
    File(Spool),
}

/// A temporary file written by a second thread.
struct Spool {
    pending: Vec<u8>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
    tmp: PathBuf,
    dest: PathBuf,
}

/// Bytes gathered before they go to the writing thread.
const SPOOL_CHUNK: usize = 4 << 20;

impl Output {
    fn new(dest: Option<&Path>) -> Result<Output> {
        let Some(dest) = dest else {
            return Ok(Output::Memory(Vec::new()));
        };
        let file_name = dest
            .file_name()
            .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
        let tmp = dest.with_file_name(format!(".{file_name}.partial-{}", std::process::id()));
        let shown = tmp.display().to_string();
        let file = File::create(&tmp).map_err(io_err(&shown))?;
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            let mut file = file;
            for chunk in rx {
                file.write_all(&chunk)?;
            }
            file.sync_all()
        });
        Ok(Output::File(Spool {
            pending: Vec::with_capacity(SPOOL_CHUNK),
            tx: Some(tx),
            writer: Some(writer),
            tmp,
            dest: dest.to_path_buf(),
        }))
    }

    /// Hands over a run of masked bytes without copying them.
    fn push(&mut self, bytes: Vec<u8>) -> Result<()> {
        match self {
            Output::Memory(m) => {
                m.extend_from_slice(&bytes);
                Ok(())
            }
            Output::File(s) => {
                s.send_pending()?;
                s.send(bytes)
            }
        }
    }

    /// Puts the output in place: the file renamed, or standard output written.
    fn finish(mut self) -> Result<()> {
        match &mut self {
            Output::Memory(m) => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(m)
                    .and_then(|()| stdout.flush())
                    .map_err(io_err("-"))
            }
            Output::File(s) => {
                s.send_pending()?;
                s.close()?;
                let dest = s.dest.display().to_string();
                std::fs::rename(&s.tmp, &s.dest).map_err(io_err(&dest))?;
                s.tmp = PathBuf::new();
                Ok(())
            }
        }
    }
}

impl Spool {
    fn send(&mut self, bytes: Vec<u8>) -> Result<()> {
        let sent = self.tx.as_ref().map(|tx| tx.send(bytes).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The writing thread stopped: its error says why.
        self.close()?;
        Err(Error::Io {
            path: self.tmp.display().to_string(),
            source: std::io::Error::other("the output stopped"),
        })
    }

    fn send_pending(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let bytes = std::mem::replace(&mut self.pending, Vec::with_capacity(SPOOL_CHUNK));
        self.send(bytes)
    }

    /// Waits for the writing thread, which writes and syncs what it was sent.
    fn close(&mut self) -> Result<()> {
        self.tx = None;
        let shown = self.tmp.display().to_string();
        match self.writer.take().map(std::thread::JoinHandle::join) {
            None | Some(Ok(Ok(()))) => Ok(()),
            Some(Ok(Err(e))) => Err(io_err(&shown)(e)),
            Some(Err(_)) => Err(Error::Io {
                path: shown,
                source: std::io::Error::other("the writing thread failed"),
            }),
        }
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = self.close();
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Output::Memory(m) => m.extend_from_slice(buf),
            Output::File(s) => {
                s.pending.extend_from_slice(buf);
                if s.pending.len() >= SPOOL_CHUNK {
                    s.send_pending().map_err(std::io::Error::other)?;
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn mask_csv(
    input: Box<dyn Read + Send>,
    name: &str,
    plan_for: impl FnOnce(&[&str]) -> Result<Plan>,
    out: &mut Output,
) -> Result<u64> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .buffer_capacity(1 << 20)
        .from_reader(input);
    let header = reader.headers().map_err(csv_err(name))?.clone();
    let columns: Vec<&str> = header.iter().collect();
    let plan = plan_for(&columns)?;
    {
        let mut writer = csv::Writer::from_writer(&mut *out);
        writer.write_record(&header).map_err(csv_err(name))?;
        writer.flush().map_err(io_err(name))?;
    }
    // Every row is masked on its own and the watermark's coins and canary rows are
    // drawn from the row's and the canary's number, so chunks of rows are masked on
    // every core and written in their order, while a second thread parses the next.
    let mut embedder = plan.embedder();
    let (full_tx, full_rx) =
        std::sync::mpsc::sync_channel::<Result<(Vec<csv::StringRecord>, usize)>>(1);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<csv::StringRecord>>();
    std::thread::scope(|scope| -> Result<u64> {
        scope.spawn(move || loop {
            let mut chunk = empty_rx.try_recv().unwrap_or_default();
            let read = fill_chunk(&mut reader, &mut chunk, name);
            let last = !matches!(read, Ok(n) if n == CSV_CHUNK);
            if full_tx.send(read.map(|n| (chunk, n))).is_err() || last {
                break;
            }
        });
        for read in full_rx {
            let (chunk, filled) = read?;
            let coins = embedder.as_mut().map(|e| e.canaries_follow(filled));
            // The number of the first canary of each task: those before it, in order.
            let mut firsts = Vec::with_capacity(filled.div_ceil(CSV_TASK));
            let mut placed = embedder.as_ref().map_or(0, |e| e.canaries());
            for t in 0..filled.div_ceil(CSV_TASK) {
                firsts.push(placed);
                if let Some(coins) = &coins {
                    let end = ((t + 1) * CSV_TASK).min(filled);
                    placed += coins[t * CSV_TASK..end].iter().filter(|&&c| c).count() as u64;
                }
            }
            let marks = embedder.as_ref().zip(coins.as_deref());
            let parts = chunk[..filled]
                .par_chunks(CSV_TASK)
                .zip(firsts.par_iter())
                .enumerate()
                .map(|(t, (rows, &first))| {
                    let canaries = marks.map(|(e, coins)| Canaries {
                        embedder: e,
                        coins: &coins[t * CSV_TASK..t * CSV_TASK + rows.len()],
                        first,
                    });
                    mask_csv_task(&plan, rows, canaries, name)
                })
                .collect::<Result<Vec<Vec<u8>>>>()?;
            if let Some(e) = embedder.as_mut() {
                e.placed(placed - e.canaries());
            }
            for part in parts {
                out.push(part)?;
            }
            // The records go back to the parsing thread, their buffers reused.
            let _ = empty_tx.send(chunk);
        }
        Ok(embedder.as_ref().map_or(0, |e| e.canaries()))
    })
}

/// The watermark's part of one task: the coins of its rows and the number of the
/// first canary row it places.
#[derive(Clone, Copy)]
struct Canaries<'e, 'p> {
    embedder: &'e Embedder<'p>,
    coins: &'e [bool],
    first: u64,
}

/// Reads up to a chunk of records into `chunk` (reusing its records); how many.
fn fill_chunk(
    reader: &mut csv::Reader<Box<dyn Read + Send>>,
    chunk: &mut Vec<csv::StringRecord>,
    name: &str,
) -> Result<usize> {
    let mut filled = 0;
    while filled < CSV_CHUNK {
        if filled == chunk.len() {
            chunk.push(csv::StringRecord::new());
        }
        if !reader
            .read_record(&mut chunk[filled])
            .map_err(csv_err(name))?
        {
            break;
        }
        filled += 1;
    }
    Ok(filled)
}

/// Masks and writes some rows of a CSV file, on one core, with the canary rows that
/// follow them.
fn mask_csv_task(
    plan: &Plan,
    rows: &[csv::StringRecord],
    canaries: Option<Canaries<'_, '_>>,
    name: &str,
) -> Result<Vec<u8>> {
    let bytes: usize = rows.iter().map(|r| r.as_slice().len() + r.len() + 1).sum();
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(bytes + bytes / 8));
    let mut values = String::new();
    let mut ends: Vec<usize> = Vec::with_capacity(plan.columns().len());
    let mut next = canaries.map_or(0, |c| c.first);
    for (r, row) in rows.iter().enumerate() {
        values.clear();
        ends.clear();
        for (c, cell) in row.iter().enumerate() {
            // A null (a nulled mask) is written as an empty field.
            plan.mask_into(c, cell, &mut values);
            ends.push(values.len());
        }
        let field = |i: usize| &values[if i == 0 { 0 } else { ends[i - 1] }..ends[i]];
        writer
            .write_record((0..ends.len()).map(field))
            .map_err(csv_err(name))?;
        if let Some(c) = canaries.filter(|c| c.coins[r]) {
            // A canary row: generated values, the row before's in its other cells.
            let canary = c.embedder.canary_at(next);
            next += 1;
            writer
                .write_record((0..ends.len()).map(|i| match &canary[i] {
                    Some(generated) => generated.as_deref().unwrap_or(""),
                    None => field(i),
                }))
                .map_err(csv_err(name))?;
        }
    }
    writer.into_inner().map_err(|e| Error::Io {
        path: "-".into(),
        source: e.into_error(),
    })
}

/// A JSON scalar as the text a mask reads; arrays and objects are refused.
fn scalar(v: &Value, line: usize) -> Result<Option<String>> {
    Ok(match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => {
            return Err(Error::RequestInvalid {
                message: format!(
                    "line {line}: only strings, numbers, booleans and nulls can be masked"
                ),
            })
        }
    })
}

fn mask_jsonl(
    input: Box<dyn Read>,
    name: &str,
    plan_for: impl FnOnce(&[&str]) -> Result<Plan>,
    out: &mut Output,
) -> Result<u64> {
    let mut lines = BufReader::new(input).lines().enumerate();
    let mut first: Option<(usize, Map<String, Value>)> = None;
    let parse = |n: usize, line: std::io::Result<String>| -> Result<Option<Map<String, Value>>> {
        let line = line.map_err(io_err(name))?;
        if line.trim().is_empty() {
            return Ok(None);
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            _ => Err(Error::RequestInvalid {
                message: format!("`{name}` line {}: not a JSON object", n + 1),
            }),
        }
    };
    for (n, line) in lines.by_ref() {
        if let Some(m) = parse(n, line)? {
            first = Some((n, m));
            break;
        }
    }
    let Some((n0, first)) = first else {
        return Ok(0);
    };
    let columns: Vec<String> = first.keys().cloned().collect();
    let names: Vec<&str> = columns.iter().map(String::as_str).collect();
    let plan = plan_for(&names)?;
    let mut release: Release<'_> = plan.release();
    let mut writer = BufWriter::new(out);
    let mut push = |n: usize, object: Map<String, Value>| -> Result<()> {
        if object.len() != columns.len() || !columns.iter().all(|c| object.contains_key(c)) {
            return Err(Error::RequestInvalid {
                message: format!(
                    "`{name}` line {}: the keys differ from the first line's",
                    n + 1
                ),
            });
        }
        let texts: Vec<Option<String>> = columns
            .iter()
            .map(|c| scalar(&object[c.as_str()], n + 1))
            .collect::<Result<_>>()?;
        let cells: Vec<Option<&str>> = texts.iter().map(Option::as_deref).collect();
        release.push(&cells, &mut |row| {
            let mut m = Map::new();
            for ((c, v), plan) in columns.iter().zip(row).zip(plan.columns()) {
                // A kept number or boolean stays what it was.
                let kept = plan.mask == govdata::mask::Mask::Keep
                    && v.is_some()
                    && !object[c.as_str()].is_string();
                let value = match v {
                    _ if kept => object[c.as_str()].clone(),
                    Some(s) => Value::String(s),
                    None => Value::Null,
                };
                m.insert(c.clone(), value);
            }
            serde_json::to_writer(&mut writer, &m)
                .map_err(|e| Error::Io {
                    path: "-".into(),
                    source: e.into(),
                })
                .and_then(|()| writer.write_all(b"\n").map_err(io_err("-")))
        })
    };
    push(n0, first)?;
    for (n, line) in lines {
        if let Some(m) = parse(n, line)? {
            push(n, m)?;
        }
    }
    writer.flush().map_err(io_err("-"))?;
    Ok(release.canaries())
}

pub fn run_watermark(cmd: &WatermarkCommand) -> ExitCode {
    let WatermarkCommand::Detect(args) = cmd;
    match detect(args) {
        Ok((Some(d), recipient)) => {
            let json = serde_json::json!({
                "marked": true,
                "audit_seq": d.audit_seq(),
                "recipient": recipient,
                "votes": d.votes(),
            });
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok((None, _)) => {
            println!("{}", serde_json::json!({"marked": false}));
            ExitCode::from(1)
        }
        Err(e) => {
            fail(&e);
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn detect(args: &DetectArgs) -> Result<(Option<Detection>, Option<String>)> {
    let key = read_key(&args.keys)?.ok_or_else(|| Error::KeyNotFound {
        id: "watermark (give --key-file)".into(),
    })?;
    let format = format_of(args.format, Some(&args.file))?;
    let detector = Detector::from_bytes(&key, args.keys.suite)?;
    let inventory = crate::node::layered(
        args.config.as_ref(),
        govdata::platform::Overrides {
            inventory: args.inventory.clone(),
            ..Default::default()
        },
    )?
    .inventory
    .as_ref()
    .map(Inventory::from_file)
    .transpose()?;
    let (input, name, bar) = open_input(Some(&args.file))?;
    let mut tally = detector.tally();
    match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
            let mut record = csv::StringRecord::new();
            while reader.read_record(&mut record).map_err(csv_err(&name))? {
                record.iter().for_each(|c| tally.observe(c));
            }
        }
        Format::Jsonl => {
            for line in BufReader::new(input).lines() {
                let line = line.map_err(io_err(&name))?;
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&line) {
                    for v in m.values() {
                        if let Ok(Some(s)) = scalar(v, 0) {
                            tally.observe(&s);
                        }
                    }
                }
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let found = tally.finish();
    let recipient = match (&found, &inventory) {
        (Some(d), Some(inv)) => detector
            .recipient_among(d, inv.users().map(|u| u.id.as_str()))
            .map(str::to_owned),
        _ => None,
    };
    Ok((found, recipient))
}
