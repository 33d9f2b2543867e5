//! The masks for each type of personal information, following common government
//! practice (GB/T 35273, JR/T 0171): keep what identifies a region or an issuer, hide
//! what identifies the person. Masked characters are replaced one for one by `*`. A
//! value that is not of the expected form is masked whole, never passed through.
//!
//! Every mask appends its output to a buffer the caller owns (a column's values
//! buffer), so that masking a column allocates nothing per value; ASCII values (IDs,
//! numbers) are masked by byte slices.

use super::MASK_CHAR;
use std::sync::LazyLock;

/// A run of mask characters, pushed a slice at a time.
const STARS: &str = "****************************************************************";

/// Appends `n` mask characters.
pub(super) fn stars(n: usize, out: &mut String) {
    let mut left = n;
    while left > 0 {
        let k = left.min(STARS.len());
        out.push_str(&STARS[..k]);
        left -= k;
    }
}

/// Replaces every character of `value` by `*`.
pub(super) fn all(value: &str, out: &mut String) {
    let n = if value.is_ascii() {
        value.len()
    } else {
        value.chars().count()
    };
    stars(n, out);
}

/// The byte index of character `n` of `value` (its length past the end).
fn char_index(value: &str, n: usize) -> usize {
    value.char_indices().nth(n).map_or(value.len(), |(i, _)| i)
}

/// Keeps the first `head` and the last `tail` characters, masking those between.
/// A value no longer than `head + tail` is masked whole.
pub(super) fn keep_ends(value: &str, head: usize, tail: usize, out: &mut String) {
    let (n, start, end) = if value.is_ascii() {
        let n = value.len();
        (n, head.min(n), n.saturating_sub(tail))
    } else {
        let n = value.chars().count();
        (
            n,
            char_index(value, head),
            char_index(value, n.saturating_sub(tail)),
        )
    };
    if n <= head + tail {
        return stars(n, out);
    }
    out.push_str(&value[..start]);
    stars(n - head - tail, out);
    out.push_str(&value[end..]);
}

/// Resident ID number: an 18-character number keeps the 6-digit region code and the
/// last 4 (the sequence code and check digit, `X` included); an old 15-digit number
/// keeps the region code and the 3-digit sequence code.
pub(super) fn resident_id(value: &str, out: &mut String) {
    let b = value.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match b.len() {
        18 if digits(&b[..17]) && (b[17].is_ascii_digit() || b[17] == b'X' || b[17] == b'x') => {
            keep_ends(value, 6, 4, out)
        }
        15 if digits(b) => keep_ends(value, 6, 3, out),
        _ => all(value, out),
    }
}

/// Mobile number: 11 digits starting with `1` keep the first 3 and the last 4; an
/// international prefix `+86` or `86` is kept as it is.
pub(super) fn mobile(value: &str, out: &mut String) {
    let (prefix, number) = match value.strip_prefix("+86") {
        Some(rest) => ("+86", rest),
        None if value.len() == 13 && value.starts_with("86") => ("86", &value[2..]),
        None => ("", value),
    };
    let b = number.as_bytes();
    if b.len() == 11 && b[0] == b'1' && b.iter().all(u8::is_ascii_digit) {
        out.push_str(prefix);
        keep_ends(number, 3, 4, out);
    } else {
        all(value, out);
    }
}

/// The compound surnames (复姓) in use, so that `欧阳娜娜` keeps `欧阳`.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "太史", "端木", "上官", "司马", "东方", "独孤", "南宫", "万俟", "闻人", "夏侯", "诸葛",
    "尉迟", "公羊", "赫连", "澹台", "皇甫", "宗政", "濮阳", "公冶", "太叔", "申屠", "公孙", "慕容",
    "仲孙", "钟离", "长孙", "宇文", "司徒", "鲜于", "司空", "闾丘", "子车", "亓官", "司寇", "巫马",
    "公西", "颛孙", "壤驷", "公良", "漆雕", "乐正", "宰父", "谷梁", "拓跋", "夹谷", "轩辕", "令狐",
    "段干", "百里", "呼延", "东郭", "南门", "羊舌", "微生", "公户", "公玉", "公仪", "梁丘", "公仲",
    "公上", "公门", "公山", "公坚", "左丘", "公伯", "西门", "公祖", "第五", "公乘", "贯丘", "公皙",
    "南荣", "东里", "东宫", "仲长", "子书", "子桑", "即墨", "达奚", "褚师",
];

