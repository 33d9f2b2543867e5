//! Traceable watermarks (可溯源): canary rows, drawn from a keyed generator, that
//! name the recipient and the audit record of the decision that released an extract.
//!
//! **Embedding.** After each row of an extract, a keyed coin (one chance in
//! [`CANARY_RATE`]; 32 bits of a MAC drawn for each block of eight rows) decides
//! whether a canary row follows. Canary number `j` carries one byte of an 11-byte
//! payload — the low 32 bits of the audit record's sequence number, a 24-bit keyed
//! tag of the recipient, and a 32-bit keyed check of both — at position `j mod 11`: each of its personal-information cells is a plausible value
//! of the field's type (a resident ID with a valid check digit, a mobile number, a
//! bank card with a valid Luhn digit …) generated from the key, the position and the
//! byte, then masked like every other value of the column. Its other cells repeat
//! the row before it.
//!
//! **Detection.** The detector regenerates every canary value (for each type,
//! position, byte and replica, unmasked and under the masks whose output keeps
//! enough of the value to be told apart) and looks every cell of a file up in that
//! table. Each hit votes for a byte at a position; the payload is the plurality at
//! each position (ties, and bytes one vote behind, resolved by trying at most 256
//! payloads each), and it counts only when its keyed check holds. Cells vote one by
//! one, so the order of rows, dropped columns and renamed columns change nothing; a
//! sample of the rows keeps a share of the canaries, and the mark is read while the
//! sample holds a canary for each of the 11 positions (about 60 canary rows, which a
//! 10 % sample of a 15,000-row extract keeps with probability above 99 %).
//!
//! **False matches.** A file that carries no mark is read as marked only when one of
//! the at most 512 payloads tried passes the 32-bit keyed check: at most one chance
//! in 2²³ (1.2 × 10⁻⁷) per file, whatever its content, since the check is a MAC under
//! a key the file's author does not hold.

use super::{Mask, Plan, PseudonymKey, WatermarkKey};
use crate::audit::HashSuite;
use crate::error::Result;
use crate::model::PiType;
use std::collections::HashMap;
use std::fmt;
use zeroize::Zeroizing;

/// One canary row follows a row with probability 1 / `CANARY_RATE`.
pub const CANARY_RATE: u32 = 20;

/// The length of the payload in bytes: sequence (4), recipient tag (3), check (4).
const POSITIONS: usize = 11;
/// The number of distinct canaries per position and byte.
const REPLICAS: u8 = 8;

/// What a watermark names: the recipient and the audit record of the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    recipient: String,
    audit_seq: u64,
}

impl Mark {
    /// The mark of an extract released to `recipient` by the decision recorded as
    /// audit record `audit_seq`.
    pub fn new(recipient: &str, audit_seq: u64) -> Mark {
        Mark {
            recipient: recipient.to_owned(),
            audit_seq,
        }
    }
    /// The recipient (the request's principal).
    pub fn recipient(&self) -> &str {
        &self.recipient
    }
    /// The audit record's sequence number.
    pub fn audit_seq(&self) -> u64 {
        self.audit_seq
    }

    fn payload(&self, key: &WatermarkKey) -> [u8; POSITIONS] {
        let mut p = [0u8; POSITIONS];
        p[..4].copy_from_slice(&(self.audit_seq as u32).to_be_bytes());
        p[4..7].copy_from_slice(&recipient_tag(key, &self.recipient));
        let check = key.mac(&[b"C", &p[..7]]);
        p[7..].copy_from_slice(&check[..4]);
        p
    }
}

fn recipient_tag(key: &WatermarkKey, recipient: &str) -> [u8; 3] {
    let t = key.mac(&[b"R", recipient.as_bytes()]);
    [t[0], t[1], t[2]]
}

/// Places canary rows in one extract, row by row.
///
/// The coins are drawn eight rows at a time: one MAC of the block's number gives the
/// 32-bit coins of its eight rows. Canary `j` depends only on `j mod 88` (its
/// position and replica), so the 88 masked canary rows of an extract are generated
/// once, when the embedder is made.
pub struct Embedder<'a> {
    key: &'a WatermarkKey,
    payload: [u8; POSITIONS],
    table: Vec<Vec<Option<Option<String>>>>,
    block: Option<(u64, [u8; 32])>,
    rows: u64,
    canaries: u64,
}

impl fmt::Debug for Embedder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedder")
            .field("rows", &self.rows)
            .field("canaries", &self.canaries)
            .finish()
    }
}

/// The coins of one block of rows.
const COINS_PER_BLOCK: u64 = 8;

impl<'a> Embedder<'a> {
    pub(super) fn new(key: &'a WatermarkKey, mark: &Mark, plan: &'a Plan) -> Self {
        let payload = mark.payload(key);
        let table = (0..POSITIONS as u64 * u64::from(REPLICAS))
            .map(|j| {
                let position = (j % POSITIONS as u64) as u8;
                let replica = ((j / POSITIONS as u64) % u64::from(REPLICAS)) as u8;
                let byte = payload[position as usize];
                plan.columns()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        generate(key, c.pi_type, position, byte, replica)
                            .map(|raw| plan.mask_value(i, Some(&raw)))
                    })
                    .collect()
            })
            .collect();
        Embedder {
            key,
            payload,
            table,
            block: None,
            rows: 0,
            canaries: 0,
        }
    }

    /// Whether a canary row follows the next row of the extract (call once per row,
    /// in order).
    pub fn canary_follows(&mut self) -> bool {
        let row = self.rows;
        let block = row / COINS_PER_BLOCK;
        let mac = match self.block {
            Some((b, mac)) if b == block => mac,
            _ => {
                let mac = self.block_mac(block);
                self.block = Some((block, mac));
                mac
            }
        };
        self.rows += 1;
        coin_of(&mac, row)
    }

    /// [`Embedder::canary_follows`] for each of the next `n` rows, in order: the
    /// blocks of coins are drawn on all cores.
    pub fn canaries_follow(&mut self, n: usize) -> Vec<bool> {
        use rayon::prelude::*;
        let first = self.rows;
        let end = first + n as u64;
        let from = first / COINS_PER_BLOCK;
        let count = (end.div_ceil(COINS_PER_BLOCK) - from) as usize;
        let blocks: Vec<(u64, [u8; 32])> = (0..count)
            .into_par_iter()
            .with_min_len(512)
            .map(|i| {
                let b = from + i as u64;
                (b, self.block_mac(b))
            })
            .collect();
        let coins = (first..end)
            .map(|row| {
                let (_, mac) = &blocks[(row / COINS_PER_BLOCK - from) as usize];
                coin_of(mac, row)
            })
            .collect();
        self.block = blocks.last().copied();
        self.rows = end;
        coins
    }

    /// The keyed MAC that gives the coins of block `block` of the extract's rows.
    fn block_mac(&self, block: u64) -> [u8; 32] {
        self.key.mac(&[b"I", &self.payload, &block.to_be_bytes()])
    }

    /// Canary row number `j` of the extract: a generated, masked value for each
    /// personal-information column, `None` for the others (the caller repeats the
    /// previous row's value there).
    pub fn canary_at(&self, j: u64) -> &[Option<Option<String>>] {
        &self.table[(j % self.table.len() as u64) as usize]
    }

    /// The next canary row, given the (masked) row it follows: [`Embedder::canary_at`]
    /// of the number of canaries placed so far.
    pub fn canary(&mut self) -> Vec<Option<Option<String>>> {
        let j = self.canaries;
        self.canaries += 1;
        self.canary_at(j).to_vec()
    }

    /// Counts `n` canary rows placed by the caller through [`Embedder::canary_at`].
    pub fn placed(&mut self, n: u64) {
        self.canaries += n;
    }

    /// The number of canary rows placed so far.
    pub fn canaries(&self) -> u64 {
        self.canaries
    }
}