/// The compound surnames, sorted, for a binary search per name.
static SORTED_COMPOUND_SURNAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v = COMPOUND_SURNAMES.to_vec();
    v.sort_unstable();
    v
});

/// The first characters of the compound surnames, sorted: most names are told apart
/// from a compound surname by their first character alone.
static COMPOUND_FIRST: LazyLock<Vec<char>> = LazyLock::new(|| {
    let mut v: Vec<char> = COMPOUND_SURNAMES
        .iter()
        .filter_map(|s| s.chars().next())
        .collect();
    v.sort_unstable();
    v.dedup();
    v
});

/// Name: a Chinese name keeps its surname (a compound surname when the name has a
/// given name after it) and masks the given name; any other name keeps its first
/// character. Separators (space, `·`) are kept.
pub(super) fn name(value: &str, out: &mut String) {
    let mut chars = value.char_indices();
    let Some((_, first)) = chars.next() else {
        return;
    };
    let compound = match (chars.next(), chars.next()) {
        (Some((_, _)), Some((third, _))) if COMPOUND_FIRST.binary_search(&first).is_ok() => {
            SORTED_COMPOUND_SURNAMES
                .binary_search(&&value[..third])
                .is_ok()
        }
        _ => false,
    };
    let keep = if compound { 2 } else { 1 };
    out.push(first);
    for (i, c) in value.chars().enumerate().skip(1) {
        if i < keep || c == ' ' || c == '·' || c == '•' {
            out.push(c);
        } else {
            out.push(MASK_CHAR);
        }
    }
}

/// The level of a division of a Chinese address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    None,
    Province,
    Prefecture,
}

/// Characters that begin the part of an address below the county: a road, a street,
/// a town, a village, a house number.
const BELOW_COUNTY: &[char] = &[
    '路', '街', '道', '镇', '乡', '村', '号', '巷', '弄', '栋', '楼', '组', '室',
];

/// Where the county-level division (区, 县, 旗 or a county-level 市) of an address
/// ends, in characters; or where the prefecture ends when the address has no county.
fn district_end(chars: &[char]) -> Option<usize> {
    let is_suffix = |c: char| matches!(c, '省' | '市' | '区' | '县' | '旗' | '州' | '盟');
    let ends_with = |unit: &[char], s: &str| {
        let n = s.chars().count();
        unit.len() >= n && unit[unit.len() - n..].iter().copied().eq(s.chars())
    };
    let mut level = Level::None;
    let mut kept = None;
    let mut pos = 0;
    while pos < chars.len() {
        // The next unit ends at the first suffix character at least one character in,
        // extended over suffix characters that follow it (`广州市`, `贵州省`).
        let Some(mut end) = (pos + 1..chars.len()).find(|&i| is_suffix(chars[i])) else {
            return kept;
        };
        while end + 1 < chars.len() && is_suffix(chars[end + 1]) {
            end += 1;
        }
        let unit = &chars[pos..=end];
        if unit.iter().any(|c| BELOW_COUNTY.contains(c)) {
            return kept;
        }
        let county = if ends_with(unit, "自治区")
            || ends_with(unit, "特别行政区")
            || ends_with(unit, "省")
        {
            if level != Level::None {
                return kept;
            }
            level = Level::Province;
            false
        } else if ends_with(unit, "地区") || ends_with(unit, "州") || ends_with(unit, "盟") {
            level = Level::Prefecture;
            false
        } else if ends_with(unit, "市") {
            let county = level == Level::Prefecture;
            level = Level::Prefecture;
            county
        } else {
            true
        };
        kept = Some(end + 1);
        if county {
            return kept;
        }
        pos = end + 1;
    }
    kept
}