/// The coin of `row` from the MAC of its block: one chance in [`CANARY_RATE`].
fn coin_of(mac: &[u8; 32], row: u64) -> bool {
    let at = (row % COINS_PER_BLOCK) as usize * 4;
    u32::from_be_bytes([mac[at], mac[at + 1], mac[at + 2], mac[at + 3]]) < u32::MAX / CANARY_RATE
}

/// A mark read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    audit_seq: u32,
    recipient_tag: [u8; 3],
    votes: u64,
}

impl Detection {
    /// The low 32 bits of the audit record's sequence number.
    pub fn audit_seq(&self) -> u64 {
        u64::from(self.audit_seq)
    }
    /// The number of cells that voted for the payload.
    pub fn votes(&self) -> u64 {
        self.votes
    }
}

/// Reads watermarks: holds the table of every canary value under one key.
pub struct Detector {
    key: WatermarkKey,
    table: HashMap<String, (u8, u8)>,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("canary_values", &self.table.len())
            .finish()
    }
}

/// The types whose canaries are generated, and whether their masked form keeps
/// enough of the value (at least 15 bits) to be told apart from real values.
const GENERATED: &[(PiType, bool)] = &[
    (PiType::ResidentId, true),
    (PiType::Mobile, true),
    (PiType::Name, false),
    (PiType::Address, false),
    (PiType::BankCard, true),
    (PiType::Email, false),
    (PiType::DateOfBirth, false),
    (PiType::LicencePlate, true),
];

impl Detector {
    /// A detector for marks made under the caller's key (at least 32 bytes) in
    /// `suite`, which also reads pseudonymized extracts under the same key: the
    /// detector of the command line and the bindings.
    pub fn from_bytes(key: &Zeroizing<Vec<u8>>, suite: HashSuite) -> Result<Detector> {
        Ok(Detector::new(
            WatermarkKey::from_bytes(key, suite)?,
            Some(&PseudonymKey::from_bytes(key, suite)?),
        ))
    }

    /// A detector for marks made under `key`; with `pseudonyms`, it also reads marks
    /// in extracts masked with the `pseudonymize` profile under that key.
    pub fn new(key: WatermarkKey, pseudonyms: Option<&PseudonymKey>) -> Detector {
        let mut table = HashMap::new();
        for &(t, masked_distinct) in GENERATED {
            for position in 0..POSITIONS as u8 {
                for byte in 0..=255u8 {
                    for replica in 0..REPLICAS {
                        let Some(raw) = generate(&key, t, position, byte, replica) else {
                            continue;
                        };
                        if masked_distinct {
                            if let Some(m) = Mask::Type(t).apply(Some(&raw), None) {
                                table.entry(m).or_insert((position, byte));
                            }
                        }
                        if let Some(k) = pseudonyms {
                            table.entry(k.pseudonym(&raw)).or_insert((position, byte));
                        }
                        table.entry(raw).or_insert((position, byte));
                    }
                }
            }
        }
        Detector { key, table }
    }

    /// A fresh tally for one file.
    pub fn tally(&self) -> Tally<'_> {
        Tally {
            detector: self,
            votes: vec![[0u32; 256]; POSITIONS],
            hits: 0,
        }
    }

    /// Whether the recipient tag of `detection` is that of `recipient`.
    pub fn names(&self, detection: &Detection, recipient: &str) -> bool {
        recipient_tag(&self.key, recipient) == detection.recipient_tag
    }

    /// The first of `candidates` (the inventory's users, say) that the mark names.
    pub fn recipient_among<'c>(
        &self,
        detection: &Detection,
        candidates: impl IntoIterator<Item = &'c str>,
    ) -> Option<&'c str> {
        candidates.into_iter().find(|c| self.names(detection, c))
    }
}

/// The votes of one file's cells.
pub struct Tally<'d> {
    detector: &'d Detector,
    votes: Vec<[u32; 256]>,
    hits: u64,
}

impl fmt::Debug for Tally<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tally").field("hits", &self.hits).finish()
    }
}

impl Tally<'_> {
    /// Counts one cell of the file.
    pub fn observe(&mut self, cell: &str) {
        if let Some(&(p, b)) = self.detector.table.get(cell) {
            self.votes[p as usize][b as usize] += 1;
            self.hits += 1;
        }
    }

    /// The mark, if the file carries one under the detector's key.
    ///
    /// At each position the byte with the most votes is the payload's, but cells of
    /// real rows that happen to equal a masked canary add stray votes, and a position
    /// that a sample keeps one or two canaries of may see a stray byte tie with the
    /// true one. So the keyed check picks among the bytes tied for the most votes at
    /// each position, then among those at most one vote behind, trying at most
    /// [`MAX_TRIES`] payloads each time; a payload counts when it is the only one that
    /// passes the check.
    pub fn finish(&self) -> Option<Detection> {
        for slack in 0..=1u32 {
            let mut candidates: Vec<Vec<u8>> = Vec::with_capacity(POSITIONS);
            let mut tries = 1usize;
            for counts in &self.votes {
                let best = counts.iter().copied().max().unwrap_or(0);
                if best == 0 {
                    return None;
                }
                let floor = best.saturating_sub(slack).max(1);
                let bytes: Vec<u8> = (0..=255u8)
                    .filter(|&b| counts[b as usize] >= floor)
                    .collect();
                tries = tries.saturating_mul(bytes.len());
                candidates.push(bytes);
            }
            if tries > MAX_TRIES {
                return None;
            }
            let mut found = None;
            for n in 0..tries {
                let mut payload = [0u8; POSITIONS];
                let mut rest = n;
                for (p, bytes) in candidates.iter().enumerate() {
                    payload[p] = bytes[rest % bytes.len()];
                    rest /= bytes.len();
                }
                let check = self.detector.key.mac(&[b"C", &payload[..7]]);
                if check[..4] == payload[7..] {
                    if found.is_some() {
                        // Two payloads pass: the file names no one decision.
                        return None;
                    }
                    found = Some(payload);
                }
            }
            if let Some(payload) = found {
                let votes = payload
                    .iter()
                    .zip(&self.votes)
                    .map(|(&b, counts)| u64::from(counts[b as usize]))
                    .sum();
                return Some(Detection {
                    audit_seq: u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]),
                    recipient_tag: [payload[4], payload[5], payload[6]],
                    votes,
                });
            }
        }
        None
    }
}

/// The most payloads [`Tally::finish`] checks in each of its two rounds: a file
/// without the mark passes one of at most 512 checks with probability below
/// 512 / 2³² = 2⁻²³.
const MAX_TRIES: usize = 256;

const PROVINCES: &[&str] = &[
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
];
const MOBILE_PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
];
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "欧阳", "诸葛", "司马", "上官",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "辉", "鹏", "建", "文", "斌", "宇",
    "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "欣", "怡", "佳", "琳", "晨", "瑶", "婷", "雪",
];
const DISTRICTS: &[&str] = &[
    "北京市朝阳区",
    "北京市海淀区",
    "上海市浦东新区",
    "上海市徐汇区",
    "广东省广州市天河区",
    "广东省深圳市南山区",
    "浙江省杭州市西湖区",
    "江苏省南京市鼓楼区",
    "四川省成都市武侯区",
    "湖北省武汉市洪山区",
    "陕西省西安市雁塔区",
    "天津市河西区",
    "重庆市渝中区",
    "山东省济南市历下区",
    "河南省郑州市金水区",
    "福建省厦门市思明区",
];
const STREETS: &[&str] = &[
    "建国路",
    "人民路",
    "解放路",
    "中山路",
    "和平街",
    "长安街",
    "文化路",
    "新华路",
    "学院路",
    "科技路",
    "滨江大道",
    "光明街",
];
const BINS: &[&str] = &[
    "622202", "621700", "622848", "622588", "621483", "622700", "621226", "622609",
];
const DOMAINS: &[&str] = &[
    "163.com",
    "qq.com",
    "126.com",
    "sina.com",
    "example.cn",
    "gov.cn",
];
const PLATE_PROVINCES: &[char] = &[
    '京', '津', '沪', '渝', '冀', '豫', '云', '辽', '黑', '湘', '皖', '鲁', '新', '苏', '浙', '赣',
    '鄂', '桂', '甘', '晋', '蒙', '陕', '吉', '闽', '贵', '粤', '青', '藏', '川', '宁', '琼',
];
const PLATE_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";