/// Address: keeps the province, the prefecture and the county-level division
/// (`北京市朝阳区`, `广西壮族自治区南宁市青秀区`) and masks the rest; an address in
/// which no division is found is masked whole.
pub(super) fn address(value: &str, out: &mut String) {
    let chars: Vec<char> = value.chars().collect();
    match district_end(&chars) {
        Some(end) => {
            let at = char_index(value, end);
            out.push_str(&value[..at]);
            stars(chars.len() - end, out);
        }
        None => stars(chars.len(), out),
    }
}

/// Bank card number: 12 to 19 digits (spaces between groups allowed) keep the first
/// 6 (the issuer) and the last 4.
pub(super) fn bank_card(value: &str, out: &mut String) {
    let b = value.as_bytes();
    if !b.iter().all(|&c| c.is_ascii_digit() || c == b' ') {
        return all(value, out);
    }
    let n = b.iter().filter(|c| c.is_ascii_digit()).count();
    if !(12..=19).contains(&n) {
        return all(value, out);
    }
    if n == b.len() {
        return keep_ends(value, 6, 4, out);
    }
    let mut i = 0;
    for &c in b {
        if c == b' ' {
            out.push(' ');
            continue;
        }
        i += 1;
        out.push(if i <= 6 || i > n - 4 {
            char::from(c)
        } else {
            MASK_CHAR
        });
    }
}

/// E-mail address: keeps the first character of the local part and the domain.
pub(super) fn email(value: &str, out: &mut String) {
    match value.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') =>
        {
            if local.chars().count() == 1 {
                out.push(MASK_CHAR);
            } else {
                keep_ends(local, 1, 0, out);
            }
            out.push('@');
            out.push_str(domain);
        }
        _ => all(value, out),
    }
}

/// Date of birth, and Ranger's "date: show only year": `1990-05-17`, `1990/5/17`,
/// `19900517` and `1990年5月17日` become `1990`. Anything else is masked whole.
pub(super) fn year(value: &str, out: &mut String) {
    let b = value.as_bytes();
    let year_ok = b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit);
    let rest = &value[if year_ok { 4 } else { 0 }..];
    let dated = year_ok
        && (rest.is_empty()
            || (b.len() == 8 && b.iter().all(u8::is_ascii_digit))
            || (rest.len() > 1
                && [b'-', b'/', b'.'].contains(&rest.as_bytes()[0])
                && rest[1..].bytes().all(|c| {
                    c.is_ascii_digit() || matches!(c, b'-' | b'/' | b'.' | b' ' | b':' | b'T')
                }))
            || rest.starts_with('年'));
    if dated {
        out.push_str(&value[..4]);
    } else {
        all(value, out);
    }
}

/// Licence plate: 7 or 8 characters (a new-energy plate; a `·` after the letter
/// allowed) keep the province and the letter of the issuing office and the last
/// character.
pub(super) fn licence_plate(value: &str, out: &mut String) {
    let compact = value.chars().filter(|&c| c != '·').count();
    let tail_ok = value
        .chars()
        .filter(|&c| c != '·')
        .skip(2)
        .all(|c| c.is_ascii_alphanumeric());
    if !(7..=8).contains(&compact) || !tail_ok {
        return all(value, out);
    }
    let n = value.chars().count();
    for (i, c) in value.chars().enumerate() {
        out.push(if i < 2 || i == n - 1 || c == '·' {
            c
        } else {
            MASK_CHAR
        });
    }
}

/// Appends `bytes` in lowercase hex.
pub(super) fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}