/// `n` decimal digits drawn from `bytes`.
fn digits(bytes: &[u8], n: usize) -> String {
    bytes
        .iter()
        .take(n)
        .map(|b| char::from(b'0' + b % 10))
        .collect()
}

fn pick<T>(list: &[T], byte: u8) -> &T {
    &list[usize::from(byte) % list.len()]
}

/// The check digit of an 18-digit resident ID (GB 11643, ISO 7064 MOD 11-2).
fn id_check_digit(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// The Luhn check digit of a card number's other digits.
fn luhn_digit(body: &str) -> char {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// The canary value of type `t` for a payload byte at a position, or `None` for a
/// type that gets no generated value.
fn generate(key: &WatermarkKey, t: PiType, position: u8, byte: u8, replica: u8) -> Option<String> {
    let h = key.mac(&[b"W", t.as_str().as_bytes(), &[position, byte, replica]]);
    Some(match t {
        PiType::ResidentId => {
            let year = 1950 + u32::from(h[4]) % 55;
            let month = 1 + h[5] % 12;
            let day = 1 + h[6] % 28;
            let body = format!(
                "{}{}{year}{month:02}{day:02}{}",
                pick(PROVINCES, h[0]),
                digits(&h[1..], 4),
                digits(&h[7..], 3)
            );
            let check = id_check_digit(&body);
            format!("{body}{check}")
        }
        PiType::Mobile => format!("{}{}", pick(MOBILE_PREFIXES, h[0]), digits(&h[1..], 8)),
        PiType::Name => {
            let given = if h[1].is_multiple_of(3) { 1 } else { 2 };
            let mut s = (*pick(SURNAMES, h[0])).to_owned();
            for i in 0..given {
                s.push_str(pick::<&str>(GIVEN, h[2 + i]));
            }
            s
        }
        PiType::Address => format!(
            "{}{}{}号",
            pick(DISTRICTS, h[0]),
            pick(STREETS, h[1]),
            1 + u16::from_be_bytes([h[2], h[3]]) % 300
        ),
        PiType::BankCard => {
            let body = format!("{}{}", pick(BINS, h[0]), digits(&h[1..], 9));
            let check = luhn_digit(&body);
            format!("{body}{check}")
        }
        PiType::Email => {
            const LOCAL: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
            let len = 6 + usize::from(h[1] % 4);
            let local: String = h[2..2 + len]
                .iter()
                .map(|&b| char::from(*pick(LOCAL, b)))
                .collect();
            format!("{local}@{}", pick(DOMAINS, h[0]))
        }
        PiType::DateOfBirth => format!(
            "{}-{:02}-{:02}",
            1950 + u32::from(h[0]) % 55,
            1 + h[1] % 12,
            1 + h[2] % 28
        ),
        PiType::LicencePlate => {
            let mut s = String::new();
            s.push(*pick(PLATE_PROVINCES, h[0]));
            s.push(char::from(*pick(&PLATE_CHARS[..24], h[1])));
            for &b in &h[2..7] {
                s.push(char::from(*pick(PLATE_CHARS, b)));
            }
            s
        }
        PiType::None | PiType::FreeText => return None,
    })
}
